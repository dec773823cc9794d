package awssim

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

func s3Client(h *harness, region string) *s3.Client {
	cfg := sdkConfig(h.url, region, h.rec)
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func TestS3Buckets(t *testing.T) {
	h := newHarnessWith(t, Options{Accounts: map[string]string{"AKIDOTHER": "210987654321"}})
	ctx := context.Background()
	east, west := s3Client(h, "us-east-1"), s3Client(h, "eu-west-1")

	if _, err := east.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs-east")}); err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "s3", "CreateBucket")
	if _, err := east.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("archive-from-global"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data.west"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}

	list, err := east.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "s3", "ListBuckets")
	var got []string
	for _, b := range list.Buckets {
		got = append(got, aws.ToString(b.Name)+"@"+aws.ToString(b.BucketRegion))
		if b.CreationDate == nil || !b.CreationDate.Equal(harnessEpoch) {
			t.Errorf("bucket %s CreationDate %v, want %v", aws.ToString(b.Name), b.CreationDate, harnessEpoch)
		}
	}
	want := []string{"archive-from-global@eu-west-1", "data.west@eu-west-1", "logs-east@us-east-1"}
	if !slices.Equal(got, want) || list.Owner == nil || len(aws.ToString(list.Owner.ID)) != 64 {
		t.Fatalf("ListBuckets = %v owner %+v, want %v", got, list.Owner, want)
	}
	page, err := east.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "s3", "ListBuckets")
	if len(page.Buckets) != 2 || page.ContinuationToken == nil {
		t.Fatalf("first page: %d buckets, token %v", len(page.Buckets), page.ContinuationToken)
	}
	page, err = east.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(2), ContinuationToken: page.ContinuationToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Buckets) != 1 || aws.ToString(page.Buckets[0].Name) != "logs-east" || page.ContinuationToken != nil {
		t.Fatalf("second page: %+v", page.Buckets)
	}

	loc, err := west.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("logs-east")})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "s3", "GetBucketLocation")
	if loc.LocationConstraint != "" {
		t.Fatalf("us-east-1 bucket location = %q, want empty", loc.LocationConstraint)
	}
	loc, err = east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("data.west")})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "s3", "GetBucketLocation")
	if loc.LocationConstraint != s3types.BucketLocationConstraintEuWest1 {
		t.Fatalf("location = %q, want eu-west-1", loc.LocationConstraint)
	}

	_, err = west.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("data.west")})
	wantAPIError(t, err, "NoSuchTagSet", http.StatusNotFound)
	h.checkLast(t, "s3", "GetBucketTagging")
	tags := []s3types.Tag{{Key: aws.String("team"), Value: aws.String("data")}, {Key: aws.String("env"), Value: aws.String("prod")}}
	if _, err := west.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("data.west"), Tagging: &s3types.Tagging{TagSet: tags}}); err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "s3", "PutBucketTagging")
	gt, err := west.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("data.west")})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "s3", "GetBucketTagging")
	if len(gt.TagSet) != 2 || aws.ToString(gt.TagSet[0].Key) != "team" || aws.ToString(gt.TagSet[1].Value) != "prod" {
		t.Fatalf("TagSet = %+v", gt.TagSet)
	}
	_, err = east.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("data.west")})
	wantAPIError(t, err, "AuthorizationHeaderMalformed", http.StatusBadRequest)
	h.checkLast(t, "s3", "GetBucketTagging")
	_, err = west.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("data.west"), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}}}})
	wantAPIError(t, err, "InvalidTag", http.StatusBadRequest)

	errCases := []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"no such bucket", func() error {
			_, err := east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("missing-bucket")})
			return err
		}, "NoSuchBucket", 404},
		{"already owned", func() error {
			_, err := west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data.west"),
				CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}})
			return err
		}, "BucketAlreadyOwnedByYou", 409},
		{"invalid name", func() error {
			_, err := east.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
			return err
		}, "InvalidBucketName", 400},
		{"ip-like name", func() error {
			_, err := east.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("192.168.5.4")})
			return err
		}, "InvalidBucketName", 400},
		{"regional endpoint without constraint", func() error {
			_, err := west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("new-west")})
			return err
		}, "IllegalLocationConstraintException", 400},
		{"other account's name", func() error {
			cfg := sdkConfig(h.url, "us-east-1", h.rec)
			cfg.Credentials = aws.NewCredentialsCache(staticCreds("AKIDOTHER"))
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs-east")})
			return err
		}, "BucketAlreadyExists", 409},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, tc.call(), tc.code, tc.status)
			h.checkLast(t, "s3", "CreateBucket")
		})
	}
	head, err := west.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("data.west")})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "s3", "HeadBucket")
	if aws.ToString(head.BucketRegion) != "eu-west-1" {
		t.Fatalf("HeadBucket region = %q", aws.ToString(head.BucketRegion))
	}
	_, err = east.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("data.west")})
	if ex, _ := h.rec.Last(); err == nil || ex.Status != http.StatusMovedPermanently || ex.RespHeader.Get("X-Amz-Bucket-Region") != "eu-west-1" {
		t.Fatalf("HeadBucket in the wrong region: err %v, status %d, region header %q", err, ex.Status, ex.RespHeader.Get("X-Amz-Bucket-Region"))
	}
	_, err = east.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("missing-bucket")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("HeadBucket of a missing bucket: %v, want NotFound", err)
	}

	// us-east-1's documented legacy: re-creating your own bucket there is a success.
	if _, err := east.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs-east")}); err != nil {
		t.Fatalf("re-creating an owned us-east-1 bucket: %v", err)
	}
	if n := len(h.sim.Buckets(h.sim.AccountID())); n != 3 {
		t.Fatalf("Buckets() = %d, want 3", n)
	}
}

