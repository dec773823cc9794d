package validation

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// EnumStrings lists the short lowercase names of an API enum, without the
// UNSPECIFIED value: POLICY_MODE_RECOMMEND becomes "recommend". These are
// the strings the Terraform provider exposes.
func EnumStrings(d protoreflect.EnumDescriptor) []string {
	prefix := enumPrefix(d)
	vals := d.Values()
	out := make([]string, 0, vals.Len())
	for i := 0; i < vals.Len(); i++ {
		v := vals.Get(i)
		if v.Number() == 0 {
			continue
		}
		out = append(out, strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix)))
	}
	return out
}

// ParseEnum maps a short name ("editor") to its enum number.
func ParseEnum(d protoreflect.EnumDescriptor, s string) (protoreflect.EnumNumber, error) {
	name := protoreflect.Name(enumPrefix(d) + strings.ToUpper(s))
	v := d.Values().ByName(name)
	if s == "" || v == nil || v.Number() == 0 {
		return 0, fmt.Errorf("%q is not one of %s", s, strings.Join(EnumStrings(d), ", "))
	}
	return v.Number(), nil
}

// EnumName is the short name of a value ("editor"), "" for UNSPECIFIED or
// an unknown number.
func EnumName(e protoreflect.Enum) string {
	d := e.Descriptor()
	v := d.Values().ByNumber(e.Number())
	if v == nil || v.Number() == 0 {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(string(v.Name()), enumPrefix(d)))
}

// Enum checks that e is a defined value; UNSPECIFIED is refused when
// required and accepted (as "use the default") otherwise.
func Enum(e protoreflect.Enum, required bool) error {
	d := e.Descriptor()
	n := e.Number()
	if n == 0 {
		if required {
			return fmt.Errorf("is required (one of %s)", strings.Join(EnumStrings(d), ", "))
		}
		return nil
	}
	if d.Values().ByNumber(n) == nil {
		return fmt.Errorf("%d is not one of %s", n, strings.Join(EnumStrings(d), ", "))
	}
	return nil
}

// enumPrefix is the UNSPECIFIED value's name without "UNSPECIFIED", which
// buf's STANDARD lint makes the common prefix of every value.
func enumPrefix(d protoreflect.EnumDescriptor) string {
	zero := d.Values().ByNumber(0)
	if zero == nil {
		return ""
	}
	return strings.TrimSuffix(string(zero.Name()), "UNSPECIFIED")
}
