package awssim

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

// testZip is a real deployment package (never run).
func testZip(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("index.py")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("def handler(event, context):\n    return 1\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const testRole = "arn:aws:iam::123456789012:role/lambda-exec"

func createFn(t *testing.T, h *harness, c *lambda.Client, name string, mem int32, tags map[string]string) *lambda.CreateFunctionOutput {
	t.Helper()
	out, err := c.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: lambdatypes.RuntimePython312, Role: aws.String(testRole),
		Handler: aws.String("index.handler"), Code: &lambdatypes.FunctionCode{ZipFile: testZip(t)},
		MemorySize: aws.Int32(mem), Timeout: aws.Int32(30), Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureArm64},
		Tags: tags,
	})
	if err != nil {
		t.Fatalf("CreateFunction %s: %v", name, err)
	}
	h.checkLast(t, "lambda", "CreateFunction")
	return out
}

func TestLambdaLifecycle(t *testing.T) {
	h := newHarness(t, 30*time.Second)
	c := lambda.NewFromConfig(h.cfg)
	ctx := context.Background()
	out := createFn(t, h, c, "resize-images", 1024, map[string]string{ProfileTag: "business-hours", "team": "media"})
	if out.State != lambdatypes.StatePending || aws.ToInt32(out.MemorySize) != 1024 || aws.ToString(out.FunctionArn) != "arn:aws:lambda:us-east-1:123456789012:function:resize-images" ||
		len(out.Architectures) != 1 || out.Architectures[0] != lambdatypes.ArchitectureArm64 || out.CodeSize != int64(len(testZip(t))) {
		t.Fatalf("CreateFunction output: %+v", out)
	}
	_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("resize-images"), MemorySize: aws.Int32(512)})
	wantAPIError(t, err, "ResourceConflictException", http.StatusConflict)
	h.checkLast(t, "lambda", "UpdateFunctionConfiguration")

	h.clock.Advance(30 * time.Second)
	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("resize-images")})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "lambda", "GetFunctionConfiguration")
	if cfg.State != lambdatypes.StateActive || cfg.LastUpdateStatus != lambdatypes.LastUpdateStatusSuccessful {
		t.Fatalf("after the state delay: %s/%s", cfg.State, cfg.LastUpdateStatus)
	}

	up, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(aws.ToString(cfg.FunctionArn)), MemorySize: aws.Int32(512)})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "lambda", "UpdateFunctionConfiguration")
	if up.LastUpdateStatus != lambdatypes.LastUpdateStatusInProgress || aws.ToInt32(up.MemorySize) != 512 || aws.ToString(up.RevisionId) == aws.ToString(cfg.RevisionId) {
		t.Fatalf("update output: status %s memory %d revision %s", up.LastUpdateStatus, aws.ToInt32(up.MemorySize), aws.ToString(up.RevisionId))
	}
	_, err = c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("resize-images"), Timeout: aws.Int32(10)})
	wantAPIError(t, err, "ResourceConflictException", http.StatusConflict)
	h.clock.Advance(30 * time.Second)
	cfg, err = c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("123456789012:function:resize-images")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LastUpdateStatus != lambdatypes.LastUpdateStatusSuccessful || aws.ToInt32(cfg.MemorySize) != 512 {
		t.Fatalf("after the update: %s memory %d", cfg.LastUpdateStatus, aws.ToInt32(cfg.MemorySize))
	}

	fns := h.sim.Functions(h.sim.AccountID(), "us-east-1")
	if len(fns) != 1 || fns[0].Profile != ProfileBusinessHours || fns[0].MemoryMiB != 512 {
		t.Fatalf("Functions() = %+v", fns)
	}
	if fns[0].Seed != resourceSeed(7, "resize-images") {
		t.Fatalf("function seed %d is not the per-resource seed CloudWatch derives", fns[0].Seed)
	}
	var trail []string
	for _, e := range h.sim.Events(h.sim.AccountID()) {
		if e.Service == "lambda" {
			trail = append(trail, string(e.Kind)+":"+e.State+":"+e.Type+":"+e.Time.Sub(harnessEpoch).String()+":"+strings.Repeat("m", e.MemoryMiB/512))
		}
	}
	want := []string{"created:Pending:arm64:0s:mm", "state:Active:arm64:30s:mm", "modified:Active:arm64:1m0s:m"}
	if !slices.Equal(trail, want) {
		t.Fatalf("history %v, want %v", trail, want)
	}

	tags, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: cfg.FunctionArn})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "lambda", "ListTags")
	if tags.Tags["team"] != "media" || len(tags.Tags) != 2 {
		t.Fatalf("tags = %v", tags.Tags)
	}
	if _, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: cfg.FunctionArn, Tags: map[string]string{ProfileTag: "idle"}}); err != nil {
		t.Fatal(err)
	}
	if fns := h.sim.Functions(h.sim.AccountID(), "us-east-1"); fns[0].Profile != ProfileIdle {
		t.Fatalf("TagResource did not update the profile: %q", fns[0].Profile)
	}
	got, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("resize-images")})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "lambda", "GetFunction")
	if aws.ToInt32(got.Configuration.MemorySize) != 512 || got.Tags[ProfileTag] != "idle" {
		t.Fatalf("GetFunction = %+v", got)
	}
}

