package awssim

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsquota"
)

const s3XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

func init() {
	registerService(serviceDef{name: "s3", protocol: ProtoRESTXML, handle: (*Sim).serveS3, throttle: s3Bucket})
}

// s3Bucket is S3's published per-prefix request rate.
func s3Bucket(_ *Request, action string) BucketSpec { return awsquota.S3(action) }

// Bucket is an S3 bucket. Bucket names are global across the simulator, as
// they are across an AWS partition. Guarded by Sim.mu.
type Bucket struct {
	Name    string
	Region  string
	Account string
	Created time.Time
	// Tags is nil when the bucket has no tag set (GetBucketTagging answers
	// NoSuchTagSet).
	Tags []Tag
	// SizeBytes is the bucket's Standard storage, what CloudWatch's
	// BucketSizeBytes reports (see s3_metrics.go).
	SizeBytes int64
}

// s3State is one account-region's buckets.
type s3State struct {
	buckets map[string]*Bucket
}

func newS3State() *s3State { return &s3State{buckets: map[string]*Bucket{}} }

// findBucket looks a bucket up across every account and region. Caller
// holds s.mu.
func (s *Sim) findBucket(name string) *Bucket {
	for _, a := range s.accounts {
		for _, rs := range a.Regions {
			if st, ok := rs.Ext["s3"].(*s3State); ok {
				if b, ok := st.buckets[name]; ok {
					return b
				}
			}
		}
	}
	return nil
}

// Buckets returns copies of account's buckets in all regions, by name.
func (s *Sim) Buckets(account string) []Bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accountBuckets(account)
}

func (s *Sim) accountBuckets(account string) []Bucket {
	var out []Bucket
	if a, ok := s.accounts[account]; ok {
		for _, rs := range a.Regions {
			if st, ok := rs.Ext["s3"].(*s3State); ok {
				for _, b := range st.buckets {
					c := *b
					c.Tags = slices.Clone(b.Tags)
					out = append(out, c)
				}
			}
		}
	}
	slices.SortFunc(out, func(x, y Bucket) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// s3Error is S3's error document; BucketName and Region add the context S3
// gives for bucket errors.
type s3Error struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	BucketName string   `xml:"BucketName,omitempty"`
	Region     string   `xml:"Region,omitempty"`
	RequestID  string   `xml:"RequestId"`
	HostID     string   `xml:"HostId"`
}

type s3Failure struct {
	status                 int
	code, msg, bucket, reg string
}

func s3Err(status int, code, bucket, format string, args ...any) *s3Failure {
	return &s3Failure{status: status, code: code, bucket: bucket, msg: fmt.Sprintf(format, args...)}
}

func (rc *Request) writeS3Error(f *s3Failure) {
	rc.WriteXML(f.status, s3Error{Code: f.code, Message: f.msg, BucketName: f.bucket, Region: f.reg,
		RequestID: rc.RequestID, HostID: base64.StdEncoding.EncodeToString([]byte(rc.RequestID))})
}

// writeEmpty answers with no body (CreateBucket, PutBucketTagging).
func (rc *Request) writeEmpty(status int, header map[string]string) {
	h := rc.W.Header()
	for k, v := range header {
		h.Set(k, v)
	}
	h.Set("X-Amz-Request-Id", rc.RequestID)
	h.Set("Content-Length", "0")
	rc.W.WriteHeader(status)
	rc.wrote = true
}

// s3Target is what the URL addresses: a bucket (or none) and the
// subresource.
type s3Target struct {
	bucket string
	key    string
	sub    string
}

// parseS3Target reads the bucket from a virtual-hosted Host
// (bucket.s3.<anything>, bucket.s3-<region>.<anything>, bucket.localhost) or
// else from the first path segment (path-style).
func parseS3Target(r *http.Request) s3Target {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	var t s3Target
	path := strings.TrimPrefix(r.URL.Path, "/")
	if net.ParseIP(host) == nil {
		if b, ok := strings.CutSuffix(host, ".localhost"); ok {
			t.bucket = b
		} else if i := strings.LastIndex(host, ".s3."); i > 0 {
			t.bucket = host[:i]
		} else if i := strings.LastIndex(host, ".s3-"); i > 0 {
			t.bucket = host[:i]
		}
	}
	if t.bucket == "" {
		t.bucket, t.key, _ = strings.Cut(path, "/")
	} else {
		t.key = path
	}
	q := r.URL.Query()
	for _, sub := range []string{"location", "tagging"} {
		if q.Has(sub) {
			t.sub = sub
		}
	}
	return t
}

func s3Action(method string, t s3Target) string {
	switch {
	case t.bucket == "" && method == http.MethodGet:
		return "ListBuckets"
	case t.bucket == "" || t.key != "":
		return ""
	case method == http.MethodPut && t.sub == "":
		return "CreateBucket"
	case method == http.MethodHead && t.sub == "":
		return "HeadBucket"
	case method == http.MethodGet && t.sub == "location":
		return "GetBucketLocation"
	case method == http.MethodGet && t.sub == "tagging":
		return "GetBucketTagging"
	case method == http.MethodPut && t.sub == "tagging":
		return "PutBucketTagging"
	}
	return ""
}

func (s *Sim) serveS3(rc *Request) {
	t := parseS3Target(rc.HTTP)
	action := s3Action(rc.HTTP.Method, t)
	if action == "" {
		rc.writeS3Error(s3Err(http.StatusNotImplemented, "NotImplemented", t.bucket,
			"A header or query you provided implies functionality that is not implemented (%s %s)", rc.HTTP.Method, rc.HTTP.URL.Path))
		return
	}
	if !s.admit(rc, action) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var f *s3Failure
	switch action {
	case "ListBuckets":
		f = s.s3ListBuckets(rc)
	case "CreateBucket":
		f = s.s3CreateBucket(rc, t.bucket)
	case "HeadBucket":
		s.s3HeadBucket(rc, t.bucket)
	case "GetBucketLocation":
		f = s.s3GetBucketLocation(rc, t.bucket)
	case "GetBucketTagging":
		f = s.s3GetBucketTagging(rc, t.bucket)
	case "PutBucketTagging":
		f = s.s3PutBucketTagging(rc, t.bucket)
	}
	if f != nil {
		rc.writeS3Error(f)
	}
}

var (
	bucketNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	ipv4Pattern       = regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)
)

