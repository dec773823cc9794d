package stopguard

import (
	"strings"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestReason(t *testing.T) {
	cases := []struct {
		name string
		in   Instance
		code sirsiv1.SkipReason
		want string // a part of the reason; "" = may stop
	}{
		{"plain on-demand", Instance{Tags: map[string]string{"team": "web"}, RootDeviceType: "ebs", Lifecycle: "on-demand"}, 0, ""},
		{"unknown attributes", Instance{}, 0, ""},
		{"ASG member", Instance{Tags: map[string]string{"aws:autoscaling:groupName": "web-asg"}}, sirsiv1.SkipReason_SKIP_REASON_AUTO_SCALING_GROUP, "Auto Scaling group web-asg"},
		{"EKS node", Instance{Tags: map[string]string{"eks:cluster-name": "prod"}}, sirsiv1.SkipReason_SKIP_REASON_EKS_NODE, "EKS cluster prod"},
		{"EKS node group", Instance{Tags: map[string]string{"eks:nodegroup-name": "ng-1"}}, sirsiv1.SkipReason_SKIP_REASON_EKS_NODE, "EKS node group ng-1"},
		{"self-managed Kubernetes node", Instance{Tags: map[string]string{"kubernetes.io/cluster/k1": "owned"}}, sirsiv1.SkipReason_SKIP_REASON_KUBERNETES_NODE, "Kubernetes cluster k1"},
		{"ECS capacity provider", Instance{Tags: map[string]string{"AmazonECSManaged": ""}}, sirsiv1.SkipReason_SKIP_REASON_ECS_NODE, "ECS"},
		{"EC2 Fleet", Instance{Tags: map[string]string{"aws:ec2:fleet-id": "fleet-1"}}, sirsiv1.SkipReason_SKIP_REASON_FLEET, "EC2 Fleet fleet-1"},
		{"EMR", Instance{Tags: map[string]string{"aws:elasticmapreduce:job-flow-id": "j-1"}}, sirsiv1.SkipReason_SKIP_REASON_EMR_NODE, "EMR cluster j-1"},
		{"instance store root", Instance{RootDeviceType: "instance-store"}, sirsiv1.SkipReason_SKIP_REASON_INSTANCE_STORE_ROOT, "instance store"},
		{"spot", Instance{Lifecycle: "spot"}, sirsiv1.SkipReason_SKIP_REASON_SPOT, "Spot Instance"},
		{"scheduled", Instance{Lifecycle: "scheduled"}, sirsiv1.SkipReason_SKIP_REASON_SCHEDULED_INSTANCE, "Scheduled Instance"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Reason(tc.in)
			if got.Code != tc.code || (tc.want == "") != (got.Detail == "") || !strings.Contains(got.Detail, tc.want) || got.Applies() != (tc.want != "") {
				t.Fatalf("Reason = %v %q, want %v and one containing %q", got.Code, got.Detail, tc.code, tc.want)
			}
		})
	}
}
