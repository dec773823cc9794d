package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestRawStringAttribute(t *testing.T) {
	ctx := context.Background()
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"name": tftypes.String, "n": tftypes.Number}}
	obj := func(name tftypes.Value) tftypes.Value {
		return tftypes.NewValue(typ, map[string]tftypes.Value{"name": name, "n": tfInt(1)})
	}

	got, diags := rawStringAttribute(ctx, obj(tfString("web")), "name")
	if diags.HasError() || got.ValueString() != "web" {
		t.Errorf("known: got %v %v, want web", got, diags)
	}
	got, diags = rawStringAttribute(ctx, obj(tftypes.NewValue(tftypes.String, nil)), "name")
	if diags.HasError() || !got.IsNull() {
		t.Errorf("null: got %v %v, want null", got, diags)
	}
	got, diags = rawStringAttribute(ctx, obj(tftypes.NewValue(tftypes.String, tftypes.UnknownValue)), "name")
	if diags.HasError() || !got.IsUnknown() {
		t.Errorf("unknown: got %v %v, want unknown", got, diags)
	}
	for name, tc := range map[string]struct {
		obj  tftypes.Value
		attr string
	}{
		"missing attribute": {obj(tfString("web")), "nope"},
		"not a string":      {obj(tfString("web")), "n"},
		"null object":       {tftypes.NewValue(typ, nil), "name"},
		"unknown object":    {tftypes.NewValue(typ, tftypes.UnknownValue), "name"},
	} {
		if _, diags := rawStringAttribute(ctx, tc.obj, tc.attr); !diags.HasError() {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestTfCollectionsNullWhenEmpty(t *testing.T) {
	if v := tfStringSet(nil); !v.IsNull() || !v.Type().Equal(tfStringSetType) {
		t.Errorf("empty set = %v, want a null set of strings", v)
	}
	if v := tfStringMap(map[string]string{}); !v.IsNull() || !v.Type().Equal(tfStringMapType) {
		t.Errorf("empty map = %v, want a null map of strings", v)
	}
	want := tftypes.NewValue(tfStringSetType, []tftypes.Value{tfString("a"), tfString("b")})
	if v := tfStringSet([]string{"a", "b"}); !v.Equal(want) {
		t.Errorf("set = %v, want %v", v, want)
	}
	wantMap := tftypes.NewValue(tfStringMapType, map[string]tftypes.Value{"k": tfString("v")})
	if v := tfStringMap(map[string]string{"k": "v"}); !v.Equal(wantMap) {
		t.Errorf("map = %v, want %v", v, wantMap)
	}
	if v := tfOptionalString(""); !v.IsNull() {
		t.Errorf(`tfOptionalString("") = %v, want null`, v)
	}
}
