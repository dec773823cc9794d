package awstest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// ValidationError lists every way a document departs from the model.
type ValidationError struct {
	Service   string
	Operation string
	Problems  []string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s %s response does not match the service model:\n  %s",
		e.Service, e.Operation, strings.Join(e.Problems, "\n  "))
}

// maxProblems bounds the report so one systematic mistake in a 1000-item page
// does not bury the message.
const maxProblems = 50

type checker struct {
	m        *Model
	problems []string
}

func (c *checker) fail(path, format string, args ...any) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, path+": "+fmt.Sprintf(format, args...))
	}
}

func (c *checker) result(op string) error {
	if len(c.problems) == 0 {
		return nil
	}
	return &ValidationError{Service: c.m.Service, Operation: op, Problems: c.problems}
}

// scalarRootOps are operations whose whole XML body is one scalar element;
// botocore special-cases them the same way (S3 GetBucketLocation answers
// <LocationConstraint>eu-west-1</LocationConstraint>).
var scalarRootOps = map[string]string{"s3.GetBucketLocation": "LocationConstraint"}

// ValidateResponse checks a successful response body of op against the
// operation's output shape, using the wire rules of the model's protocol.
func (mo *Model) ValidateResponse(op string, body []byte) error {
	o, ok := mo.ops[op]
	if !ok {
		return fmt.Errorf("validating %s response: operation %q is not in the %s model", mo.Service, op, mo.Service)
	}
	c := &checker{m: mo}
	switch mo.Protocol {
	case "ec2", "query":
		c.queryDoc(o, body)
	case "rest-xml":
		c.restXMLDoc(o, body)
	case "rest-json", "json":
		c.jsonDoc(o, body)
	case "smithy-rpc-v2-cbor":
		var v any
		if err := cborDecMode.Unmarshal(body, &v); err != nil {
			c.fail(op, "body is not CBOR: %v", err)
			break
		}
		c.decodedDoc(o, v)
	default:
		return fmt.Errorf("validating %s response: protocol %q is not supported", mo.Service, mo.Protocol)
	}
	return c.result(op)
}

// ValidateDecoded checks an already decoded CBOR (or JSON) document of a
// smithy-rpc-v2-cbor operation.
func (mo *Model) ValidateDecoded(op string, doc any) error {
	o, ok := mo.ops[op]
	if !ok {
		return fmt.Errorf("validating %s response: operation %q is not in the %s model", mo.Service, op, mo.Service)
	}
	c := &checker{m: mo}
	c.decodedDoc(o, doc)
	return c.result(op)
}

// Check validates a response for a test and reports each problem with the
// start of the offending body.
func (mo *Model) Check(t testing.TB, op string, body []byte) {
	t.Helper()
	if err := mo.ValidateResponse(op, body); err != nil {
		t.Errorf("%v\nbody (first 2000 bytes): %s", err, snippet(body))
	}
}

func snippet(b []byte) string {
	if len(b) > 2000 {
		b = b[:2000]
	}
	if !isPrint(b) {
		return fmt.Sprintf("%x", b)
	}
	return string(b)
}

func isPrint(b []byte) bool {
	for _, r := range string(b) {
		if r == 0xfffd || (r < 0x20 && r != '\n' && r != '\r' && r != '\t') {
			return false
		}
	}
	return true
}

// --- XML ---------------------------------------------------------------

type xnode struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*xnode
	text     string
}

