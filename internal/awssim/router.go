package awssim

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsquota"
)

// maxBodyBytes bounds request bodies; AWS's own limits are smaller for every
// API the simulator serves except S3 object uploads, which it does not serve,
// and Lambda zips (50 MB direct upload).
const maxBodyBytes = 64 << 20

// serviceDef is how a service plugs into the router; see the package doc.
type serviceDef struct {
	// name is the SigV4 signing name from the credential scope.
	name string
	// protocol is the error envelope used before the handler runs.
	protocol Protocol
	// handle serves one request; it must write exactly one response.
	handle func(s *Sim, rc *Request)
	// throttle maps a call to its request token bucket; nil uses
	// awsquota.Default. It may look at the request's parameters, not only the
	// action (EC2's unfiltered and unpaginated Describe class does).
	throttle func(rc *Request, action string) BucketSpec
}

var services = map[string]serviceDef{}

// registerService is called from the init functions of service files.
func registerService(d serviceDef) {
	if _, dup := services[d.name]; dup {
		panic("awssim: service registered twice: " + d.name)
	}
	services[d.name] = d
}

// Request is what a service handler gets: the HTTP exchange plus what the
// router derived from it.
type Request struct {
	HTTP *http.Request
	W    http.ResponseWriter

	Service   string // SigV4 signing name, e.g. "ec2"
	Region    string
	Account   string // account the access key belongs to
	AccessKey string
	RequestID string
	Now       time.Time
	// Protocol selects the envelope of WriteError; handlers speaking more
	// than one protocol set it once they know which one the request uses.
	Protocol Protocol
	// Action is set by admit for logging and fault matching.
	Action string

	Body []byte
	// Form holds the parsed body of application/x-www-form-urlencoded
	// requests (ec2query, awsquery) merged with the URL query; nil otherwise.
	Form url.Values

	wrote bool
}

// Handler returns the simulator as an http.Handler.
func (s *Sim) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		s.serveAdmin(w, r)
		return
	}
	rc := &Request{
		HTTP:      r,
		W:         w,
		RequestID: uuid.NewString(),
		Now:       s.Now(),
		Protocol:  guessProtocol(r),
	}
	scope, err := credentialScope(r)
	if err != nil {
		rc.WriteError(&APIError{Status: http.StatusForbidden, Code: "MissingAuthenticationToken", Message: err.Error()})
		return
	}
	rc.Service, rc.Region, rc.AccessKey = scope.service, scope.region, scope.accessKey
	def, ok := services[scope.service]
	if !ok {
		rc.WriteError(&APIError{Status: http.StatusBadRequest, Code: "UnknownService",
			Message: fmt.Sprintf("the simulator does not serve service %q", scope.service)})
		return
	}
	rc.Protocol = def.protocol
	if !s.regions[scope.region] && !isGlobalSigningRegion(scope) {
		rc.WriteError(&APIError{Status: http.StatusBadRequest, Code: "InvalidClientTokenId",
			Message: fmt.Sprintf("region %q is not enabled for this account", scope.region)})
		return
	}
	acct, expired := s.accountFor(scope.accessKey, rc.Now)
	if expired {
		rc.WriteError(expiredTokenError(rc.Protocol))
		return
	}
	rc.Account = acct
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		rc.WriteError(&APIError{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLarge",
			Message: fmt.Sprintf("reading request body: %v", err)})
		return
	}
	rc.Body = body
	if isFormRequest(r) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			rc.WriteError(errMalformedQuery(err))
			return
		}
		for k, v := range r.URL.Query() {
			form[k] = append(form[k], v...)
		}
		rc.Form = form
	}
	def.handle(s, rc)
	if !rc.wrote {
		s.log.Error("handler wrote no response", "service", rc.Service, "action", rc.Action)
		rc.WriteError(&APIError{Status: http.StatusInternalServerError, Code: "InternalFailure",
			Message: "the simulator produced no response"})
	}
}

