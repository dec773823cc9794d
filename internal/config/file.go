package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// applyFile reads an HCL file such as
//
//	data_dir   = "/var/lib/agentd"
//	log_level  = "info"
//	tls {
//	  cert_file = "/etc/agentd/server.crt"
//	  key_file  = "/etc/agentd/server.key"
//	}
//
// The schema comes from the fields table, so HCL itself reports an unknown
// attribute or block with its file and line.
func applyFile[T sourced](c T, table []*field[T], path string) []error {
	parser := hclparse.NewParser()
	file, diags := parser.ParseHCLFile(path)
	if diags.HasErrors() {
		return []error{fmt.Errorf("reading config file: %w", diags)}
	}
	return applyBody(c, table, file.Body)
}

// ParseFile parses HCL source as if read from filename and returns the
// configuration it describes over the defaults, validated. It exists so the
// parser can be fuzzed and tested without touching disk.
func ParseFile(filename string, src []byte) (*Server, error) {
	parser := hclparse.NewParser()
	file, diags := parser.ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, fmt.Errorf("reading config file: %w", diags)
	}
	c := Defaults()
	c.sources = map[string]Source{}
	if err := errors.Join(applyBody(&c, fields, file.Body)...); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func applyBody[T sourced](c T, table []*field[T], body hcl.Body) []error {
	top, blocks := schemas(table)
	content, diags := body.Content(top)
	if diags.HasErrors() {
		return []error{fmt.Errorf("reading config file: %w", diags)}
	}
	var errs []error
	errs = append(errs, applyAttrs(c, table, "", content.Attributes)...)
	seen := map[string]hcl.Range{}
	for _, b := range content.Blocks {
		if first, dup := seen[b.Type]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate %q block (the first is at %s)", rangeName(b.DefRange), b.Type, rangeName(first)))
			continue
		}
		seen[b.Type] = b.DefRange
		inner, diags := b.Body.Content(blocks[b.Type])
		if diags.HasErrors() {
			errs = append(errs, fmt.Errorf("reading config file: %w", diags))
			continue
		}
		errs = append(errs, applyAttrs(c, table, b.Type+".", inner.Attributes)...)
	}
	return errs
}

func applyAttrs[T sourced](c T, table []*field[T], prefix string, attrs hcl.Attributes) []error {
	ordered := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		ordered = append(ordered, a)
	}
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].NameRange.Start.Byte < ordered[j].NameRange.Start.Byte })
	var errs []error
	for _, attr := range ordered {
		f := fieldByName(table, prefix+attr.Name)
		src := Source{Kind: FromFile, Name: rangeName(attr.NameRange)}
		raw, err := attrText(attr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w (from %s)", f.name, err, src))
			continue
		}
		if err := apply(c, f, raw, src); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// attrText turns an attribute into the same text a flag or environment
// variable would carry, so one parser per setting serves all sources. Lists
// become comma-separated.
func attrText(attr *hcl.Attribute) (string, error) {
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return "", fmt.Errorf("evaluating the value: %w", diags)
	}
	if v.IsNull() {
		return "", errors.New("must not be null")
	}
	ty := v.Type()
	if ty.IsListType() || ty.IsTupleType() || ty.IsSetType() {
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			_, el := it.Element()
			s, err := scalarText(el)
			if err != nil {
				return "", err
			}
			if strings.Contains(s, ",") {
				return "", fmt.Errorf("list element %q must not contain a comma", s)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	}
	return scalarText(v)
}

func scalarText(v cty.Value) (string, error) {
	if v.IsNull() {
		return "", errors.New("must not be null")
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", fmt.Errorf("must be a string, number or boolean, not %s", v.Type().FriendlyName())
	}
	return s.AsString(), nil
}

func rangeName(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

// schemas derives the HCL schema from the fields table: "x" is a top-level
// attribute, "b.x" an attribute of block b.
func schemas[T any](table []*field[T]) (*hcl.BodySchema, map[string]*hcl.BodySchema) {
	top := &hcl.BodySchema{}
	blocks := map[string]*hcl.BodySchema{}
	for _, f := range table {
		block, attr, nested := strings.Cut(f.name, ".")
		if !nested {
			top.Attributes = append(top.Attributes, hcl.AttributeSchema{Name: f.name})
			continue
		}
		if blocks[block] == nil {
			blocks[block] = &hcl.BodySchema{}
			top.Blocks = append(top.Blocks, hcl.BlockHeaderSchema{Type: block})
		}
		blocks[block].Attributes = append(blocks[block].Attributes, hcl.AttributeSchema{Name: attr})
	}
	return top, blocks
}
