package controlplane

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

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

// A unit's membership is refused, naming the field, when it cannot be
// applied as the sweep saw it.
func TestInventoryUnitsValidation(t *testing.T) {
	now := timestamppb.Now()
	ok := &sirsiv1.InventoryUnit{Type: "aws_ebs_volume", Region: "us-east-1", ResourceIds: []string{"vol-1"}, Last: true, Total: 1}
	if err := validateReportInventory(&sirsiv1.ReportInventoryRequest{BatchId: "b", ObserveTime: now, Units: []*sirsiv1.InventoryUnit{ok}}); err != nil {
		t.Fatalf("valid unit refused: %v", err)
	}
	for _, tc := range []struct {
		name  string
		req   *sirsiv1.ReportInventoryRequest
		field string
	}{
		{"no observe time", &sirsiv1.ReportInventoryRequest{BatchId: "b", Units: []*sirsiv1.InventoryUnit{ok}}, "observe_time"},
		{"bad region", &sirsiv1.ReportInventoryRequest{BatchId: "b", ObserveTime: now, Units: []*sirsiv1.InventoryUnit{{Type: "aws_ebs_volume", Region: "Mars", Last: true}}}, "units[0].region"},
		{"total on a middle part", &sirsiv1.ReportInventoryRequest{BatchId: "b", ObserveTime: now, Units: []*sirsiv1.InventoryUnit{{Type: "aws_ebs_volume", Region: "us-east-1", Total: 3}}}, "units[0].total"},
		{"failed unit with ids", &sirsiv1.ReportInventoryRequest{BatchId: "b", ObserveTime: now, Units: []*sirsiv1.InventoryUnit{{Type: "aws_ebs_volume", Region: "us-east-1", Error: "denied", Last: true, ResourceIds: []string{"vol-1"}}}}, "units[0].error"},
		{"bad id", &sirsiv1.ReportInventoryRequest{BatchId: "b", ObserveTime: now, Units: []*sirsiv1.InventoryUnit{{Type: "aws_ebs_volume", Region: "us-east-1", Last: true, Total: 1, ResourceIds: []string{""}}}}, "units[0].resource_ids[0]"},
	} {
		err := validateReportInventory(tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.field)
		}
	}
}
