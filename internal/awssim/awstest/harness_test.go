package awstest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecordingTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", r.Header.Get("X-Test"))
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("got:" + string(b)))
	}))
	defer srv.Close()
	rec := &RecordingTransport{}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/p/a?x=1", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test", "v")
	resp, err := rec.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "got:hello" {
		t.Fatalf("caller saw body %q: the transport must pass the request body through", body)
	}
	ex, ok := rec.Last()
	if !ok {
		t.Fatal("nothing recorded")
	}
	if ex.Method != http.MethodPost || ex.Path != "/p/a" || ex.RawQuery != "x=1" || string(ex.Body) != "hello" || ex.Header.Get("X-Test") != "v" {
		t.Fatalf("request recorded wrongly: %+v", ex)
	}
	if ex.Status != http.StatusTeapot || string(ex.RespBody) != "got:hello" || ex.RespHeader.Get("X-Echo") != "v" {
		t.Fatalf("response recorded wrongly: %+v", ex)
	}
	rec.Reset()
	if len(rec.Exchanges()) != 0 {
		t.Fatal("Reset kept exchanges")
	}
}

func TestRecordingHandler(t *testing.T) {
	rh := &RecordingHandler{Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", string(b))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("ok"))
	})}
	srv := httptest.NewServer(rh)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/x?y=1", "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.Header.Get("X-Seen") != "payload" {
		t.Fatalf("the wrapped handler did not see the body: %q", resp.Header.Get("X-Seen"))
	}
	ex, ok := rh.Last()
	if !ok || ex.Method != http.MethodPost || ex.Path != "/x" || string(ex.Body) != "payload" || ex.Status != http.StatusCreated ||
		string(ex.RespBody) != "ok" || ex.RespHeader.Get("X-Seen") != "payload" {
		t.Fatalf("recorded %+v", ex)
	}
}

// TestMotoAndCLI starts moto and drives it with the aws CLI, which proves
// both helpers against real programs.
func TestMotoAndCLI(t *testing.T) {
	endpoint := StartMoto(t)
	CLI(t, endpoint, "s3api", "create-bucket", "--bucket", "harness-check")
	out := CLI(t, endpoint, "s3api", "list-buckets")
	var doc struct {
		Buckets []struct{ Name string }
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("aws s3api list-buckets printed non-JSON: %v: %s", err, out)
	}
	if len(doc.Buckets) != 1 || doc.Buckets[0].Name != "harness-check" {
		t.Fatalf("buckets = %+v, want [harness-check]", doc.Buckets)
	}
	res := RunCLI(t, endpoint, "s3api", "get-bucket-location", "--bucket", "no-such-bucket-here")
	if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "NoSuchBucket") {
		t.Fatalf("want NoSuchBucket failure, got exit %d: %s", res.ExitCode, res.Stderr)
	}
}
