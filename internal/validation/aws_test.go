package validation

import (
	"strings"
	"testing"
)

func TestAccountID(t *testing.T) {
	check(t, "AccountID", "ok", AccountID("123456789012"), true, "")
	check(t, "AccountID", "empty", AccountID(""), false, "required")
	check(t, "AccountID", "short", AccountID("12345678901"), false, "12-digit")
	check(t, "AccountID", "alpha", AccountID("12345678901a"), false, "12-digit")
	check(t, "AccountID", "long", AccountID("1234567890123"), false, "12-digit")
}

func TestRegion(t *testing.T) {
	for _, r := range []string{"us-east-1", "eu-central-2", "ap-southeast-5", "cn-north-1", "us-gov-west-1", "mx-central-1"} {
		check(t, "Region", r, Region(r), true, "")
	}
	check(t, "Region", "empty", Region(""), false, "required")
	check(t, "Region", "unknown", Region("us-east-9"), false, "not a known AWS region")
	check(t, "Region", "case", Region("US-EAST-1"), false, "not a known AWS region")
	check(t, "RegionList", "dup", RegionList([]string{"us-east-1", "us-east-1"}), false, "listed twice")
	check(t, "RegionList", "ok", RegionList([]string{"us-east-1", "eu-west-1"}), true, "")
	if got := Regions(); len(got) != len(regions) || got[0] > got[1] {
		t.Errorf("Regions() = %v", got)
	}
	check(t, "AccountIDList", "dup", AccountIDList([]string{"123456789012", "123456789012"}), false, "listed twice")
	check(t, "AccountIDList", "bad", AccountIDList([]string{"1"}), false, "12-digit")
}

func TestRoleARN(t *testing.T) {
	for _, tc := range []struct {
		in      string
		account string
		want    string
	}{
		{"arn:aws:iam::123456789012:role/SirsiAgent", "123456789012", ""},
		{"arn:aws:iam::123456789012:role/service-role/team/Sirsi+Agent=1,2.3@x-y_z", "123456789012", ""},
		{"arn:aws-cn:iam::210987654321:role/Agent", "210987654321", ""},
		{"arn:aws-us-gov:iam::210987654321:role/Agent", "210987654321", ""},
		{"", "", "required"},
		{"arn:aws:iam::123456789012:user/bob", "", "not an IAM role ARN"},
		{"arn:aws:iam::12345678901:role/x", "", "not an IAM role ARN"},
		{"arn:aws:iam:us-east-1:123456789012:role/x", "", "not an IAM role ARN"},
		{"arn:aws-foo:iam::123456789012:role/x", "", "not an IAM role ARN"},
		{"arn:aws:iam::123456789012:role/", "", "not an IAM role ARN"},
		{"arn:aws:iam::123456789012:role/" + strings.Repeat("n", 65), "", "not an IAM role ARN"},
		{"arn:aws:iam::123456789012:role/" + strings.Repeat("p", 512) + "/n", "", "at most 512"},
		{"arn:aws:iam::123456789012:role/a b", "", "not an IAM role ARN"},
	} {
		acct, err := RoleARN(tc.in)
		check(t, "RoleARN", tc.in, err, tc.want == "", tc.want)
		if acct != tc.account {
			t.Errorf("RoleARN(%q) account = %q, want %q", tc.in, acct, tc.account)
		}
	}
}

func TestExternalID(t *testing.T) {
	check(t, "ExternalID", "ok", ExternalID("sirsi-tenant:acme/prod@x=1,y+2.z_"), true, "")
	check(t, "ExternalID", "max", ExternalID(strings.Repeat("a", 1224)), true, "")
	check(t, "ExternalID", "empty", ExternalID(""), false, "required")
	check(t, "ExternalID", "short", ExternalID("a"), false, "2..1224")
	check(t, "ExternalID", "long", ExternalID(strings.Repeat("a", 1225)), false, "2..1224")
	check(t, "ExternalID", "space", ExternalID("a b"), false, "may contain only")
	check(t, "ExternalID", "star", ExternalID("ab*"), false, "may contain only")
}

func TestResourceTypesFamiliesMetrics(t *testing.T) {
	for _, r := range ResourceTypes {
		check(t, "ResourceType", r, ResourceType(r), true, "")
	}
	check(t, "ResourceType", "bad", ResourceType("aws_ec2"), false, "not a resource type")
	check(t, "ResourceTypeList", "dup", ResourceTypeList([]string{"aws_eip", "aws_eip"}), false, "listed twice")
	check(t, "ResourceTypeList", "bad", ResourceTypeList([]string{"aws_eip", "gcp_vm"}), false, "not a resource type")
	for _, f := range []string{"m5", "t4g", "c7gn", "db.r6g", "u-6tb1"} {
		check(t, "InstanceFamily", f, InstanceFamily(f), true, "")
	}
	for _, f := range []string{"", "m", "M5", "m5.large!", "db.", "5m"} {
		check(t, "InstanceFamily", f, InstanceFamily(f), false, "not an instance family")
	}
	check(t, "Metric", "ok", Metric("cpu_utilization"), true, "")
	check(t, "Metric", "bad", Metric("cpu"), false, "not a metric")
}
