package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Helpers for reading and building Terraform values directly, for the
// paths that run for every resource of every plan (Read, ValidateConfig,
// ModifyPlan). The framework's GetAttribute walks the schema and copies its
// attribute map at each step, and State.Set reflects over the model and
// compiles a regular expression per struct field; on a refresh of 500
// policies that was a fifth of the provider's CPU (docs/benchmarks.md).

// rawStringAttribute reads the top-level string attribute name of an object
// value (a configuration, plan or state), as null or unknown when it is.
func rawStringAttribute(ctx context.Context, obj tftypes.Value, name string) (types.String, diag.Diagnostics) {
	var diags diag.Diagnostics
	v, err := rawAttribute(obj, name)
	if err != nil {
		diags.AddAttributeError(path.Root(name), "Unexpected value", err.Error())
		return types.StringNull(), diags
	}
	s, err := types.StringType.ValueFromTerraform(ctx, v)
	if err != nil {
		diags.AddAttributeError(path.Root(name), "Unexpected value", fmt.Sprintf("reading %s: %s", name, err))
		return types.StringNull(), diags
	}
	return s.(types.String), diags
}

// rawAttribute returns the top-level attribute name of a known object value.
func rawAttribute(obj tftypes.Value, name string) (tftypes.Value, error) {
	if !obj.IsKnown() || obj.IsNull() {
		return tftypes.Value{}, fmt.Errorf("reading %s: the object is null or unknown", name)
	}
	got, _, err := tftypes.WalkAttributePath(obj, tftypes.NewAttributePath().WithAttributeName(name))
	if err != nil {
		return tftypes.Value{}, fmt.Errorf("reading %s: %w", name, err)
	}
	v, ok := got.(tftypes.Value)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("reading %s: got %T, not a value", name, got)
	}
	return v, nil
}

func tfString(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

// tfOptionalString is null for "", as optionalString.
func tfOptionalString(s string) tftypes.Value {
	if s == "" {
		return tftypes.NewValue(tftypes.String, nil)
	}
	return tfString(s)
}

func tfInt(n int64) tftypes.Value { return tftypes.NewValue(tftypes.Number, n) }

func tfFloat(f float64) tftypes.Value { return tftypes.NewValue(tftypes.Number, f) }

func tfBool(b bool) tftypes.Value { return tftypes.NewValue(tftypes.Bool, b) }

var (
	tfStringSetType = tftypes.Set{ElementType: tftypes.String}
	tfStringMapType = tftypes.Map{ElementType: tftypes.String}
)

// tfStringSet is null for no values, as stringSetOrNull.
func tfStringSet(values []string) tftypes.Value {
	if len(values) == 0 {
		return tftypes.NewValue(tfStringSetType, nil)
	}
	elems := make([]tftypes.Value, len(values))
	for i, v := range values {
		elems[i] = tfString(v)
	}
	return tftypes.NewValue(tfStringSetType, elems)
}

// tfStringMap is null for no entries, as stringMapOrNull.
func tfStringMap(values map[string]string) tftypes.Value {
	if len(values) == 0 {
		return tftypes.NewValue(tfStringMapType, nil)
	}
	elems := make(map[string]tftypes.Value, len(values))
	for k, v := range values {
		elems[k] = tfString(v)
	}
	return tftypes.NewValue(tfStringMapType, elems)
}
