package awssim

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

// harness is a running simulator with a recording SDK configuration, shared
// by the RDS, S3 and Lambda tests.
type harness struct {
	sim   *Sim
	url   string
	clock *ManualClock
	rec   *awstest.RecordingTransport
	// served records every exchange the simulator served, from any client.
	served *awstest.RecordingHandler
	cfg    aws.Config
}

var harnessEpoch = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC) // a Wednesday

func newHarness(t testing.TB, delay time.Duration) *harness {
	t.Helper()
	return newHarnessWith(t, Options{StateDelay: delay})
}

// newHarnessWith starts a simulator on a manual clock at harnessEpoch with
// throttling off, on top of opts.
func newHarnessWith(t testing.TB, opts Options) *harness {
	t.Helper()
	clock := NewManualClock(harnessEpoch)
	opts.Seed, opts.Clock, opts.Throttle = 7, clock, ThrottleOptions{Disabled: true}
	sim, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	// Server-side recording catches the responses of clients the test does
	// not control (the AWS CLI) for the validator.
	served := &awstest.RecordingHandler{Next: sim.Handler()}
	srv := httptest.NewServer(served)
	t.Cleanup(srv.Close)
	rec := &awstest.RecordingTransport{}
	return &harness{sim: sim, url: srv.URL, clock: clock, rec: rec, served: served, cfg: sdkConfig(srv.URL, "us-east-1", rec)}
}

func sdkConfig(endpoint, region string, rec *awstest.RecordingTransport) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDHARNESS", "secret", ""),
		HTTPClient:   rec.Client(),
		BaseEndpoint: aws.String(endpoint),
		// One attempt: a retry would hide the first answer from the test.
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// checkLast validates the last recorded response strictly against the
// botocore model: the output shape for a success, the envelope otherwise.
// It returns the error code of an error response.
func (h *harness) checkLast(t *testing.T, service, op string) string {
	t.Helper()
	ex, ok := h.rec.Last()
	if !ok || !ex.TransportOK {
		t.Fatalf("%s %s: no response recorded", service, op)
	}
	m := awstest.RequireModel(t, service)
	if ex.Status >= 400 {
		return m.CheckError(t, ex.Status, ex.RespHeader, ex.RespBody)
	}
	m.Check(t, op, ex.RespBody)
	return ""
}

// wantAPIError asserts err is an AWS API error with code and HTTP status,
// as the SDK parsed it.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %q (%v), want %q", ae.ErrorCode(), err, code)
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("%s: HTTP status = %d, want %d", code, re.HTTPStatusCode(), status)
	}
}

// canary describes what the pinned SDK must send for one operation.
type canary struct {
	method, path, contentType string
	// query/awsquery: Action and Version in the form body.
	action, version string
	// rawQuery, when set, must be contained in the URL query.
	rawQuery string
}

func (c canary) check(t *testing.T, ex awstest.Exchange) {
	t.Helper()
	if ex.Method != c.method {
		t.Errorf("method = %s, want %s", ex.Method, c.method)
	}
	if ex.Path != c.path {
		t.Errorf("path = %s, want %s", ex.Path, c.path)
	}
	if ct := ex.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.contentType) || (c.contentType == "" && ct != "") {
		t.Errorf("Content-Type = %q, want %q", ct, c.contentType)
	}
	if c.action != "" {
		form, err := url.ParseQuery(string(ex.Body))
		if err != nil {
			t.Fatalf("body is not form-encoded: %v", err)
		}
		if form.Get("Action") != c.action || form.Get("Version") != c.version {
			t.Errorf("Action/Version = %s/%s, want %s/%s", form.Get("Action"), form.Get("Version"), c.action, c.version)
		}
	}
	if c.rawQuery != "" && !strings.Contains(ex.RawQuery, c.rawQuery) {
		t.Errorf("query = %q, want it to contain %q", ex.RawQuery, c.rawQuery)
	}
	if !strings.HasPrefix(ex.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
		t.Errorf("request not SigV4-signed: %q", ex.Header.Get("Authorization"))
	}
}

// signedRequest builds a request the router accepts for service, for the
// fuzz tests that bypass the SDK.
func signedRequest(method, target, service string, body string) *http.Request {
	req, _ := http.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20260101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=00")
	return req
}

// recordedOperation names the service (botocore model name) and operation
// of a recorded simulator exchange, from its credential scope and wire
// shape; ok is false for operations outside the listed services.
func recordedOperation(ex awstest.Exchange) (service, op string, ok bool) {
	auth := ex.Header.Get("Authorization")
	_, cred, _ := strings.Cut(auth, "Credential=")
	parts := strings.Split(strings.SplitN(cred, ",", 2)[0], "/")
	if len(parts) < 4 {
		return "", "", false
	}
	switch svc := parts[3]; svc {
	case "ec2", "rds", "sts":
		form, err := url.ParseQuery(string(ex.Body))
		if err != nil {
			return "", "", false
		}
		return svc, form.Get("Action"), form.Get("Action") != ""
	case "s3":
		u, err := url.Parse(ex.URL)
		if err != nil {
			return "", "", false
		}
		op := s3Action(ex.Method, parseS3Target(&http.Request{Method: ex.Method, URL: u, Host: ex.Host}))
		return "s3", op, op != ""
	case "lambda":
		op, _, err := lambdaRoute(ex.Method, ex.Path)
		return "lambda", op, err == nil
	}
	return "", "", false
}

// checkRecorded validates every recorded response of the given services
// strictly against the botocore models.
func checkRecorded(t *testing.T, rec interface{ Exchanges() []awstest.Exchange }, services ...string) int {
	t.Helper()
	n := 0
	for _, ex := range rec.Exchanges() {
		svc, op, ok := recordedOperation(ex)
		if !ok || !ex.TransportOK || !slices.Contains(services, svc) {
			continue
		}
		m := awstest.RequireModel(t, svc)
		if ex.Status >= 400 {
			if _, err := m.ValidateError(ex.Status, ex.RespHeader, ex.RespBody); err != nil {
				t.Errorf("%s %s error: %v\nbody: %s", svc, op, err, ex.RespBody)
			}
		} else if err := m.ValidateResponse(op, ex.RespBody); err != nil {
			t.Errorf("%v", err)
		}
		n++
	}
	return n
}