func parseXML(body []byte) (*xnode, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []*xnode
	var root *xnode
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: tk.Name, attrs: tk.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("second root element <%s>", tk.Name.Local)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tk)
			} else if strings.TrimSpace(string(tk)) != "" {
				return nil, fmt.Errorf("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

func (c *checker) queryDoc(o *operation, body []byte) {
	root, err := parseXML(body)
	if err != nil {
		c.fail(o.Name, "body is not XML: %v", err)
		return
	}
	want := o.Name + "Response"
	if root.name.Local != want {
		c.fail(o.Name, "root element is <%s>, want <%s>", root.name.Local, want)
	}
	if c.m.Protocol == "ec2" {
		c.ec2Root(o, root)
		return
	}
	var result, meta int
	for _, ch := range root.children {
		switch {
		case o.Output != nil && ch.name.Local == o.Output.ResultWrapper:
			result++
			c.xmlValue(want+"."+ch.name.Local, c.m.shapes[o.Output.Shape], ch, "")
		case ch.name.Local == "ResponseMetadata":
			meta++
			c.responseMetadata(want+".ResponseMetadata", ch)
		default:
			c.fail(want, "unexpected element <%s>", ch.name.Local)
		}
	}
	if o.Output != nil && result != 1 {
		c.fail(want, "want exactly one <%s>, got %d", o.Output.ResultWrapper, result)
	}
	if meta != 1 {
		c.fail(want, "want exactly one <ResponseMetadata>, got %d", meta)
	}
}

func (c *checker) responseMetadata(path string, n *xnode) {
	if len(n.children) != 1 || n.children[0].name.Local != "RequestId" || strings.TrimSpace(n.children[0].text) == "" {
		c.fail(path, "want exactly one non-empty <RequestId>")
	}
}

// ec2Root checks the EC2 layout: output members directly under the root,
// plus the requestId every EC2 response carries, plus EC2's unmodeled
// <return> flag.
func (c *checker) ec2Root(o *operation, root *xnode) {
	path := root.name.Local
	var out *shape
	if o.Output != nil {
		out = c.m.shapes[o.Output.Shape]
	}
	var rest []*xnode
	var reqID int
	for _, ch := range root.children {
		switch {
		case ch.name.Local == "requestId":
			reqID++
			if strings.TrimSpace(ch.text) == "" {
				c.fail(path+".requestId", "empty")
			}
		case ch.name.Local == "return" && !c.hasElement(out, "return"):
			// EC2 adds <return>true</return> to many answers whose model
			// has no such member (AssociateAddress, ReleaseAddress, ...);
			// AWS's own examples show it.
			if ch.text != "true" && ch.text != "false" {
				c.fail(path+".return", "%q is not a boolean", ch.text)
			}
		default:
			rest = append(rest, ch)
		}
	}
	if reqID != 1 {
		c.fail(path, "want exactly one <requestId>, got %d", reqID)
	}
	if out == nil {
		for _, ch := range rest {
			c.fail(path, "unexpected element <%s>: the operation has no output", ch.name.Local)
		}
		return
	}
	c.xmlStructChildren(path, out, root.attrs, rest)
}

// hasElement reports whether structure s has a body member serialized as
// element name.
func (c *checker) hasElement(s *shape, name string) bool {
	if s == nil {
		return false
	}
	for n, mb := range s.Members {
		if mb.Location == "" && c.xmlMemberName(n, mb) == name {
			return true
		}
	}
	return false
}

func (c *checker) restXMLDoc(o *operation, body []byte) {
	var out *shape
	if o.Output != nil {
		out = c.m.shapes[o.Output.Shape]
	}
	bodyMembers := 0
	if out != nil {
		for _, mb := range out.Members {
			if mb.Location == "" {
				bodyMembers++
			}
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if out != nil {
			for _, r := range out.Required {
				if mb := out.Members[r]; mb != nil && mb.Location == "" {
					c.fail(o.Name, "empty body lacks required member %s", r)
				}
			}
		}
		return
	}
	if bodyMembers == 0 {
		c.fail(o.Name, "operation has no body members, but the body is %d bytes", len(body))
		return
	}
	root, err := parseXML(body)
	if err != nil {
		c.fail(o.Name, "body is not XML: %v", err)
		return
	}
	if name, ok := scalarRootOps[c.m.Service+"."+o.Name]; ok {
		if root.name.Local != name {
			c.fail(o.Name, "root element is <%s>, want <%s>", root.name.Local, name)
			return
		}
		if len(root.children) == 0 && strings.TrimSpace(root.text) == "" {
			return // an empty element is the null value (us-east-1's location)
		}
		mb := out.Members[name]
		c.xmlValue(name, c.m.shapes[mb.Shape], root, mb.TimestampFormat)
		return
	}
	if out.Payload != "" {
		mb := out.Members[out.Payload]
		ps := c.m.shapes[mb.Shape]
		if ps.Type != "structure" {
			return // blobs and strings are opaque payloads
		}
		if want := firstNonEmpty(mb.LocationName, ps.LocationName); want != "" && root.name.Local != want {
			c.fail(o.Name, "root element is <%s>, want <%s>", root.name.Local, want)
		}
		c.xmlValue(root.name.Local, ps, root, "")
		return
	}
	if out.LocationName != "" && root.name.Local != out.LocationName {
		c.fail(o.Name, "root element is <%s>, want <%s>", root.name.Local, out.LocationName)
	}
	c.xmlValue(root.name.Local, out, root, "")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// xmlMemberName is the element name a member is serialized under; for a
// flattened list it is the list member's name.
func (c *checker) xmlMemberName(name string, mb *member) string {
	s := c.m.shapes[mb.Shape]
	if s.Type == "list" && (s.Flattened || mb.Flattened) && s.Member.LocationName != "" {
		return s.Member.LocationName
	}
	return firstNonEmpty(mb.LocationName, name)
}

func (c *checker) xmlValue(path string, s *shape, n *xnode, tsFormat string) {
	switch s.Type {
	case "structure":
		c.xmlStructChildren(path, s, n.attrs, n.children)
	case "list":
		if s.Flattened {
			c.fail(path, "flattened list %s used as a wrapped value", s.name)
			return
		}
		c.noText(path, n)
		name := firstNonEmpty(s.Member.LocationName, "member")
		for i, ch := range n.children {
			p := fmt.Sprintf("%s.%s[%d]", path, ch.name.Local, i)
			if ch.name.Local != name {
				c.fail(p, "list item element is <%s>, want <%s>", ch.name.Local, name)
				continue
			}
			c.xmlValue(p, c.m.shapes[s.Member.Shape], ch, s.Member.TimestampFormat)
		}
	case "map":
		c.noText(path, n)
		for i, ch := range n.children {
			p := fmt.Sprintf("%s.entry[%d]", path, i)
			if ch.name.Local != "entry" {
				c.fail(p, "map entry element is <%s>, want <entry>", ch.name.Local)
				continue
			}
			c.xmlMapEntry(p, s, ch.children)
		}
	default:
		if len(n.children) > 0 {
			c.fail(path, "%s value has child element <%s>", s.Type, n.children[0].name.Local)
			return
		}
		c.scalarText(path, s, n.text, tsFormat)
	}
}

func (c *checker) noText(path string, n *xnode) {
	if strings.TrimSpace(n.text) != "" {
		c.fail(path, "unexpected text %q", strings.TrimSpace(n.text))
	}
}

func (c *checker) xmlMapEntry(path string, s *shape, kids []*xnode) {
	kn := firstNonEmpty(s.Key.LocationName, "key")
	vn := firstNonEmpty(s.Value.LocationName, "value")
	var k, v int
	for _, ch := range kids {
		switch ch.name.Local {
		case kn:
			k++
			c.xmlValue(path+"."+kn, c.m.shapes[s.Key.Shape], ch, "")
		case vn:
			v++
			c.xmlValue(path+"."+vn, c.m.shapes[s.Value.Shape], ch, "")
		default:
			c.fail(path, "unexpected element <%s> in map entry", ch.name.Local)
		}
	}
	if k != 1 || v != 1 {
		c.fail(path, "map entry wants one <%s> and one <%s>, got %d and %d", kn, vn, k, v)
	}
}

func (c *checker) xmlStructChildren(path string, s *shape, attrs []xml.Attr, kids []*xnode) {
	byElem := map[string]string{}
	byAttr := map[string]string{}
	for name, mb := range s.Members {
		switch {
		case mb.Location != "":
			// headers, status codes and URIs are not part of the body
		case mb.XMLAttribute:
			byAttr[mb.LocationName] = name
		default:
			byElem[c.xmlMemberName(name, mb)] = name
		}
	}
	seenAttr := map[string]bool{}
	for _, a := range attrs {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		full := a.Name.Local
		if a.Name.Space != "" {
			full = attrPrefix(a.Name.Space) + ":" + a.Name.Local
		}
		name, ok := byAttr[full]
		if !ok {
			name, ok = byAttr[a.Name.Local]
		}
		if !ok {
			c.fail(path, "unknown attribute %q", full)
			continue
		}
		seenAttr[name] = true
		c.scalarText(path+"@"+full, c.m.shapes[s.Members[name].Shape], a.Value, s.Members[name].TimestampFormat)
	}
	seen := map[string]int{}
	var flat = map[string][]*xnode{}
	for _, ch := range kids {
		name, ok := byElem[ch.name.Local]
		if !ok {
			c.fail(path, "unknown member <%s> (members: %s)", ch.name.Local, memberList(s))
			continue
		}
		mb := s.Members[name]
		ms := c.m.shapes[mb.Shape]
		if ms.Type == "list" && (ms.Flattened || mb.Flattened) {
			flat[name] = append(flat[name], ch)
			seen[name]++
			continue
		}
		seen[name]++
		if seen[name] > 1 {
			c.fail(path+"."+ch.name.Local, "member appears %d times", seen[name])
			continue
		}
		c.xmlValue(path+"."+ch.name.Local, ms, ch, mb.TimestampFormat)
	}
	for name, items := range flat {
		mb := s.Members[name]
		ls := c.m.shapes[mb.Shape]
		for i, it := range items {
			c.xmlValue(fmt.Sprintf("%s.%s[%d]", path, it.name.Local, i), c.m.shapes[ls.Member.Shape], it, ls.Member.TimestampFormat)
		}
	}
	for _, r := range s.Required {
		mb := s.Members[r]
		if mb == nil || mb.Location != "" {
			continue
		}
		if seen[r] == 0 && !seenAttr[r] {
			c.fail(path, "required member %s (<%s>) is missing", r, c.xmlMemberName(r, mb))
		}
	}
}

// attrPrefix maps the namespace URIs encoding/xml resolves back to the
// prefixes the models use (xsi:type on S3 grantees).
func attrPrefix(space string) string {
	if space == "http://www.w3.org/2001/XMLSchema-instance" {
		return "xsi"
	}
	return space
}

func memberList(s *shape) string {
	names := make([]string, 0, len(s.Members))
	for n := range s.Members {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) > 12 {
		return strings.Join(names[:12], ",") + ",..."
	}
	return strings.Join(names, ",")
}

func (c *checker) scalarText(path string, s *shape, text, tsFormat string) {
	switch s.Type {
	case "string":
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, text) {
			c.fail(path, "%q is not a value of enum %s %v", text, s.name, s.Enum)
		}
	case "integer", "long":
		bits := 32
		if s.Type == "long" {
			bits = 64
		}
		if _, err := strconv.ParseInt(strings.TrimSpace(text), 10, bits); err != nil {
			c.fail(path, "%q is not a %s", text, s.Type)
		}
	case "double", "float":
		if _, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err != nil {
			c.fail(path, "%q is not a %s", text, s.Type)
		}
	case "boolean":
		if text != "true" && text != "false" {
			c.fail(path, "%q is not a boolean", text)
		}
	case "timestamp":
		format := firstNonEmpty(tsFormat, s.TimestampFormat, "iso8601")
		if err := checkTimestampText(format, text); err != nil {
			c.fail(path, "%v", err)
		}
	case "blob":
		if _, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text)); err != nil {
			c.fail(path, "%q is not base64", text)
		}
	default:
		c.fail(path, "model type %q has no scalar form", s.Type)
	}
}

func checkTimestampText(format, text string) error {
	switch format {
	case "iso8601":
		if _, err := time.Parse(time.RFC3339Nano, text); err != nil {
			return fmt.Errorf("%q is not an ISO 8601 timestamp", text)
		}
	case "rfc822":
		if _, err := time.Parse(time.RFC1123, text); err != nil {
			return fmt.Errorf("%q is not an RFC 822 timestamp", text)
		}
	case "unixTimestamp":
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return fmt.Errorf("%q is not an epoch-seconds timestamp", text)
		}
	default:
		return fmt.Errorf("unknown timestamp format %q", format)
	}
	return nil
}