// validBucketName applies S3's general purpose bucket naming rules.
func validBucketName(name string) bool {
	if !bucketNamePattern.MatchString(name) || ipv4Pattern.MatchString(name) || strings.Contains(name, "..") ||
		strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return false
		}
	}
	return true
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

func (s *Sim) s3CreateBucket(rc *Request, name string) *s3Failure {
	if !validBucketName(name) {
		return s3Err(http.StatusBadRequest, "InvalidBucketName", name, "The specified bucket is not valid.")
	}
	var cfg createBucketConfiguration
	if len(bytes.TrimSpace(rc.Body)) > 0 {
		if err := s3StrictXML(rc.Body, &cfg); err != nil {
			return s3Err(http.StatusBadRequest, "MalformedXML", "",
				"The XML you provided was not well-formed or did not validate against our published schema: %v", err)
		}
	}
	region := rc.Region
	lc := cfg.LocationConstraint
	switch {
	case lc == "" && rc.Region != "us-east-1":
		return s3Err(http.StatusBadRequest, "IllegalLocationConstraintException", name,
			"The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case lc == "":
	case lc == "us-east-1" || !s.regions[lc]:
		return s3Err(http.StatusBadRequest, "InvalidLocationConstraint", name, "The specified location-constraint is not valid")
	case rc.Region != "us-east-1" && lc != rc.Region:
		// Only the us-east-1 (global) endpoint creates buckets elsewhere.
		return s3Err(http.StatusBadRequest, "IllegalLocationConstraintException", name,
			"The %s location constraint is incompatible for the region specific endpoint this request was sent to.", lc)
	default:
		region = lc
	}
	if b := s.findBucket(name); b != nil {
		if b.Account != rc.Account {
			return s3Err(http.StatusConflict, "BucketAlreadyExists", name,
				"The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
		}
		if b.Region == "us-east-1" && region == "us-east-1" {
			// Documented us-east-1 legacy: re-creating your own bucket succeeds.
			rc.writeEmpty(http.StatusOK, map[string]string{"Location": "/" + name})
			return nil
		}
		return s3Err(http.StatusConflict, "BucketAlreadyOwnedByYou", name,
			"Your previous request to create the named bucket succeeded and you already own it.")
	}
	st := regionExt(s.region(rc.Account, region), "s3", newS3State)
	b := &Bucket{Name: name, Region: region, Account: rc.Account, Created: rc.Now, SizeBytes: seededBucketBytes(s.opts.Seed, name)}
	st.buckets[name] = b
	s.recordEvent(Event{Time: rc.Now, Account: rc.Account, Region: region, Service: "s3", ResourceType: "bucket",
		ResourceID: name, Kind: EventCreated, State: "available"})
	loc := "/" + name
	if region != "us-east-1" {
		loc = fmt.Sprintf("http://%s.s3.amazonaws.com/", name)
	}
	rc.writeEmpty(http.StatusOK, map[string]string{"Location": loc})
	return nil
}

// s3StrictXML decodes one XML document into v and rejects trailing content.
func s3StrictXML(body []byte, v any) error {
	dec := xml.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch tk := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(tk)) > 0 {
				return fmt.Errorf("text after the document element")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return fmt.Errorf("content after the document element")
		}
	}
}

