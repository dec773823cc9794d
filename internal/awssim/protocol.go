package awssim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Protocol is an AWS wire protocol; it decides the error envelope.
type Protocol int

// The protocols the simulator speaks.
const (
	ProtoEC2      Protocol = iota // ec2query: <Response><Errors>...
	ProtoQuery                    // awsquery: <ErrorResponse><Error>...
	ProtoJSON10                   // awsJson1_0
	ProtoJSON11                   // awsJson1_1
	ProtoRESTJSON                 // restJson1 (Lambda)
	ProtoRESTXML                  // restXml (S3)
	ProtoCBOR                     // smithy-rpc-v2-cbor (CloudWatch)
)

// APIError is an AWS error answer. Status 5xx errors are reported with
// Type Receiver (query) / Server, the rest as Sender / Client.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status)
}

// Errorf builds a 400 error with the given code.
func Errorf(code, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errMalformedQuery(err error) *APIError {
	return Errorf("MalformedQueryString", "parsing the form-encoded request body: %v", err)
}

// throttleError is each service's own throttling answer: EC2 answers 503
// RequestLimitExceeded; awsquery services 400 Throttling; Lambda 429
// TooManyRequestsException (the code in its model); other JSON and CBOR
// services 400 ThrottlingException; S3 503 SlowDown.
func throttleError(service string, p Protocol) *APIError {
	if service == "lambda" {
		return &APIError{Status: http.StatusTooManyRequests, Code: "TooManyRequestsException", Message: "Rate exceeded"}
	}
	switch p {
	case ProtoEC2:
		return &APIError{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	case ProtoQuery:
		return &APIError{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"}
	case ProtoRESTXML:
		return &APIError{Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: "Please reduce your request rate."}
	}
	return &APIError{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"}
}

func serverErrorCode(p Protocol) string {
	switch p {
	case ProtoEC2:
		return "InternalError"
	case ProtoQuery, ProtoRESTXML:
		return "InternalFailure"
	}
	return "InternalServerError"
}

type ec2ErrorEnvelope struct {
	XMLName   xml.Name       `xml:"Response"`
	Errors    []ec2ErrorItem `xml:"Errors>Error"`
	RequestID string         `xml:"RequestID"`
}

type ec2ErrorItem struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type queryErrorEnvelope struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Error     queryErrorItem
	RequestID string `xml:"RequestId"`
}

type queryErrorItem struct {
	XMLName xml.Name `xml:"Error"`
	Type    string   `xml:"Type"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
}

type s3ErrorEnvelope struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

// WriteError answers with e in rc.Protocol's envelope.
func (rc *Request) WriteError(e *APIError) {
	sender := e.Status < 500
	switch rc.Protocol {
	case ProtoEC2:
		rc.WriteXML(e.Status, ec2ErrorEnvelope{Errors: []ec2ErrorItem{{Code: e.Code, Message: e.Message}}, RequestID: rc.RequestID})
	case ProtoQuery:
		typ := "Sender"
		if !sender {
			typ = "Receiver"
		}
		rc.WriteXML(e.Status, queryErrorEnvelope{Error: queryErrorItem{Type: typ, Code: e.Code, Message: e.Message}, RequestID: rc.RequestID})
	case ProtoRESTXML:
		rc.WriteXML(e.Status, s3ErrorEnvelope{Code: e.Code, Message: e.Message, RequestID: rc.RequestID, HostID: rc.RequestID})
	case ProtoRESTJSON:
		typ := "User"
		if !sender {
			typ = "Service"
		}
		rc.W.Header().Set("X-Amzn-ErrorType", e.Code)
		rc.WriteJSON(e.Status, "application/json", map[string]string{"Type": typ, "message": e.Message})
	case ProtoJSON10, ProtoJSON11:
		ct := "application/x-amz-json-1.1"
		if rc.Protocol == ProtoJSON10 {
			ct = "application/x-amz-json-1.0"
		}
		rc.W.Header().Set("X-Amzn-ErrorType", e.Code)
		rc.WriteJSON(e.Status, ct, map[string]string{"__type": e.Code, "message": e.Message})
	case ProtoCBOR:
		rc.WriteCBOR(e.Status, map[string]string{"__type": e.Code, "message": e.Message})
	}
}

// WriteXML answers with v marshalled as an XML document.
// xmlBuffers recycles the megabyte buffers of DescribeInstances pages:
// allocating and zeroing a fresh one per page cost more than writing it.
// rc.write is done with the bytes when it returns.
var xmlBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (rc *Request) WriteXML(status int, v any) {
	if fast, ok := v.(appendXMLer); ok {
		b := xmlBuffers.Get().(*bytes.Buffer)
		defer xmlBuffers.Put(b)
		b.Reset()
		b.WriteString(xml.Header)
		fast.appendXML(b)
		rc.write(status, "text/xml;charset=UTF-8", b.Bytes())
		return
	}
	body, err := xml.Marshal(v)
	if err != nil {
		rc.writeMarshalFailure(err)
		return
	}
	rc.write(status, "text/xml;charset=UTF-8", append([]byte(xml.Header), body...))
}

// WriteJSON answers with v marshalled as JSON under the given content type.
func (rc *Request) WriteJSON(status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		rc.writeMarshalFailure(err)
		return
	}
	rc.write(status, contentType, body)
}

// WriteCBOR answers with v encoded as a Smithy RPC v2 CBOR document.
func (rc *Request) WriteCBOR(status int, v any) {
	body, err := cbor.Marshal(v)
	if err != nil {
		rc.writeMarshalFailure(err)
		return
	}
	rc.WriteCBORBody(status, body)
}

// WriteCBORBody answers with a document already encoded as CBOR.
func (rc *Request) WriteCBORBody(status int, body []byte) {
	rc.W.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	rc.write(status, "application/cbor", body)
}

func (rc *Request) writeMarshalFailure(err error) {
	rc.W.Header().Set("Content-Type", "text/plain")
	rc.W.Header().Set("X-Amzn-RequestId", rc.RequestID)
	rc.W.WriteHeader(http.StatusInternalServerError)
	_, _ = fmt.Fprintf(rc.W, "awssim: encoding the response: %v", err)
	rc.wrote = true
}

func (rc *Request) write(status int, contentType string, body []byte) {
	if rc.wrote {
		return
	}
	h := rc.W.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amzn-RequestId", rc.RequestID)
	if rc.Protocol == ProtoRESTXML {
		h.Set("X-Amz-Request-Id", rc.RequestID)
	}
	rc.W.WriteHeader(status)
	_, _ = rc.W.Write(body)
	rc.wrote = true
}

// maxListIndex bounds N in Name.N parameters: no AWS API accepts more list
// members than this, and it keeps a hostile request from allocating much.
const maxListIndex = 10000

// SubForms splits the ec2query/awsquery structure list prefix.N.* into one
// url.Values per N, in ascending N, with keys relative to "prefix.N.". N must
// be a positive decimal without leading zeros, as the SDKs send it.
func SubForms(form url.Values, prefix string) ([]url.Values, *APIError) {
	byIndex := map[int]url.Values{}
	p := prefix + "."
	for key, vals := range form {
		rest, ok := strings.CutPrefix(key, p)
		if !ok {
			continue
		}
		idxStr, sub, _ := strings.Cut(rest, ".")
		idx, err := listIndex(idxStr)
		if err != nil {
			return nil, Errorf("InvalidParameterValue", "parameter %s: %v", key, err)
		}
		if sub == "" {
			return nil, Errorf("InvalidParameterValue", "parameter %s: %s.N must name a member such as %s.N.Name", key, prefix, prefix)
		}
		if byIndex[idx] == nil {
			byIndex[idx] = url.Values{}
		}
		byIndex[idx][sub] = vals
	}
	return ordered(byIndex), nil
}

// IndexedList returns the values of the scalar list prefix.1, prefix.2, ...
// in ascending index order (ec2query lists; for awsquery pass "Name.member").
func IndexedList(form url.Values, prefix string) ([]string, *APIError) {
	byIndex := map[int]string{}
	p := prefix + "."
	for key, vals := range form {
		idxStr, ok := strings.CutPrefix(key, p)
		if !ok || strings.Contains(idxStr, ".") {
			continue
		}
		idx, err := listIndex(idxStr)
		if err != nil {
			return nil, Errorf("InvalidParameterValue", "parameter %s: %v", key, err)
		}
		if len(vals) != 1 {
			return nil, Errorf("InvalidParameterValue", "parameter %s given %d times", key, len(vals))
		}
		byIndex[idx] = vals[0]
	}
	return ordered(byIndex), nil
}

func listIndex(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxListIndex || strconv.Itoa(n) != s {
		return 0, fmt.Errorf("list index %q is not an integer between 1 and %d", s, maxListIndex)
	}
	return n, nil
}

func ordered[V any](m map[int]V) []V {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]V, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

// Filter is one Name/Values filter of a Describe call.
type Filter struct {
	Name   string
	Values []string
}

// Filters parses prefix.N.Name / prefix.N.Value.M (ec2query: prefix
// "Filter"; awsquery: "Filters.member" with values under "Values.member").
func Filters(form url.Values, prefix, valuesPrefix string) ([]Filter, *APIError) {
	subs, aerr := SubForms(form, prefix)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]Filter, 0, len(subs))
	for i, sub := range subs {
		name := sub.Get("Name")
		if name == "" {
			return nil, Errorf("InvalidParameterValue", "%s.%d.Name: filter name missing", prefix, i+1)
		}
		vals, aerr := IndexedList(sub, valuesPrefix)
		if aerr != nil {
			return nil, aerr
		}
		out = append(out, Filter{Name: name, Values: vals})
	}
	return out, nil
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// TagList parses prefix.N.Key / prefix.N.Value, validating AWS's tag rules
// (key 1..128 characters, not starting with "aws:"; value up to 256).
func TagList(form url.Values, prefix string) ([]Tag, *APIError) {
	subs, aerr := SubForms(form, prefix)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]Tag, 0, len(subs))
	for i, sub := range subs {
		t := Tag{Key: sub.Get("Key"), Value: sub.Get("Value")}
		if aerr := validateTag(t, fmt.Sprintf("%s.%d", prefix, i+1)); aerr != nil {
			return nil, aerr
		}
		out = append(out, t)
	}
	return out, nil
}

func validateTag(t Tag, where string) *APIError {
	switch {
	case t.Key == "":
		return Errorf("InvalidParameterValue", "%s.Key: tag key must not be empty", where)
	case len([]rune(t.Key)) > 128:
		return Errorf("InvalidParameterValue", "%s.Key: tag key longer than 128 characters", where)
	case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
		return Errorf("InvalidParameterValue", "%s.Key: tag keys starting with 'aws:' are reserved for AWS use", where)
	case len([]rune(t.Value)) > 256:
		return Errorf("InvalidParameterValue", "%s.Value: tag value longer than 256 characters", where)
	}
	return nil
}

// OptionalInt parses an optional integer parameter within [lo, hi].
func OptionalInt(form url.Values, name string, lo, hi int) (int, bool, *APIError) {
	v := form.Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false, Errorf("InvalidParameterValue", "Value (%s) for parameter %s is invalid: not an integer", v, name)
	}
	if n < lo || n > hi {
		return 0, false, Errorf("InvalidParameterValue", "Value (%d) for parameter %s is invalid. Expecting a value between %d and %d", n, name, lo, hi)
	}
	return n, true, nil
}

// OptionalBool parses an optional "true"/"false" parameter.
func OptionalBool(form url.Values, name string) (bool, *APIError) {
	switch v := form.Get(name); v {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, Errorf("InvalidParameterValue", "Value (%s) for parameter %s is invalid: expected true or false", v, name)
	}
}
