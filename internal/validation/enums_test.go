package validation

import (
	"slices"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestEnums(t *testing.T) {
	d := sirsiv1.PolicyMode(0).Descriptor()
	if got, want := EnumStrings(d), []string{"recommend", "approve", "auto"}; !slices.Equal(got, want) {
		t.Errorf("EnumStrings = %v, want %v", got, want)
	}
	if got := EnumStrings(sirsiv1.Role(0).Descriptor()); !slices.Equal(got, []string{"admin", "editor", "viewer"}) {
		t.Errorf("roles = %v", got)
	}
	n, err := ParseEnum(sirsiv1.Role(0).Descriptor(), "editor")
	if err != nil || sirsiv1.Role(n) != sirsiv1.Role_ROLE_EDITOR {
		t.Errorf("ParseEnum(editor) = %v, %v", n, err)
	}
	for _, bad := range []string{"", "unspecified", "owner"} {
		_, err := ParseEnum(sirsiv1.Role(0).Descriptor(), bad)
		check(t, "ParseEnum", bad, err, false, "not one of admin, editor, viewer")
	}
	if got := EnumName(sirsiv1.Statistic_STATISTIC_P95); got != "p95" {
		t.Errorf("EnumName = %q", got)
	}
	if got := EnumName(sirsiv1.Statistic(99)); got != "" {
		t.Errorf("EnumName(99) = %q", got)
	}
	check(t, "Enum", "set", Enum(sirsiv1.IdleAction_IDLE_ACTION_STOP, true), true, "")
	check(t, "Enum", "unset optional", Enum(sirsiv1.Tier_TIER_UNSPECIFIED, false), true, "")
	check(t, "Enum", "unset required", Enum(sirsiv1.Role_ROLE_UNSPECIFIED, true), false, "is required (one of admin, editor, viewer)")
	check(t, "Enum", "unknown", Enum(sirsiv1.Tier(42), false), false, "42 is not one of free, standard, enterprise")
}