// --- JSON ---------------------------------------------------------------

func (c *checker) jsonDoc(o *operation, body []byte) {
	var out *shape
	if o.Output != nil {
		out = c.m.shapes[o.Output.Shape]
	}
	trimmed := bytes.TrimSpace(body)
	if out == nil {
		if len(trimmed) != 0 && string(trimmed) != "{}" {
			c.fail(o.Name, "operation has no output, but the body is %q", snippet(trimmed))
		}
		return
	}
	if out.Payload != "" {
		mb := out.Members[out.Payload]
		ps := c.m.shapes[mb.Shape]
		if ps.Type != "structure" {
			return
		}
		out = ps
	}
	if len(trimmed) == 0 {
		trimmed = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		c.fail(o.Name, "body is not JSON: %v", err)
		return
	}
	if dec.More() {
		c.fail(o.Name, "trailing data after the JSON document")
	}
	c.jsonValue(o.Name, out, v, "", true)
}

func (c *checker) decodedDoc(o *operation, v any) {
	if o.Output == nil {
		if mp, ok := v.(map[string]any); v != nil && (!ok || len(mp) != 0) {
			c.fail(o.Name, "operation has no output, but the document is %v", v)
		}
		return
	}
	c.jsonValue(o.Name, c.m.shapes[o.Output.Shape], v, "", false)
}