func TestLambdaListAndErrors(t *testing.T) {
	h := newHarness(t, 0)
	c := lambda.NewFromConfig(h.cfg)
	ctx := context.Background()
	var want []string
	for _, n := range []string{"fn-c", "fn-a", "fn-e", "fn-b", "fn-d"} {
		createFn(t, h, c, n, 128, nil)
	}
	want = []string{"fn-a", "fn-b", "fn-c", "fn-d", "fn-e"}
	var got []string
	pages := 0
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h.checkLast(t, "lambda", "ListFunctions")
		pages++
		for _, f := range out.Functions {
			got = append(got, aws.ToString(f.FunctionName))
		}
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("pages %d functions %v, want 3 pages of %v", pages, got, want)
	}

	zipBytes := testZip(t)
	base := func() *lambda.CreateFunctionInput {
		return &lambda.CreateFunctionInput{FunctionName: aws.String("fn-new"), Runtime: lambdatypes.RuntimeNodejs22x, Role: aws.String(testRole),
			Handler: aws.String("index.handler"), Code: &lambdatypes.FunctionCode{ZipFile: zipBytes}}
	}
	cases := []struct {
		name   string
		mutate func(*lambda.CreateFunctionInput)
		code   string
		status int
	}{
		{"duplicate", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("fn-a") }, "ResourceConflictException", 409},
		{"memory above Lambda's limit", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(10241) }, "InvalidParameterValueException", 400},
		{"memory below the model minimum", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(64) }, "ValidationException", 400},
		{"timeout", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) }, "InvalidParameterValueException", 400},
		{"deprecated runtime", func(in *lambda.CreateFunctionInput) { in.Runtime = lambdatypes.RuntimePython27 }, "InvalidParameterValueException", 400},
		{"not a zip", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = []byte("plain text") }, "InvalidParameterValueException", 400},
		{"bad role", func(in *lambda.CreateFunctionInput) { in.Role = aws.String("lambda-exec") }, "ValidationException", 400},
		{"bad name", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("has space") }, "ValidationException", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.mutate(in)
			_, err := c.CreateFunction(ctx, in)
			wantAPIError(t, err, tc.code, tc.status)
			h.checkLast(t, "lambda", "CreateFunction")
		})
	}
	_, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("ghost")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	var nf *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("SDK did not map to ResourceNotFoundException: %T", err)
	}
	h.checkLast(t, "lambda", "GetFunctionConfiguration")
	_, err = c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("arn:aws:lambda:eu-west-1:123456789012:function:fn-a")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	_, err = c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn-a"), MemorySize: aws.Int32(20000)})
	wantAPIError(t, err, "InvalidParameterValueException", http.StatusBadRequest)
	h.checkLast(t, "lambda", "UpdateFunctionConfiguration")
	ex, _ := h.rec.Last()
	if ex.RespHeader.Get("X-Amzn-ErrorType") != "InvalidParameterValueException" {
		t.Fatalf("X-Amzn-ErrorType = %q", ex.RespHeader.Get("X-Amzn-ErrorType"))
	}
}

