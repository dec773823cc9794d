package actuator

import (
	"slices"
	"testing"
)

// TestRequiredIAMActions checks the list against the calls the actuator's
// interfaces allow today, written out by hand: if the reflection missed a
// client or named a service wrongly, the list would differ.
func TestRequiredIAMActions(t *testing.T) {
	got := RequiredIAMActions()
	for _, want := range []string{
		"cloudwatch:GetMetricData",
		"ec2:CreateTags",
		"ec2:DescribeInstanceStatus",
		"ec2:DescribeInstances",
		"ec2:ModifyInstanceAttribute",
		"ec2:ModifyVolume",
		"ec2:StartInstances",
		"ec2:StopInstances",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("RequiredIAMActions() lacks %s: %v", want, got)
		}
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("RequiredIAMActions() is not sorted and unique: %v", got)
	}
}
