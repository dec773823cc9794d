package awstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// ValidateError checks an error response against the envelope of the
// model's protocol and returns the error code it carries. When the code is a
// modeled error, the HTTP status must be the modeled one and, for the JSON
// protocols, every body member must belong to the error shape.
func (mo *Model) ValidateError(status int, header http.Header, body []byte) (string, error) {
	if status < 400 {
		return "", fmt.Errorf("validating %s error: status %d is not an error status", mo.Service, status)
	}
	var code string
	var err error
	switch mo.Protocol {
	case "ec2":
		code, err = ec2Error(body)
	case "query":
		code, err = queryError(body)
	case "rest-xml":
		code, err = restXMLError(body)
	case "rest-json", "json":
		code, err = mo.jsonError(header, body)
	case "smithy-rpc-v2-cbor":
		code, err = cborError(header, body)
	default:
		err = fmt.Errorf("protocol %q is not supported", mo.Protocol)
	}
	if err != nil {
		return code, fmt.Errorf("validating %s error envelope: %w", mo.Service, err)
	}
	if want := mo.ErrorStatus(code); want != 0 && want != status {
		return code, fmt.Errorf("validating %s error: %s is modeled with HTTP %d, got %d", mo.Service, code, want, status)
	}
	return code, nil
}

// CheckError validates an error response for a test and returns its code.
func (mo *Model) CheckError(t testing.TB, status int, header http.Header, body []byte) string {
	t.Helper()
	code, err := mo.ValidateError(status, header, body)
	if err != nil {
		t.Errorf("%v\nbody: %s", err, snippet(body))
	}
	return code
}

func childText(n *xnode, name string) (string, int) {
	var text string
	count := 0
	for _, ch := range n.children {
		if ch.name.Local == name {
			count++
			text = ch.text
		}
	}
	return text, count
}