type staticCreds string

func (k staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: string(k), SecretAccessKey: "secret", Source: "test"}, nil
}

// TestS3VirtualHosted sends virtual-hosted-style requests (bucket in the
// Host) by dialling the simulator for any host name.
func TestS3VirtualHosted(t *testing.T) {
	h := newHarness(t, 0)
	addr := strings.TrimPrefix(h.url, "http://")
	_, port, _ := net.SplitHostPort(addr)
	base := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	defer base.CloseIdleConnections()
	rec := &awstest.RecordingTransport{Base: base}
	cfg := sdkConfig("http://s3.sim.test:"+port, "us-east-1", rec)
	c := s3.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vhost-bucket")}); err != nil {
		t.Fatal(err)
	}
	ex, _ := rec.Last()
	if ex.Host != "vhost-bucket.s3.sim.test:"+port || ex.Path != "/" {
		t.Fatalf("SDK did not send a virtual-hosted request: host %q path %q", ex.Host, ex.Path)
	}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("vhost-bucket"),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("vhost-bucket")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TagSet) != 1 {
		t.Fatalf("TagSet = %+v", out.TagSet)
	}
	if b := h.sim.Buckets(h.sim.AccountID()); len(b) != 1 || b[0].Name != "vhost-bucket" {
		t.Fatalf("buckets = %+v", b)
	}
}

func TestS3ProtocolCanaries(t *testing.T) {
	h := newHarness(t, 0)
	c := s3Client(h, "us-east-1")
	ctx := context.Background()
	b := aws.String("canary-bucket")
	calls := []struct {
		op   string
		want canary
		call func() error
	}{
		{"CreateBucket", canary{method: "PUT", path: "/canary-bucket"}, func() error {
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b})
			return err
		}},
		{"ListBuckets", canary{method: "GET", path: "/", rawQuery: "x-id=ListBuckets"}, func() error {
			_, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}},
		{"HeadBucket", canary{method: "HEAD", path: "/canary-bucket"}, func() error {
			_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b})
			return err
		}},
		{"GetBucketLocation", canary{method: "GET", path: "/canary-bucket", rawQuery: "location"}, func() error {
			_, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b})
			return err
		}},
		{"PutBucketTagging", canary{method: "PUT", path: "/canary-bucket", rawQuery: "tagging", contentType: "application/xml"}, func() error {
			_, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}})
			return err
		}},
		{"GetBucketTagging", canary{method: "GET", path: "/canary-bucket", rawQuery: "tagging"}, func() error {
			_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
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
			if !strings.Contains(ex.Header.Get("Authorization"), "/us-east-1/s3/aws4_request") {
				t.Errorf("credential scope: %s", ex.Header.Get("Authorization"))
			}
			h.checkLast(t, "s3", call.op)
		})
	}
}