// isGlobalSigningRegion accepts the regions global services sign with even
// when they are not in Options.Regions (Pricing lives in us-east-1 and a few
// others; Cost Explorer signs with us-east-1).
func isGlobalSigningRegion(sc scope) bool {
	switch sc.service {
	case "ce", "pricing":
		return sc.region == "us-east-1" || sc.region == "eu-central-1" || sc.region == "ap-south-1"
	}
	return false
}

func isFormRequest(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// guessProtocol picks an error envelope for requests rejected before the
// service is known.
func guessProtocol(r *http.Request) Protocol {
	switch {
	case r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor":
		return ProtoCBOR
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.0"):
		return ProtoJSON10
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1"):
		return ProtoJSON11
	case isFormRequest(r):
		return ProtoQuery
	}
	return ProtoRESTXML
}

type scope struct {
	accessKey, region, service string
}

// credentialScope extracts AKID/DATE/REGION/SERVICE/aws4_request from a SigV4
// Authorization header or a presigned URL.
func credentialScope(r *http.Request) (scope, error) {
	cred := ""
	if h := r.Header.Get("Authorization"); h != "" {
		alg, rest, ok := strings.Cut(h, " ")
		if !ok || alg != "AWS4-HMAC-SHA256" {
			return scope{}, fmt.Errorf("authorization header: unsupported scheme %q (want AWS4-HMAC-SHA256)", alg)
		}
		for part := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k == "Credential" {
				cred = v
			}
		}
		if cred == "" {
			return scope{}, fmt.Errorf("the Authorization header has no Credential")
		}
	} else if q := r.URL.Query().Get("X-Amz-Credential"); q != "" {
		cred = q
	} else {
		return scope{}, fmt.Errorf("request is not signed: Authorization header missing")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" || parts[2] == "" || parts[3] == "" {
		return scope{}, fmt.Errorf("credential %q: want AKID/DATE/REGION/SERVICE/aws4_request", cred)
	}
	return scope{accessKey: parts[0], region: parts[2], service: parts[3]}, nil
}

// accountFor maps an access key to its account; expired is true for STS
// session credentials past their expiration.
func (s *Sim) accountFor(accessKey string, now time.Time) (account string, expired bool) {
	if a, ok := s.opts.Accounts[accessKey]; ok {
		return a, false
	}
	s.mu.Lock()
	sess, ok := s.creds[accessKey]
	s.mu.Unlock()
	if ok {
		return sess.account, !now.Before(sess.expires)
	}
	return s.opts.AccountID, false
}

// expiredTokenError is what AWS answers for expired session credentials:
// EC2 says RequestExpired, the other services ExpiredToken(Exception).
func expiredTokenError(p Protocol) *APIError {
	switch p {
	case ProtoEC2:
		return &APIError{Status: http.StatusBadRequest, Code: "RequestExpired", Message: "Request has expired."}
	case ProtoQuery, ProtoRESTXML:
		return &APIError{Status: http.StatusBadRequest, Code: "ExpiredToken", Message: "The security token included in the request is expired"}
	}
	return &APIError{Status: http.StatusForbidden, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"}
}

// admit applies throttling and injected faults to one call of action. It
// returns false after writing the error response when the call must fail.
func (s *Sim) admit(rc *Request, action string) bool {
	rc.Action = action
	if d := s.faults.latency(rc.Service, action); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-rc.HTTP.Context().Done():
			t.Stop()
		}
	}
	if s.faults.throttleNow(rc.Service, action) || !s.throttle.allow(rc, s.bucketFor(rc, action), 1) {
		rc.WriteError(throttleError(rc.Service, rc.Protocol))
		return false
	}
	if s.faults.serverErrorNow(rc.Service, action) {
		rc.WriteError(&APIError{Status: http.StatusInternalServerError, Code: serverErrorCode(rc.Protocol),
			Message: "We encountered an internal error. Please try again. (injected fault)"})
		return false
	}
	if err := s.denial(rc, action); err != nil {
		rc.WriteError(err)
		return false
	}
	return true
}

func (s *Sim) bucketFor(rc *Request, action string) BucketSpec {
	if def, ok := services[rc.Service]; ok && def.throttle != nil {
		return def.throttle(rc, action)
	}
	return awsquota.Default
}