// jsonValue checks a decoded JSON (isJSON) or CBOR value.
func (c *checker) jsonValue(path string, s *shape, v any, tsFormat string, isJSON bool) {
	if v == nil {
		c.fail(path, "null %s", s.Type)
		return
	}
	switch s.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			c.fail(path, "want an object for structure %s, got %T", s.name, v)
			return
		}
		byKey := map[string]string{}
		for name, mb := range s.Members {
			if mb.Location != "" {
				continue
			}
			byKey[firstNonEmpty(mb.LocationName, name)] = name
			if !isJSON {
				byKey[name] = name
			}
		}
		for k, val := range obj {
			name, ok := byKey[k]
			if !ok {
				c.fail(path, "unknown member %q (members: %s)", k, memberList(s))
				continue
			}
			mb := s.Members[name]
			c.jsonValue(path+"."+k, c.m.shapes[mb.Shape], val, mb.TimestampFormat, isJSON)
		}
		for _, r := range s.Required {
			mb := s.Members[r]
			if mb == nil || mb.Location != "" {
				continue
			}
			key := r
			if isJSON {
				key = firstNonEmpty(mb.LocationName, r)
			}
			if _, ok := obj[key]; !ok {
				c.fail(path, "required member %s is missing", key)
			}
		}
	case "list":
		arr, ok := v.([]any)
		if !ok {
			c.fail(path, "want an array for list %s, got %T", s.name, v)
			return
		}
		for i, it := range arr {
			c.jsonValue(fmt.Sprintf("%s[%d]", path, i), c.m.shapes[s.Member.Shape], it, s.Member.TimestampFormat, isJSON)
		}
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			c.fail(path, "want an object for map %s, got %T", s.name, v)
			return
		}
		ks := c.m.shapes[s.Key.Shape]
		for k, val := range obj {
			if len(ks.Enum) > 0 && !slices.Contains(ks.Enum, k) {
				c.fail(path, "map key %q is not a value of enum %s", k, ks.name)
			}
			c.jsonValue(path+"["+k+"]", c.m.shapes[s.Value.Shape], val, s.Value.TimestampFormat, isJSON)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			c.fail(path, "want a string, got %T %v", v, v)
			return
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			c.fail(path, "%q is not a value of enum %s %v", str, s.name, s.Enum)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			c.fail(path, "want a boolean, got %T %v", v, v)
		}
	case "integer", "long":
		if !isInteger(v, s.Type == "integer") {
			c.fail(path, "want a %s, got %T %v", s.Type, v, v)
		}
	case "double", "float":
		if !isNumber(v) {
			c.fail(path, "want a %s, got %T %v", s.Type, v, v)
		}
	case "timestamp":
		c.jsonTimestamp(path, firstNonEmpty(tsFormat, s.TimestampFormat), v, isJSON)
	case "blob":
		if isJSON {
			str, ok := v.(string)
			if _, err := base64.StdEncoding.DecodeString(str); !ok || err != nil {
				c.fail(path, "want a base64 string for blob, got %T %v", v, v)
			}
		} else if _, ok := v.([]byte); !ok {
			c.fail(path, "want a byte string for blob, got %T", v)
		}
	default:
		c.fail(path, "model type %q is not supported", s.Type)
	}
}

