// Package stopguard says which EC2 instances the agent must never stop,
// by off-hours, by the idle rule or to resize them, and why. It is the one
// home of that rule: the optimizer marks such an instance's
// recommendation with the reason's code (Recommendation.skip_reason) and
// the agent never acts on it, the policy runner leaves them out of
// off-hours firings with the reason logged, and the actuator refuses them
// on the live instance just before acting.
package stopguard

import (
	"fmt"
	"slices"
	"strings"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/resourceattr"
)

// Instance is what the rule reads of an instance: its tags and the
// attributes discovery records (resourceattr names them).
type Instance struct {
	Tags map[string]string
	// RootDeviceType is "ebs" or "instance-store"; "" when unknown.
	RootDeviceType string
	// Lifecycle is "on-demand", "spot" or "scheduled"; "" when unknown.
	Lifecycle string
}

// Guard is why an instance is never stopped: the API's code and the
// reason in words. The zero Guard means it may be stopped.
type Guard struct {
	Code   sirsiv1.SkipReason
	Detail string
}

// Applies reports whether the instance must never be stopped.
func (g Guard) Applies() bool { return g.Code != sirsiv1.SkipReason_SKIP_REASON_UNSPECIFIED }

// managerTags mark instances another system owns: it would replace,
// restart or mis-schedule an instance stopped under it.
var managerTags = []struct {
	key  string
	code sirsiv1.SkipReason
	why  string
}{
	{"aws:autoscaling:groupName", sirsiv1.SkipReason_SKIP_REASON_AUTO_SCALING_GROUP, "a member of Auto Scaling group %s: the group would replace a stopped instance (change the group's capacity instead)"},
	{"eks:cluster-name", sirsiv1.SkipReason_SKIP_REASON_EKS_NODE, "a node of EKS cluster %s: Kubernetes places pods on it and its node group would replace it"},
	{"eks:nodegroup-name", sirsiv1.SkipReason_SKIP_REASON_EKS_NODE, "a node of EKS node group %s: the node group would replace it"},
	{"aws:ec2:fleet-id", sirsiv1.SkipReason_SKIP_REASON_FLEET, "launched by EC2 Fleet %s: the fleet would replace it"},
	{"aws:ec2spot:fleet-request-id", sirsiv1.SkipReason_SKIP_REASON_FLEET, "launched by Spot Fleet request %s: the fleet would replace it"},
	{"AmazonECSManaged", sirsiv1.SkipReason_SKIP_REASON_ECS_NODE, "managed by an ECS capacity provider (AmazonECSManaged=%s): ECS places tasks on it"},
	{"aws:elasticmapreduce:job-flow-id", sirsiv1.SkipReason_SKIP_REASON_EMR_NODE, "a node of EMR cluster %s: the cluster would fail or replace it"},
}

// kubernetesClusterPrefix is the tag every Kubernetes cloud provider puts
// on its nodes (kubernetes.io/cluster/<name> = owned | shared).
const kubernetesClusterPrefix = "kubernetes.io/cluster/"

// Reason returns why the instance must never be stopped, the zero Guard
// when it may be.
func Reason(in Instance) Guard {
	for _, m := range managerTags {
		if v, ok := in.Tags[m.key]; ok {
			return Guard{m.code, fmt.Sprintf(m.why, v)}
		}
	}
	keys := make([]string, 0, len(in.Tags))
	for k := range in.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if name, ok := strings.CutPrefix(k, kubernetesClusterPrefix); ok {
			return Guard{sirsiv1.SkipReason_SKIP_REASON_KUBERNETES_NODE, fmt.Sprintf("a node of Kubernetes cluster %s (tag %s): the cluster would reschedule or replace it", name, k)}
		}
	}
	switch {
	case in.RootDeviceType == "instance-store":
		return Guard{sirsiv1.SkipReason_SKIP_REASON_INSTANCE_STORE_ROOT, "its root device is instance store: such an instance cannot be stopped, only terminated (its data would be lost)"}
	case in.Lifecycle == "spot":
		return Guard{sirsiv1.SkipReason_SKIP_REASON_SPOT, "a Spot Instance: one from a one-time request cannot be stopped, and a stopped persistent one is relaunched by its request"}
	case in.Lifecycle == "scheduled":
		return Guard{sirsiv1.SkipReason_SKIP_REASON_SCHEDULED_INSTANCE, "a Scheduled Instance: it runs in its purchased schedule and cannot be stopped"}
	}
	return Guard{}
}

// Of is the rule's view of a discovered instance.
func Of(r *sirsiv1.Resource) Instance {
	a := r.GetAttributes()
	return Instance{Tags: r.GetTags(), RootDeviceType: a[resourceattr.RootDeviceType], Lifecycle: a[resourceattr.Lifecycle]}
}
