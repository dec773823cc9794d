package provider

// Every enum attribute, in resources and data sources alike, is named by
// internal/validation from the API's own enum: the lowercase value name
// without the enum's prefix (ACTION_PLAN_STATUS_PENDING is "pending"). No
// hand-written table can then drift from the .proto file.

import (
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// enumNames lists the names a Terraform attribute of enum e accepts, for its
// OneOf validator.
func enumNames(e protoreflect.Enum) []string { return validation.EnumStrings(e.Descriptor()) }

// enumName is v's Terraform name; UNSPECIFIED (the server applied its
// default) and numbers this provider does not know read as unspecified.
func enumName(v protoreflect.Enum, unspecified string) string {
	return orDefault(validation.EnumName(v), unspecified)
}

// parseEnum maps a Terraform enum string, already checked by the schema's
// OneOf validator, to its API number; null is UNSPECIFIED (the server's
// default, or no filter in a data source).
func parseEnum(d protoreflect.EnumDescriptor, v types.String) protoreflect.EnumNumber {
	if v.IsNull() || v.IsUnknown() {
		return 0
	}
	n, err := validation.ParseEnum(d, v.ValueString())
	if err != nil {
		return 0
	}
	return n
}

// enumList lists enum e's names for a description, from the API's enum so
// that no hand-written list drifts: "`a`, `b` or `c`".
func enumList(e protoreflect.Enum) string {
	names := enumNames(e)
	for i, n := range names {
		names[i] = "`" + n + "`"
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