// canonicalUserID derives a stable 64-hex-digit S3 canonical user id.
func canonicalUserID(account string) string {
	sum := sha256.Sum256([]byte("s3-owner/" + account))
	return hex.EncodeToString(sum[:])
}

type xmlBucket struct {
	Name         string
	CreationDate string
	BucketRegion string
}

func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s *Sim) s3ListBuckets(rc *Request) *s3Failure {
	q := rc.HTTP.URL.Query()
	limit := 10000
	if v := q.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return s3Err(http.StatusBadRequest, "InvalidArgument", "", "max-buckets must be an integer between 1 and 10000, got %q", v)
		}
		limit = n
	}
	after := ""
	if tok := q.Get("continuation-token"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || !strings.HasPrefix(string(raw), "s3:") {
			return s3Err(http.StatusBadRequest, "InvalidArgument", "", "The continuation token provided is incorrect")
		}
		after = strings.TrimPrefix(string(raw), "s3:")
	}
	prefix, region := q.Get("prefix"), q.Get("bucket-region")
	out := struct {
		XMLName           xml.Name    `xml:"ListAllMyBucketsResult"`
		XMLNS             string      `xml:"xmlns,attr"`
		OwnerID           string      `xml:"Owner>ID"`
		Buckets           []xmlBucket `xml:"Buckets>Bucket"`
		ContinuationToken string      `xml:"ContinuationToken,omitempty"`
		Prefix            string      `xml:"Prefix,omitempty"`
	}{XMLNS: s3XMLNS, OwnerID: canonicalUserID(rc.Account), Prefix: prefix}
	for _, b := range s.accountBuckets(rc.Account) {
		if b.Name <= after || !strings.HasPrefix(b.Name, prefix) || (region != "" && b.Region != region) {
			continue
		}
		if len(out.Buckets) == limit {
			out.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte("s3:" + out.Buckets[limit-1].Name))
			break
		}
		out.Buckets = append(out.Buckets, xmlBucket{Name: b.Name, CreationDate: s3Time(b.Created), BucketRegion: b.Region})
	}
	rc.WriteXML(http.StatusOK, out)
	return nil
}

// ownBucket finds a bucket the caller may use; S3 answers 404 for a name
// nobody holds and 403 for somebody else's bucket.
func (s *Sim) ownBucket(rc *Request, name string, regionBound bool) (*Bucket, *s3Failure) {
	b := s.findBucket(name)
	if b == nil {
		return nil, s3Err(http.StatusNotFound, "NoSuchBucket", name, "The specified bucket does not exist")
	}
	if b.Account != rc.Account {
		return nil, s3Err(http.StatusForbidden, "AccessDenied", "", "Access Denied")
	}
	if regionBound && b.Region != rc.Region {
		f := s3Err(http.StatusBadRequest, "AuthorizationHeaderMalformed", "",
			"The authorization header is malformed; the region '%s' is wrong; expecting '%s'", rc.Region, b.Region)
		f.reg = b.Region
		return nil, f
	}
	return b, nil
}

// s3HeadBucket answers with headers only, as S3 does: 404 or 403 without a
// body, 301 with x-amz-bucket-region when signed for another region (how
// the SDK's manager.GetBucketRegion finds a bucket), else 200.
func (s *Sim) s3HeadBucket(rc *Request, name string) {
	b := s.findBucket(name)
	switch {
	case b == nil:
		rc.writeEmpty(http.StatusNotFound, nil)
	case b.Account != rc.Account:
		rc.writeEmpty(http.StatusForbidden, nil)
	case b.Region != rc.Region:
		rc.writeEmpty(http.StatusMovedPermanently, map[string]string{"X-Amz-Bucket-Region": b.Region})
	default:
		rc.writeEmpty(http.StatusOK, map[string]string{"X-Amz-Bucket-Region": b.Region,
			"X-Amz-Bucket-Arn": "arn:aws:s3:::" + b.Name})
	}
}