func TestS3ThroughCLI(t *testing.T) {
	h := newHarness(t, 0)
	awstest.CLI(t, h.url, "s3api", "create-bucket", "--bucket", "cli-bucket", "--region", "eu-central-1",
		"--create-bucket-configuration", "LocationConstraint=eu-central-1")
	awstest.CLI(t, h.url, "s3api", "put-bucket-tagging", "--bucket", "cli-bucket", "--region", "eu-central-1",
		"--tagging", "TagSet=[{Key=owner,Value=ops}]")
	var tags struct{ TagSet []struct{ Key, Value string } }
	if err := json.Unmarshal(awstest.CLI(t, h.url, "s3api", "get-bucket-tagging", "--bucket", "cli-bucket", "--region", "eu-central-1"), &tags); err != nil {
		t.Fatal(err)
	}
	if len(tags.TagSet) != 1 || tags.TagSet[0].Value != "ops" {
		t.Fatalf("CLI tags = %+v", tags.TagSet)
	}
	var loc struct{ LocationConstraint string }
	if err := json.Unmarshal(awstest.CLI(t, h.url, "s3api", "get-bucket-location", "--bucket", "cli-bucket"), &loc); err != nil {
		t.Fatal(err)
	}
	if loc.LocationConstraint != "eu-central-1" {
		t.Fatalf("CLI location = %q", loc.LocationConstraint)
	}
	var list struct{ Buckets []struct{ Name string } }
	if err := json.Unmarshal(awstest.CLI(t, h.url, "s3api", "list-buckets"), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Buckets) != 1 || list.Buckets[0].Name != "cli-bucket" {
		t.Fatalf("CLI buckets = %+v", list.Buckets)
	}
	res := awstest.RunCLI(t, h.url, "s3api", "get-bucket-tagging", "--bucket", "nope-bucket")
	if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "NoSuchBucket") {
		t.Fatalf("want NoSuchBucket, got exit %d: %s", res.ExitCode, res.Stderr)
	}
	if n := checkRecorded(t, h.served, "s3"); n < 4 {
		t.Fatalf("validated %d CLI responses, want at least 4", n)
	}
}

// FuzzS3Request sends arbitrary methods, paths, queries and bodies: no
// panic, and every failure is an S3 error document.
func FuzzS3Request(f *testing.F) {
	f.Add("PUT", "/fuzz-bucket", "", `<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`)
	f.Add("PUT", "/fuzz-bucket", "tagging", `<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`)
	f.Add("PUT", "/fuzz-bucket", "tagging", `<Tagging><TagSet>`)
	f.Add("GET", "/", "max-buckets=0&continuation-token=%%", "")
	f.Add("GET", "/fuzz-bucket", "location", "")
	f.Add("HEAD", "/fuzz-bucket", "", "")
	f.Add("DELETE", "/fuzz-bucket/key", "", "")
	f.Add("PUT", "/A..b", "", "<x/>trailing")
	sim, err := New(Options{Throttle: ThrottleOptions{Disabled: true}})
	if err != nil {
		f.Fatal(err)
	}
	handler := sim.Handler()
	f.Fuzz(func(t *testing.T, method, path, rawQuery, body string) {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/_sim") {
			return
		}
		u := &url.URL{Scheme: "http", Host: "127.0.0.1", Path: path, RawQuery: rawQuery}
		req := signedRequest("GET", "http://127.0.0.1/", "s3", body)
		req.Method, req.URL, req.Host = method, u, u.Host
		if method == "PUT" {
			req.Header.Set("X-Amz-Checksum-Sha256", "unverified")
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code < 400 || method == http.MethodHead {
			return // HEAD answers carry no body to check
		}
		m, err := awstest.LoadModel("s3")
		if err != nil {
			if !strings.Contains(w.Body.String(), "<Error><Code>") {
				t.Fatalf("failure without an S3 error document: %s", w.Body)
			}
			return
		}
		if _, err := m.ValidateError(w.Code, w.Header(), w.Body.Bytes()); err != nil {
			t.Fatalf("%v for %s %s?%s", err, method, path, rawQuery)
		}
	})
}