func TestLambdaProtocolCanaries(t *testing.T) {
	h := newHarness(t, 0)
	c := lambda.NewFromConfig(h.cfg)
	ctx := context.Background()
	arn := "arn:aws:lambda:us-east-1:123456789012:function:canary-fn"
	calls := []struct {
		op   string
		want canary
		call func() error
	}{
		{"CreateFunction", canary{method: "POST", path: "/2015-03-31/functions", contentType: "application/json"}, func() error {
			_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("canary-fn"), Runtime: lambdatypes.RuntimeNodejs20x,
				Role: aws.String(testRole), Handler: aws.String("i.h"), Code: &lambdatypes.FunctionCode{ZipFile: testZip(t)}})
			return err
		}},
		{"ListFunctions", canary{method: "GET", path: "/2015-03-31/functions", rawQuery: "MaxItems=5"}, func() error {
			_, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(5)})
			return err
		}},
		{"GetFunctionConfiguration", canary{method: "GET", path: "/2015-03-31/functions/canary-fn/configuration"}, func() error {
			_, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("canary-fn")})
			return err
		}},
		{"UpdateFunctionConfiguration", canary{method: "PUT", path: "/2015-03-31/functions/canary-fn/configuration", contentType: "application/json"}, func() error {
			_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("canary-fn"), MemorySize: aws.Int32(256)})
			return err
		}},
		{"ListTags", canary{method: "GET", path: "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Acanary-fn"}, func() error {
			_, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String(arn)})
			return err
		}},
		{"UntagResource", canary{method: "DELETE", path: "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Acanary-fn", rawQuery: "tagKeys=a&tagKeys=b"}, func() error {
			_, err := c.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: []string{"a", "b"}})
			return err
		}},
		{"GetFunction", canary{method: "GET", path: "/2015-03-31/functions/canary-fn"}, func() error {
			_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("canary-fn")})
			return err
		}},
		{"DeleteFunction", canary{method: "DELETE", path: "/2015-03-31/functions/canary-fn"}, func() error {
			_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("canary-fn")})
			return err
		}},
	}
	for _, call := range calls {
		t.Run(call.op, func(t *testing.T) {
			h.rec.Reset()
			if err := call.call(); err != nil {
				t.Fatal(err)
			}
			ex, _ := h.rec.Last()
			call.want.check(t, ex)
			h.checkLast(t, "lambda", call.op)
		})
	}
}

func TestLambdaThroughCLI(t *testing.T) {
	h := newHarness(t, 0)
	zipPath := filepath.Join(t.TempDir(), "fn.zip")
	if err := os.WriteFile(zipPath, testZip(t), 0o600); err != nil {
		t.Fatal(err)
	}
	awstest.CLI(t, h.url, "lambda", "create-function", "--function-name", "cli-fn", "--runtime", "python3.12",
		"--role", testRole, "--handler", "index.handler", "--zip-file", "fileb://"+zipPath, "--memory-size", "256")
	awstest.CLI(t, h.url, "lambda", "update-function-configuration", "--function-name", "cli-fn", "--memory-size", "2048")
	var cfg struct {
		MemorySize       int
		LastUpdateStatus string
	}
	if err := json.Unmarshal(awstest.CLI(t, h.url, "lambda", "get-function-configuration", "--function-name", "cli-fn"), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.MemorySize != 2048 || cfg.LastUpdateStatus != "Successful" {
		t.Fatalf("CLI configuration = %+v", cfg)
	}
	var list struct {
		Functions []struct{ FunctionName string }
	}
	if err := json.Unmarshal(awstest.CLI(t, h.url, "lambda", "list-functions"), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Functions) != 1 || list.Functions[0].FunctionName != "cli-fn" {
		t.Fatalf("CLI functions = %+v", list.Functions)
	}
	res := awstest.RunCLI(t, h.url, "lambda", "get-function-configuration", "--function-name", "nope")
	if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "ResourceNotFoundException") {
		t.Fatalf("want ResourceNotFoundException, got exit %d: %s", res.ExitCode, res.Stderr)
	}
	if n := checkRecorded(t, h.served, "lambda"); n < 4 {
		t.Fatalf("validated %d CLI responses, want at least 4", n)
	}
}

// FuzzLambdaRequest: arbitrary methods, paths and JSON bodies never panic
// and every failure is a Lambda JSON error with X-Amzn-ErrorType.
func FuzzLambdaRequest(f *testing.F) {
	f.Add("POST", "/2015-03-31/functions", `{"FunctionName":"f","Runtime":"python3.12","Role":"arn:aws:iam::123456789012:role/r","Handler":"h","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`)
	f.Add("POST", "/2015-03-31/functions", `{"FunctionName":"f","MemorySize":"big"}`)
	f.Add("PUT", "/2015-03-31/functions/f/configuration", `{"MemorySize":99999}`)
	f.Add("GET", "/2015-03-31/functions/", "")
	f.Add("GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af%3A%24LATEST/configuration", "")
	f.Add("GET", "/2017-03-31/tags/%zz", "")
	f.Add("POST", "/2017-03-31/tags/arn:aws:lambda:us-east-1:123456789012:function:f", `{"Tags":{"aws:x":"y"}}`)
	sim, err := New(Options{Throttle: ThrottleOptions{Disabled: true}})
	if err != nil {
		f.Fatal(err)
	}
	handler := sim.Handler()
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/_sim") || strings.ContainsAny(path, "?#") {
			return
		}
		req := signedRequest("GET", "http://127.0.0.1/", "lambda", body)
		req.Method = method
		req.URL.RawPath, req.URL.Path = path, path
		if p, err := url.PathUnescape(path); err == nil {
			req.URL.Path = p
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code < 400 {
			return
		}
		if w.Header().Get("X-Amzn-ErrorType") == "" {
			t.Fatalf("error without X-Amzn-ErrorType: %d %s", w.Code, w.Body)
		}
		m, err := awstest.LoadModel("lambda")
		if err != nil {
			return
		}
		if _, err := m.ValidateError(w.Code, w.Header(), w.Body.Bytes()); err != nil {
			t.Fatalf("%v for %s %s", err, method, path)
		}
	})
}

