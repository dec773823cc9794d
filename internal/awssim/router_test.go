package awssim

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func coreSignedRequest(service, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260302/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=00")
	return req
}

func TestRoutingErrors(t *testing.T) {
	sim, err := New(Options{Clock: NewManualClock(testStart)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"unsigned", func() *http.Request {
			r := coreSignedRequest("ec2", "Action=DescribeRegions&Version=2016-11-15")
			r.Header.Del("Authorization")
			return r
		}, 403, "MissingAuthenticationToken"},
		{"unknown service", func() *http.Request { return coreSignedRequest("dynamodb", "Action=X") }, 400, "UnknownService"},
		{"unknown action", func() *http.Request { return coreSignedRequest("ec2", "Action=LaunchRocket&Version=2016-11-15") }, 400, "InvalidAction"},
		{"wrong version", func() *http.Request { return coreSignedRequest("ec2", "Action=DescribeRegions&Version=2014-01-01") }, 400, "NoSuchVersion"},
		{"no action", func() *http.Request { return coreSignedRequest("sts", "Version=2011-06-15") }, 400, "MissingAction"},
		{"bad form", func() *http.Request { return coreSignedRequest("ec2", "Action=%zz") }, 400, "MalformedQueryString"},
		{"unserved region", func() *http.Request {
			r := coreSignedRequest("ec2", "Action=DescribeRegions&Version=2016-11-15")
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260302/sa-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00")
			return r
		}, 400, "InvalidClientTokenId"},
	}
	for _, tc := range cases {
		w := httptest.NewRecorder()
		sim.Handler().ServeHTTP(w, tc.req())
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, w.Code, tc.status, w.Body)
		}
		if code := errorCode(t, w.Body.Bytes()); code != tc.code {
			t.Errorf("%s: code %q, want %q (%s)", tc.name, code, tc.code, w.Body)
		}
	}
}

// errorCode reads the code from either XML error envelope.
func errorCode(t testing.TB, body []byte) string {
	t.Helper()
	var ec2Err ec2ErrorEnvelope
	if xml.Unmarshal(body, &ec2Err) == nil && len(ec2Err.Errors) == 1 {
		return ec2Err.Errors[0].Code
	}
	var qErr queryErrorEnvelope
	if xml.Unmarshal(body, &qErr) == nil && qErr.Error.Code != "" {
		return qErr.Error.Code
	}
	var s3Err s3ErrorEnvelope
	if xml.Unmarshal(body, &s3Err) == nil && s3Err.Code != "" {
		return s3Err.Code
	}
	t.Fatalf("not an AWS XML error envelope: %s", body)
	return ""
}
