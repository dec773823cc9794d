package controlplane

import (
	"strings"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// Discovery names attribute changes attributes.<key>; such a report must
// pass, and a malformed field name must not.
func TestChangedFieldPaths(t *testing.T) {
	req := func(fields ...string) *sirsiv1.ReportInventoryRequest {
		return &sirsiv1.ReportInventoryRequest{BatchId: "b-1", Changes: []*sirsiv1.ResourceChange{
			{ResourceId: "vol-0123456789abcdef0", Type: "aws_ebs_volume", Region: "us-east-1", ChangedFields: fields}}}
	}
	if err := validateReportInventory(req("size", "tags", "attributes.attached_to")); err != nil {
		t.Errorf("valid changed fields refused: %v", err)
	}
	for _, bad := range []string{"Size", "attributes.", "attributes.a.b", "a b"} {
		err := validateReportInventory(req(bad))
		if err == nil || !strings.Contains(err.Error(), "changes[0].changed_fields[0]") {
			t.Errorf("%q: error %v, want one naming changes[0].changed_fields[0]", bad, err)
		}
	}
}
