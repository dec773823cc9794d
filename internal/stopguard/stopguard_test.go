package stopguard

import (
	"strings"
	"testing"
)

func TestReason(t *testing.T) {
	cases := []struct {
		name string
		in   Instance
		want string // a part of the reason; "" = may stop
	}{
		{"plain on-demand", Instance{Tags: map[string]string{"team": "web"}, RootDeviceType: "ebs", Lifecycle: "on-demand"}, ""},
		{"unknown attributes", Instance{}, ""},
		{"ASG member", Instance{Tags: map[string]string{"aws:autoscaling:groupName": "web-asg"}}, "Auto Scaling group web-asg"},
		{"EKS node", Instance{Tags: map[string]string{"eks:cluster-name": "prod"}}, "EKS cluster prod"},
		{"EKS node group", Instance{Tags: map[string]string{"eks:nodegroup-name": "ng-1"}}, "EKS node group ng-1"},
		{"self-managed Kubernetes node", Instance{Tags: map[string]string{"kubernetes.io/cluster/k1": "owned"}}, "Kubernetes cluster k1"},
		{"ECS capacity provider", Instance{Tags: map[string]string{"AmazonECSManaged": ""}}, "ECS"},
		{"EC2 Fleet", Instance{Tags: map[string]string{"aws:ec2:fleet-id": "fleet-1"}}, "EC2 Fleet fleet-1"},
		{"EMR", Instance{Tags: map[string]string{"aws:elasticmapreduce:job-flow-id": "j-1"}}, "EMR cluster j-1"},
		{"instance store root", Instance{RootDeviceType: "instance-store"}, "instance store"},
		{"spot", Instance{Lifecycle: "spot"}, "Spot Instance"},
		{"scheduled", Instance{Lifecycle: "scheduled"}, "Scheduled Instance"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Reason(tc.in)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("Reason = %q, want one containing %q", got, tc.want)
			}
		})
	}
}