func (s *Sim) s3GetBucketLocation(rc *Request, name string) *s3Failure {
	// GetBucketLocation answers from any region: it is how callers find
	// the region to sign the bucket's other requests with.
	b, f := s.ownBucket(rc, name, false)
	if f != nil {
		return f
	}
	lc := b.Region
	if lc == "us-east-1" {
		lc = ""
	}
	rc.WriteXML(http.StatusOK, struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		XMLNS   string   `xml:"xmlns,attr"`
		Value   string   `xml:",chardata"`
	}{XMLNS: s3XMLNS, Value: lc})
	return nil
}

type xmlTagging struct {
	XMLName xml.Name `xml:"Tagging"`
	XMLNS   string   `xml:"xmlns,attr,omitempty"`
	TagSet  *struct {
		Tags []rdsXMLTag `xml:"Tag"`
	} `xml:"TagSet"`
}

func (s *Sim) s3GetBucketTagging(rc *Request, name string) *s3Failure {
	b, f := s.ownBucket(rc, name, true)
	if f != nil {
		return f
	}
	if b.Tags == nil {
		return s3Err(http.StatusNotFound, "NoSuchTagSet", name, "The TagSet does not exist")
	}
	out := xmlTagging{XMLNS: s3XMLNS, TagSet: &struct {
		Tags []rdsXMLTag `xml:"Tag"`
	}{Tags: rdsXMLTags(b.Tags)}}
	rc.WriteXML(http.StatusOK, out)
	return nil
}

// maxBucketTags is S3's limit on a bucket's tag set.
const maxBucketTags = 50

func (s *Sim) s3PutBucketTagging(rc *Request, name string) *s3Failure {
	b, f := s.ownBucket(rc, name, true)
	if f != nil {
		return f
	}
	if f := checkS3Integrity(rc); f != nil {
		return f
	}
	var in xmlTagging
	if err := s3StrictXML(rc.Body, &in); err != nil || in.TagSet == nil {
		reason := "TagSet missing"
		if err != nil {
			reason = err.Error()
		}
		return s3Err(http.StatusBadRequest, "MalformedXML", "",
			"The XML you provided was not well-formed or did not validate against our published schema: %s", reason)
	}
	if len(in.TagSet.Tags) > maxBucketTags {
		return s3Err(http.StatusBadRequest, "InvalidTag", "", "Bucket tag count cannot be greater than %d", maxBucketTags)
	}
	tags := make([]Tag, 0, len(in.TagSet.Tags))
	for i, xt := range in.TagSet.Tags {
		t := Tag(xt)
		if slices.ContainsFunc(tags, func(o Tag) bool { return o.Key == t.Key }) {
			return s3Err(http.StatusBadRequest, "InvalidTag", "", "Cannot provide multiple Tags with the same key")
		}
		if aerr := validateTag(t, fmt.Sprintf("Tagging.TagSet.Tag[%d]", i+1)); aerr != nil {
			return s3Err(http.StatusBadRequest, "InvalidTag", "", "%s", aerr.Message)
		}
		tags = append(tags, t)
	}
	if len(tags) == 0 {
		b.Tags = nil
	} else {
		b.Tags = tags
	}
	rc.writeEmpty(http.StatusNoContent, nil)
	return nil
}

// checkS3Integrity enforces what S3 requires of PutBucketTagging: a
// Content-MD5 or x-amz-checksum-* header, matching the body when the
// simulator can compute it.
func checkS3Integrity(rc *Request) *s3Failure {
	h := rc.HTTP.Header
	if md := h.Get("Content-Md5"); md != "" {
		sum := md5.Sum(rc.Body)
		if md != base64.StdEncoding.EncodeToString(sum[:]) {
			return s3Err(http.StatusBadRequest, "BadDigest", "", "The Content-MD5 you specified did not match what we received.")
		}
		return nil
	}
	if c := h.Get("X-Amz-Checksum-Crc32"); c != "" {
		var sum [4]byte
		binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(rc.Body))
		if c != base64.StdEncoding.EncodeToString(sum[:]) {
			return s3Err(http.StatusBadRequest, "BadDigest", "", "The CRC32 you specified did not match the calculated checksum.")
		}
		return nil
	}
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
			return nil
		}
	}
	return s3Err(http.StatusBadRequest, "InvalidRequest", "", "Missing required header for this request: Content-MD5")
}