func (c *checker) jsonTimestamp(path, format string, v any, isJSON bool) {
	if !isJSON {
		// Smithy RPC v2 CBOR: tag 1 around epoch seconds.
		switch tv := v.(type) {
		case time.Time:
		case cbor.Tag:
			if tv.Number != 1 || !isNumber(tv.Content) {
				c.fail(path, "want CBOR tag 1 epoch seconds, got tag %d", tv.Number)
			}
		default:
			c.fail(path, "want a CBOR tag 1 timestamp, got %T %v", v, v)
		}
		return
	}
	if format == "" || format == "unixTimestamp" {
		if !isNumber(v) {
			c.fail(path, "want epoch seconds (number), got %T %v", v, v)
		}
		return
	}
	str, ok := v.(string)
	if !ok {
		c.fail(path, "want a %s timestamp string, got %T %v", format, v, v)
		return
	}
	if err := checkTimestampText(format, str); err != nil {
		c.fail(path, "%v", err)
	}
}

func isInteger(v any, int32Range bool) bool {
	var n int64
	switch x := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return false
		}
		n = i
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt64 {
			return false
		}
		n = int64(x)
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32:
			n = rv.Int()
		case reflect.Uint8, reflect.Uint16, reflect.Uint32:
			n = int64(rv.Uint())
		default:
			return false
		}
	}
	return !int32Range || (n >= math.MinInt32 && n <= math.MaxInt32)
}

func isNumber(v any) bool {
	switch x := v.(type) {
	case json.Number:
		_, err := strconv.ParseFloat(string(x), 64)
		return err == nil
	case float64, float32:
		return true
	default:
		return isInteger(x, false)
	}
}

var cborDecMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DefaultMapType: reflect.TypeOf(map[string]any{}),
		TimeTag:        cbor.DecTagOptional,
	}.DecMode()
	if err != nil {
		panic(fmt.Sprintf("awstest: CBOR decoder options: %v", err))
	}
	return dm
}()