// Throttled Lambda calls answer 429 TooManyRequestsException, the error
// Lambda's model declares, not the generic ThrottlingException.
func TestLambdaThrottleError(t *testing.T) {
	h := newHarness(t, 0)
	c := lambda.NewFromConfig(h.cfg, func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	if err := h.sim.SetFaults(FaultConfig{ThrottleRatio: 1, Services: []string{"lambda"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	wantAPIError(t, err, "TooManyRequestsException", http.StatusTooManyRequests)
	if code := h.checkLast(t, "lambda", "ListFunctions"); code != "TooManyRequestsException" {
		t.Fatalf("model check of the error envelope gave code %q", code)
	}
	var tooMany *lambdatypes.TooManyRequestsException
	if !errors.As(err, &tooMany) {
		t.Fatalf("error %v does not decode as the modeled TooManyRequestsException", err)
	}
}

func TestLambdaUntagResource(t *testing.T) {
	h := newHarness(t, 0)
	c := lambda.NewFromConfig(h.cfg)
	ctx := context.Background()
	out := createFn(t, h, c, "thumbs", 512, map[string]string{ProfileTag: "idle", "team": "media", "env": "prod"})
	// A key the function lacks is ignored.
	if _, err := c.UntagResource(ctx, &lambda.UntagResourceInput{Resource: out.FunctionArn, TagKeys: []string{ProfileTag, "team", "absent"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	tags, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: out.FunctionArn})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"env": "prod"}
	if !maps.Equal(tags.Tags, want) {
		t.Fatalf("tags after UntagResource = %v, want %v", tags.Tags, want)
	}
	if got := lastTags(t, h.sim, "thumbs"); !maps.Equal(got, want) {
		t.Errorf("change event tags = %v, want %v", got, want)
	}
	if p := h.sim.Functions(h.sim.AccountID(), "us-east-1")[0].Profile; p != "" {
		t.Errorf("profile after removing its tag = %q, want the default", p)
	}
	_, err = c.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String("arn:aws:lambda:us-east-1:123456789012:function:missing"), TagKeys: []string{"env"}})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	h.checkLast(t, "lambda", "UntagResource")
}

// TestLambdaDeleteFunction: the function is gone at once, by name and by
// ARN, for every call, with a deletion event; deleting it again, or only
// its $LATEST, is refused with Lambda's codes.
func TestLambdaDeleteFunction(t *testing.T) {
	h := newHarness(t, 0)
	c := lambda.NewFromConfig(h.cfg)
	ctx := context.Background()
	out := createFn(t, h, c, "thumbs", 512, nil)
	createFn(t, h, c, "keep", 256, nil)

	_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("thumbs"), Qualifier: aws.String("$LATEST")})
	wantAPIError(t, err, "InvalidParameterValueException", http.StatusBadRequest)
	h.checkLast(t, "lambda", "DeleteFunction")
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: out.FunctionArn}); err != nil {
		t.Fatalf("DeleteFunction by ARN: %v", err)
	}
	h.checkLast(t, "lambda", "DeleteFunction")
	_, err = c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("thumbs")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	h.checkLast(t, "lambda", "GetFunctionConfiguration")
	_, err = c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("thumbs"), MemorySize: aws.Int32(256)})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("thumbs")})
	wantAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
	h.checkLast(t, "lambda", "DeleteFunction")
	fns := h.sim.Functions(h.sim.AccountID(), "us-east-1")
	if len(fns) != 1 || fns[0].Name != "keep" {
		t.Fatalf("functions after the delete: %+v, want keep alone", fns)
	}
	var last EventKind
	for _, e := range h.sim.Events(h.sim.AccountID()) {
		if e.ResourceID == "thumbs" {
			last = e.Kind
		}
	}
	if last != EventDeleted {
		t.Fatalf("last event of thumbs is %q, want %q", last, EventDeleted)
	}
}