func requireOnly(n *xnode, allowed ...string) error {
	for _, ch := range n.children {
		found := false
		for _, a := range allowed {
			if ch.name.Local == a {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("unexpected element <%s> in <%s>", ch.name.Local, n.name.Local)
		}
	}
	return nil
}

// ec2Error: <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
func ec2Error(body []byte) (string, error) {
	root, err := parseXML(body)
	if err != nil {
		return "", fmt.Errorf("body is not XML: %w", err)
	}
	if root.name.Local != "Response" {
		return "", fmt.Errorf("root element is <%s>, want <Response>", root.name.Local)
	}
	if err := requireOnly(root, "Errors", "RequestID"); err != nil {
		return "", err
	}
	if id, n := childText(root, "RequestID"); n != 1 || id == "" {
		return "", fmt.Errorf("want one non-empty <RequestID>")
	}
	var errs *xnode
	for _, ch := range root.children {
		if ch.name.Local == "Errors" {
			errs = ch
		}
	}
	if errs == nil || len(errs.children) == 0 {
		return "", fmt.Errorf("no <Errors><Error>")
	}
	if err := requireOnly(errs, "Error"); err != nil {
		return "", err
	}
	return codeAndMessage(errs.children[0], "Code", "Message")
}

// queryError: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
func queryError(body []byte) (string, error) {
	root, err := parseXML(body)
	if err != nil {
		return "", fmt.Errorf("body is not XML: %w", err)
	}
	if root.name.Local != "ErrorResponse" {
		return "", fmt.Errorf("root element is <%s>, want <ErrorResponse>", root.name.Local)
	}
	if err := requireOnly(root, "Error", "RequestId"); err != nil {
		return "", err
	}
	if id, n := childText(root, "RequestId"); n != 1 || id == "" {
		return "", fmt.Errorf("want one non-empty <RequestId>")
	}
	var e *xnode
	for _, ch := range root.children {
		if ch.name.Local == "Error" {
			if e != nil {
				return "", fmt.Errorf("more than one <Error>")
			}
			e = ch
		}
	}
	if e == nil {
		return "", fmt.Errorf("no <Error>")
	}
	if err := requireOnly(e, "Type", "Code", "Message"); err != nil {
		return "", err
	}
	if typ, _ := childText(e, "Type"); typ != "Sender" && typ != "Receiver" {
		return "", fmt.Errorf("<Type> is %q, want Sender or Receiver", typ)
	}
	return codeAndMessage(e, "Code", "Message")
}

// restXMLError: S3's <Error><Code/><Message/>...<RequestId/><HostId/></Error>.
// S3 adds error-specific context elements (BucketName, Resource, ...), which
// are free-form by design, so only the fixed ones are checked.
func restXMLError(body []byte) (string, error) {
	root, err := parseXML(body)
	if err != nil {
		return "", fmt.Errorf("body is not XML: %w", err)
	}
	if root.name.Local != "Error" {
		return "", fmt.Errorf("root element is <%s>, want <Error>", root.name.Local)
	}
	for _, ch := range root.children {
		if len(ch.children) > 0 {
			return "", fmt.Errorf("<%s> in <Error> has child elements", ch.name.Local)
		}
	}
	if id, n := childText(root, "RequestId"); n != 1 || id == "" {
		return "", fmt.Errorf("want one non-empty <RequestId>")
	}
	return codeAndMessage(root, "Code", "Message")
}

func codeAndMessage(n *xnode, codeName, msgName string) (string, error) {
	code, nc := childText(n, codeName)
	msg, nm := childText(n, msgName)
	if nc != 1 || strings.TrimSpace(code) == "" {
		return "", fmt.Errorf("want one non-empty <%s>", codeName)
	}
	if nm != 1 || strings.TrimSpace(msg) == "" {
		return code, fmt.Errorf("want one non-empty <%s>", msgName)
	}
	return code, nil
}

// jsonError handles rest-json (code in X-Amzn-ErrorType) and JSON 1.x (code
// in __type, which may carry a namespace prefix).
func (mo *Model) jsonError(header http.Header, body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return "", fmt.Errorf("body is not a JSON object: %w", err)
	}
	code := trimCode(header.Get("X-Amzn-ErrorType"))
	if t, ok := obj["__type"].(string); ok {
		if code != "" && trimCode(t) != code {
			return code, fmt.Errorf("__type %q disagrees with X-Amzn-ErrorType %q", t, code)
		}
		code = trimCode(t)
	}
	if code == "" {
		if mo.Protocol == "rest-json" {
			return "", fmt.Errorf("no X-Amzn-ErrorType header and no __type")
		}
		return "", fmt.Errorf("no __type member")
	}
	msg := ""
	for _, k := range []string{"message", "Message", "errorMessage"} {
		if s, ok := obj[k].(string); ok {
			msg = s
		}
	}
	if strings.TrimSpace(msg) == "" {
		return code, fmt.Errorf("no message")
	}
	if es, ok := mo.errorCodes[code]; ok {
		c := &checker{m: mo}
		for k, v := range obj {
			if k == "__type" || strings.EqualFold(k, "message") {
				continue
			}
			mb, ok := es.Members[k]
			if !ok || mb.Location != "" {
				c.fail(code, "unknown member %q (members: %s)", k, memberList(es))
				continue
			}
			c.jsonValue(code+"."+k, mo.shapes[mb.Shape], v, mb.TimestampFormat, true)
		}
		if err := c.result(code); err != nil {
			return code, err
		}
	}
	return code, nil
}

// trimCode strips the "namespace#" prefix and the ":uri" suffix AWS may put
// around an error code.
func trimCode(s string) string {
	if i := strings.LastIndex(s, "#"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.Index(s, ":"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func cborError(header http.Header, body []byte) (string, error) {
	if p := header.Get("Smithy-Protocol"); p != "rpc-v2-cbor" {
		return "", fmt.Errorf("Smithy-Protocol header is %q, want rpc-v2-cbor", p)
	}
	var v any
	if err := cborDecMode.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("body is not CBOR: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("body is %T, want a map", v)
	}
	t, _ := obj["__type"].(string)
	code := trimCode(t)
	if code == "" {
		return "", fmt.Errorf("no __type")
	}
	if m, _ := obj["message"].(string); strings.TrimSpace(m) == "" {
		if m2, _ := obj["Message"].(string); strings.TrimSpace(m2) == "" {
			return code, fmt.Errorf("no message")
		}
	}
	return code, nil
}
