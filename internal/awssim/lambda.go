package awssim

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsquota"
)

func init() {
	registerService(serviceDef{name: "lambda", protocol: ProtoRESTJSON, handle: (*Sim).serveLambda, throttle: lambdaBucket})
}

// lambdaBucket is Lambda's published control-plane quota.
func lambdaBucket(_ *Request, action string) BucketSpec { return awsquota.Lambda(action) }

// Function is a Lambda function (only $LATEST; the simulator never runs it).
// Guarded by Sim.mu.
type Function struct {
	Name         string
	ARN          string
	Region       string
	Runtime      string
	Role         string
	Handler      string
	Description  string
	MemoryMiB    int
	TimeoutSec   int
	Architecture string // x86_64 or arm64
	EphemeralMiB int
	Environment  map[string]string
	CodeSize     int64
	CodeSha256   string
	RevisionID   string
	LastModified time.Time
	Tags         map[string]string
	// State is Pending until StateDelay after creation, then Active.
	State string
	// Updating is true while an UpdateFunctionConfiguration is in progress
	// (LastUpdateStatus InProgress) until updateDoneAt.
	Updating     bool
	updateDoneAt time.Time
	// updateFailed: the update in progress ends Failed and restores
	// previous; LastUpdateFailed reports the last one that did.
	updateFailed     bool
	previous         *Function
	LastUpdateFailed bool
	activeAt         time.Time
	// Profile and Seed drive the function's built-in AWS/Lambda metrics
	// (Invocations, Duration), which cloudwatch_metrics.go generates from
	// the history this file records.
	Profile Profile
	Seed    int64
}

type lambdaState struct {
	fns map[string]*Function
}

func newLambdaState() *lambdaState { return &lambdaState{fns: map[string]*Function{}} }

func (st *lambdaState) sorted() []*Function {
	out := slices.Collect(maps.Values(st.fns))
	slices.SortFunc(out, func(a, b *Function) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// settle applies due transitions (Pending -> Active, InProgress ->
// Successful) at the instant they were due, and registers the ones still
// pending with rs.due so the region's settling wakes for them. Caller holds
// s.mu.
func (st *lambdaState) settle(s *Sim, account string, rs *RegionState, now time.Time) {
	for _, f := range st.sorted() {
		if f.State == "Pending" && !now.Before(f.activeAt) {
			f.State = "Active"
			s.recordEvent(functionEvent(account, f, EventState, f.activeAt))
		}
		if f.Updating && !now.Before(f.updateDoneAt) {
			f.Updating, f.LastUpdateFailed = false, f.updateFailed
			if f.updateFailed {
				// The function keeps running its previous configuration.
				f.MemoryMiB, f.TimeoutSec = f.previous.MemoryMiB, f.previous.TimeoutSec
			}
			f.previous, f.updateFailed = nil, false
			s.recordEvent(functionEvent(account, f, EventModified, f.updateDoneAt))
		}
		if f.State == "Pending" {
			rs.due(f.activeAt)
		}
		if f.Updating {
			rs.due(f.updateDoneAt)
		}
	}
}

func functionEvent(account string, f *Function, kind EventKind, at time.Time) Event {
	return Event{
		Time: at, Account: account, Region: f.Region, Service: "lambda", ResourceType: "function",
		ResourceID: f.Name, Kind: kind, State: f.State, Type: f.Architecture, MemoryMiB: f.MemoryMiB,
		Profile: f.Profile, Tags: f.Tags,
		Attrs: map[string]string{"runtime": f.Runtime, "ephemeral-storage-mib": fmt.Sprint(f.EphemeralMiB)},
	}
}

// Functions returns copies of the Lambda functions of account in region, by
// name, with due transitions applied; CloudWatch reads them to generate
// AWS/Lambda metrics.
func (s *Sim) Functions(account, region string) []Function {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.region(account, region)
	st := regionExt(rs, "lambda", newLambdaState)
	st.settle(s, account, rs, s.Now())
	out := make([]Function, 0, len(st.fns))
	for _, f := range st.sorted() {
		c := *f
		c.Tags, c.Environment = maps.Clone(f.Tags), maps.Clone(f.Environment)
		out = append(out, c)
	}
	return out
}

// lambdaRoute maps method and path to an operation and its path label.
func lambdaRoute(method, escapedPath string) (op, label string, err error) {
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	for i, sg := range segs {
		if segs[i], err = url.PathUnescape(sg); err != nil {
			return "", "", fmt.Errorf("path segment %q: %w", sg, err)
		}
	}
	switch {
	case len(segs) == 2 && segs[0] == "2015-03-31" && segs[1] == "functions":
		switch method {
		case http.MethodPost:
			return "CreateFunction", "", nil
		case http.MethodGet:
			return "ListFunctions", "", nil
		}
	case len(segs) == 3 && segs[0] == "2015-03-31" && segs[1] == "functions":
		switch method {
		case http.MethodGet:
			return "GetFunction", segs[2], nil
		case http.MethodDelete:
			return "DeleteFunction", segs[2], nil
		}
	case len(segs) == 4 && segs[0] == "2015-03-31" && segs[1] == "functions" && segs[3] == "configuration":
		switch method {
		case http.MethodGet:
			return "GetFunctionConfiguration", segs[2], nil
		case http.MethodPut:
			return "UpdateFunctionConfiguration", segs[2], nil
		}
	case len(segs) == 3 && segs[0] == "2017-03-31" && segs[1] == "tags":
		switch method {
		case http.MethodGet:
			return "ListTags", segs[2], nil
		case http.MethodPost:
			return "TagResource", segs[2], nil
		case http.MethodDelete:
			return "UntagResource", segs[2], nil
		}
	}
	return "", "", fmt.Errorf("no Lambda operation for %s %s", method, escapedPath)
}

func (s *Sim) serveLambda(rc *Request) {
	op, label, err := lambdaRoute(rc.HTTP.Method, rc.HTTP.URL.EscapedPath())
	if err != nil {
		rc.WriteError(&APIError{Status: http.StatusNotFound, Code: "UnknownOperationException", Message: err.Error()})
		return
	}
	if !s.admit(rc, op) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.region(rc.Account, rc.Region)
	st := regionExt(rs, "lambda", newLambdaState)
	st.settle(s, rc.Account, rs, rc.Now)
	var status int
	var out any
	var aerr *APIError
	switch op {
	case "CreateFunction":
		status = http.StatusCreated
		out, aerr = s.lambdaCreate(rc, st)
	case "ListFunctions":
		status = http.StatusOK
		out, aerr = s.lambdaList(rc, st)
	case "GetFunction":
		status = http.StatusOK
		out, aerr = s.lambdaGet(rc, st, label)
	case "GetFunctionConfiguration":
		status = http.StatusOK
		out, aerr = s.lambdaGetConfig(rc, st, label)
	case "UpdateFunctionConfiguration":
		status = http.StatusOK
		out, aerr = s.lambdaUpdate(rc, st, label)
	case "ListTags":
		status = http.StatusOK
		out, aerr = s.lambdaListTags(rc, st, label)
	case "TagResource", "UntagResource", "DeleteFunction":
		switch op {
		case "TagResource":
			aerr = s.lambdaTag(rc, st, label)
		case "UntagResource":
			aerr = s.lambdaUntag(rc, st, label)
		default:
			aerr = s.lambdaDelete(rc, st, label)
		}
		if aerr == nil {
			rc.writeEmpty(http.StatusNoContent, map[string]string{"X-Amzn-RequestId": rc.RequestID})
			return
		}
	}
	if aerr != nil {
		rc.WriteError(aerr)
		return
	}
	rc.WriteJSON(status, "application/json", out)
}

func lambdaValidation(format string, args ...any) *APIError {
	return Errorf("ValidationException", "1 validation error detected: "+format, args...)
}

func invalidLambdaParam(format string, args ...any) *APIError {
	return Errorf("InvalidParameterValueException", format, args...)
}

var (
	functionNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	// Accepts a name, a partial ARN (123456789012:function:name) or a full
	// ARN, with an optional qualifier, as the FunctionName model does.
	functionRefPattern   = regexp.MustCompile(`^(?:arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9_-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$`)
	lambdaRoleARNPattern = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-/]+$`)
)

// lambdaRuntimes are the runtimes Lambda accepts for new functions and
// updates; the deprecated ones in the model's enum are refused.
var lambdaRuntimes = []string{
	"nodejs20.x", "nodejs22.x", "nodejs24.x",
	"python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
	"java8.al2", "java11", "java17", "java21", "java25",
	"dotnet8", "ruby3.2", "ruby3.3", "ruby3.4", "provided.al2", "provided.al2023",
}

// resolveFunction finds the function a FunctionName path label names.
func resolveFunction(rc *Request, st *lambdaState, ref string) (*Function, *APIError) {
	if len(ref) > 140 {
		return nil, lambdaValidation("Value '%s' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140", ref)
	}
	m := functionRefPattern.FindStringSubmatch(ref)
	if m == nil {
		return nil, lambdaValidation("Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern", ref)
	}
	region, account, name, qualifier := m[1], m[2], m[3], m[4]
	notFound := &APIError{Status: http.StatusNotFound, Code: "ResourceNotFoundException",
		Message: fmt.Sprintf("Function not found: arn:aws:lambda:%s:%s:function:%s", rc.Region, rc.Account, name)}
	if (region != "" && region != rc.Region) || (account != "" && account != rc.Account) {
		return nil, notFound
	}
	if q := rc.HTTP.URL.Query().Get("Qualifier"); q != "" {
		qualifier = q
	}
	f, ok := st.fns[name]
	if !ok || (qualifier != "" && qualifier != "$LATEST") {
		return nil, notFound
	}
	return f, nil
}

// decodeLambdaBody decodes a JSON request body; Lambda reports unparsable
// bodies and mistyped members as InvalidRequestContentException.
func decodeLambdaBody(body []byte, v any) *APIError {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return Errorf("InvalidRequestContentException", "Could not parse request body into json: %v", err)
	}
	if dec.More() {
		return Errorf("InvalidRequestContentException", "Could not parse request body into json: trailing data after the document")
	}
	return nil
}

type createFunctionInput struct {
	FunctionName  *string
	Runtime       *string
	Role          *string
	Handler       *string
	Description   *string
	Timeout       *int
	MemorySize    *int
	Architectures []string
	PackageType   *string
	Code          *struct {
		ZipFile  []byte
		S3Bucket *string
		S3Key    *string
		ImageUri *string
	}
	Environment *struct {
		Variables map[string]string
	}
	EphemeralStorage *struct {
		Size *int
	}
	Tags    map[string]string
	Publish *bool
}

func checkMemory(v int) *APIError {
	switch {
	case v < 128 || v > 32768:
		return lambdaValidation("Value '%d' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 32768", v)
	case v > 10240:
		return invalidLambdaParam("'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240")
	}
	return nil
}

func checkTimeout(v int) *APIError {
	switch {
	case v < 1:
		return lambdaValidation("Value '%d' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1", v)
	case v > 900:
		return invalidLambdaParam("'Timeout' value failed to satisfy constraint: Member must have value less than or equal to 900")
	}
	return nil
}

func checkRuntime(r string) *APIError {
	if !slices.Contains(lambdaRuntimes, r) {
		return invalidLambdaParam("The runtime parameter of %s is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or upgrading functions.", r)
	}
	return nil
}

func checkLambdaTags(tags map[string]string) *APIError {
	if len(tags) > 50 {
		return invalidLambdaParam("Number of tags exceeds resource tag limit.")
	}
	for k, v := range tags {
		if aerr := validateTag(Tag{Key: k, Value: v}, "Tags"); aerr != nil {
			return invalidLambdaParam("%s", aerr.Message)
		}
	}
	return nil
}

func (s *Sim) lambdaCreate(rc *Request, st *lambdaState) (any, *APIError) {
	var in createFunctionInput
	if aerr := decodeLambdaBody(rc.Body, &in); aerr != nil {
		return nil, aerr
	}
	name := lambdaDeref(in.FunctionName)
	if !functionNamePattern.MatchString(name) {
		return nil, lambdaValidation("Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]{1,64}", name)
	}
	if in.Role == nil || !lambdaRoleARNPattern.MatchString(*in.Role) {
		return nil, lambdaValidation("Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+", lambdaDeref(in.Role))
	}
	if in.Code == nil {
		return nil, lambdaValidation("Value null at 'code' failed to satisfy constraint: Member must not be null")
	}
	if pt := lambdaDeref(in.PackageType); pt != "" && pt != "Zip" {
		return nil, invalidLambdaParam("PackageType %s needs a container image from ECR, which the simulator does not hold; use a Zip package", pt)
	}
	switch {
	case in.Code.S3Bucket != nil || in.Code.ImageUri != nil:
		return nil, invalidLambdaParam("Code.S3Bucket and Code.ImageUri point at S3 objects or ECR images, which the simulator does not hold; send Code.ZipFile")
	case len(in.Code.ZipFile) == 0:
		return nil, invalidLambdaParam("Please provide a source for function code.")
	}
	if _, err := zip.NewReader(bytes.NewReader(in.Code.ZipFile), int64(len(in.Code.ZipFile))); err != nil {
		return nil, invalidLambdaParam("Could not unzip uploaded file. Please check your file, then try to upload again.")
	}
	if in.Runtime == nil || in.Handler == nil || *in.Handler == "" {
		return nil, invalidLambdaParam("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if aerr := checkRuntime(*in.Runtime); aerr != nil {
		return nil, aerr
	}
	mem, timeout, eph := 128, 3, 512
	if in.MemorySize != nil {
		if aerr := checkMemory(*in.MemorySize); aerr != nil {
			return nil, aerr
		}
		mem = *in.MemorySize
	}
	if in.Timeout != nil {
		if aerr := checkTimeout(*in.Timeout); aerr != nil {
			return nil, aerr
		}
		timeout = *in.Timeout
	}
	if in.EphemeralStorage != nil {
		size := lambdaDeref(in.EphemeralStorage.Size)
		if size < 512 || size > 10240 {
			return nil, lambdaValidation("Value '%d' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value between 512 and 10240", size)
		}
		eph = size
	}
	arch := "x86_64"
	switch {
	case len(in.Architectures) > 1:
		return nil, lambdaValidation("Value '%v' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1", in.Architectures)
	case len(in.Architectures) == 1 && in.Architectures[0] != "x86_64" && in.Architectures[0] != "arm64":
		return nil, lambdaValidation("Value '[%s]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]", in.Architectures[0])
	case len(in.Architectures) == 1:
		arch = in.Architectures[0]
	}
	if len(lambdaDeref(in.Description)) > 256 {
		return nil, lambdaValidation("Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	if aerr := checkLambdaTags(in.Tags); aerr != nil {
		return nil, aerr
	}
	if _, exists := st.fns[name]; exists {
		return nil, &APIError{Status: http.StatusConflict, Code: "ResourceConflictException", Message: "Function already exist: " + name}
	}
	sum := sha256.Sum256(in.Code.ZipFile)
	f := &Function{
		Name: name, Region: rc.Region,
		ARN:     fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", rc.Region, rc.Account, name),
		Runtime: *in.Runtime, Role: *in.Role, Handler: *in.Handler, Description: lambdaDeref(in.Description),
		MemoryMiB: mem, TimeoutSec: timeout, Architecture: arch, EphemeralMiB: eph,
		CodeSize: int64(len(in.Code.ZipFile)), CodeSha256: base64.StdEncoding.EncodeToString(sum[:]),
		RevisionID: s.newRevisionID(), LastModified: rc.Now.Add(-s.opts.Backfill), Tags: maps.Clone(in.Tags),
		State: "Pending", activeAt: rc.Now.Add(-s.opts.Backfill).Add(s.opts.StateDelay),
		Seed: resourceSeed(s.opts.Seed, name),
	}
	if in.Environment != nil {
		f.Environment = maps.Clone(in.Environment.Variables)
	}
	f.Profile = tagProfile(lambdaTagList(f.Tags))
	st.fns[name] = f
	// Backfilled like EC2 and RDS: the function has existed since
	// Options.Backfill ago.
	s.recordEvent(functionEvent(rc.Account, f, EventCreated, f.LastModified))
	st.settle(s, rc.Account, s.region(rc.Account, rc.Region), rc.Now)
	return functionJSON(f), nil
}

func lambdaDeref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func lambdaTagList(m map[string]string) []Tag {
	out := make([]Tag, 0, len(m))
	for k, v := range m {
		out = append(out, Tag{Key: k, Value: v})
	}
	return out
}

// newRevisionID draws a UUID from the seeded source so runs repeat.
// Caller holds s.mu.
func (s *Sim) newRevisionID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return uuid.UUID(b).String()
}

// functionConfiguration is the FunctionConfiguration shape, limited to what
// the simulator tracks.
type functionConfiguration struct {
	FunctionName               string
	FunctionArn                string
	Runtime                    string
	Role                       string
	Handler                    string
	CodeSize                   int64
	Description                string
	Timeout                    int
	MemorySize                 int
	LastModified               string
	CodeSha256                 string
	Version                    string
	Environment                *struct{ Variables map[string]string } `json:",omitempty"`
	TracingConfig              struct{ Mode string }
	RevisionId                 string
	State                      string
	StateReason                string `json:",omitempty"`
	StateReasonCode            string `json:",omitempty"`
	LastUpdateStatus           string `json:",omitempty"`
	LastUpdateStatusReason     string `json:",omitempty"`
	LastUpdateStatusReasonCode string `json:",omitempty"`
	PackageType                string
	Architectures              []string
	EphemeralStorage           struct{ Size int }
	SnapStart                  struct{ ApplyOn, OptimizationStatus string }
	LoggingConfig              struct{ LogFormat, LogGroup string }
}

func functionJSON(f *Function) functionConfiguration {
	c := functionConfiguration{
		FunctionName: f.Name, FunctionArn: f.ARN, Runtime: f.Runtime, Role: f.Role, Handler: f.Handler,
		CodeSize: f.CodeSize, Description: f.Description, Timeout: f.TimeoutSec, MemorySize: f.MemoryMiB,
		LastModified: f.LastModified.UTC().Format("2006-01-02T15:04:05.000-0700"), CodeSha256: f.CodeSha256,
		Version: "$LATEST", RevisionId: f.RevisionID, State: f.State, PackageType: "Zip",
		Architectures: []string{f.Architecture},
	}
	c.TracingConfig.Mode = "PassThrough"
	c.EphemeralStorage.Size = f.EphemeralMiB
	c.SnapStart.ApplyOn, c.SnapStart.OptimizationStatus = "None", "Off"
	c.LoggingConfig.LogFormat, c.LoggingConfig.LogGroup = "Text", "/aws/lambda/"+f.Name
	if f.Environment != nil {
		c.Environment = &struct{ Variables map[string]string }{Variables: f.Environment}
	}
	switch {
	case f.State == "Pending":
		c.StateReason, c.StateReasonCode = "The function is being created.", "Creating"
	case f.Updating:
		c.LastUpdateStatus, c.LastUpdateStatusReason = "InProgress", "The function is being updated."
	case f.LastUpdateFailed:
		c.LastUpdateStatus, c.LastUpdateStatusReason = "Failed", "The function could not be updated (injected fault)."
		c.LastUpdateStatusReasonCode = "InternalError"
	default:
		c.LastUpdateStatus = "Successful"
	}
	return c
}

func (s *Sim) lambdaList(rc *Request, st *lambdaState) (any, *APIError) {
	q := rc.HTTP.URL.Query()
	limit := 50
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return nil, lambdaValidation("Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", v)
		}
		limit = n
	}
	after := ""
	if m := q.Get("Marker"); m != "" {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil || !strings.HasPrefix(string(raw), "fn:") {
			return nil, invalidLambdaParam("Invalid Marker: %s", m)
		}
		after = strings.TrimPrefix(string(raw), "fn:")
	}
	out := struct {
		Functions  []functionConfiguration
		NextMarker string `json:",omitempty"`
	}{Functions: []functionConfiguration{}}
	for _, f := range st.sorted() {
		if f.Name <= after {
			continue
		}
		if len(out.Functions) == limit {
			out.NextMarker = base64.RawURLEncoding.EncodeToString([]byte("fn:" + out.Functions[limit-1].FunctionName))
			break
		}
		out.Functions = append(out.Functions, functionJSON(f))
	}
	return out, nil
}

func (s *Sim) lambdaGetConfig(rc *Request, st *lambdaState, ref string) (any, *APIError) {
	f, aerr := resolveFunction(rc, st, ref)
	if aerr != nil {
		return nil, aerr
	}
	return functionJSON(f), nil
}

func (s *Sim) lambdaGet(rc *Request, st *lambdaState, ref string) (any, *APIError) {
	f, aerr := resolveFunction(rc, st, ref)
	if aerr != nil {
		return nil, aerr
	}
	out := struct {
		Configuration functionConfiguration
		Code          struct{ RepositoryType, Location string }
		Tags          map[string]string `json:",omitempty"`
	}{Configuration: functionJSON(f), Tags: f.Tags}
	out.Code.RepositoryType = "S3"
	out.Code.Location = fmt.Sprintf("https://awslambda-%s-tasks.s3.%s.amazonaws.com/snapshots/%s/%s", f.Region, f.Region, rc.Account, f.Name)
	return out, nil
}

type updateFunctionConfigurationInput struct {
	Description *string
	Handler     *string
	MemorySize  *int
	Timeout     *int
	Runtime     *string
	Role        *string
	Environment *struct {
		Variables map[string]string
	}
	RevisionId *string
}

func (s *Sim) lambdaUpdate(rc *Request, st *lambdaState, ref string) (any, *APIError) {
	f, aerr := resolveFunction(rc, st, ref)
	if aerr != nil {
		return nil, aerr
	}
	var in updateFunctionConfigurationInput
	if aerr := decodeLambdaBody(rc.Body, &in); aerr != nil {
		return nil, aerr
	}
	if in.MemorySize != nil {
		if aerr := checkMemory(*in.MemorySize); aerr != nil {
			return nil, aerr
		}
	}
	if in.Timeout != nil {
		if aerr := checkTimeout(*in.Timeout); aerr != nil {
			return nil, aerr
		}
	}
	if in.Runtime != nil {
		if aerr := checkRuntime(*in.Runtime); aerr != nil {
			return nil, aerr
		}
	}
	if in.Role != nil && !lambdaRoleARNPattern.MatchString(*in.Role) {
		return nil, lambdaValidation("Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern", *in.Role)
	}
	if in.Description != nil && len(*in.Description) > 256 {
		return nil, lambdaValidation("Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	switch {
	case f.State != "Active":
		return nil, &APIError{Status: http.StatusConflict, Code: "ResourceConflictException",
			Message: "The operation cannot be performed at this time. The function is currently in the following state: " + f.State}
	case f.Updating:
		return nil, &APIError{Status: http.StatusConflict, Code: "ResourceConflictException",
			Message: "The operation cannot be performed at this time. An update is in progress for resource: " + f.ARN}
	case in.RevisionId != nil && *in.RevisionId != f.RevisionID:
		return nil, &APIError{Status: http.StatusPreconditionFailed, Code: "PreconditionFailedException",
			Message: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"}
	}
	if ferr := s.faults.takeFailNext("lambda", "UpdateFunctionConfiguration", f.Name, rc.Protocol); ferr != nil {
		return nil, ferr
	}
	prev := *f
	if in.MemorySize != nil {
		f.MemoryMiB = *in.MemorySize
	}
	if in.Timeout != nil {
		f.TimeoutSec = *in.Timeout
	}
	if in.Description != nil {
		f.Description = *in.Description
	}
	if in.Handler != nil {
		f.Handler = *in.Handler
	}
	if in.Runtime != nil {
		f.Runtime = *in.Runtime
	}
	if in.Role != nil {
		f.Role = *in.Role
	}
	if in.Environment != nil {
		f.Environment = maps.Clone(in.Environment.Variables)
	}
	f.RevisionID, f.LastModified = s.newRevisionID(), rc.Now
	f.Updating, f.updateDoneAt = true, rc.Now.Add(s.opts.StateDelay)
	f.updateFailed, f.previous = s.faults.failsUpdates(f.Name), &prev
	st.settle(s, rc.Account, s.region(rc.Account, rc.Region), rc.Now)
	return functionJSON(f), nil
}

// taggedFunction resolves the function ARN of the tagging operations.
func taggedFunction(rc *Request, st *lambdaState, arn string) (*Function, *APIError) {
	if !strings.HasPrefix(arn, "arn:") {
		return nil, lambdaValidation("Value '%s' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern", arn)
	}
	return resolveFunction(rc, st, arn)
}

func (s *Sim) lambdaListTags(rc *Request, st *lambdaState, arn string) (any, *APIError) {
	f, aerr := taggedFunction(rc, st, arn)
	if aerr != nil {
		return nil, aerr
	}
	tags := f.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return struct{ Tags map[string]string }{Tags: tags}, nil
}

func (s *Sim) lambdaTag(rc *Request, st *lambdaState, arn string) *APIError {
	f, aerr := taggedFunction(rc, st, arn)
	if aerr != nil {
		return aerr
	}
	var in struct{ Tags map[string]string }
	if aerr := decodeLambdaBody(rc.Body, &in); aerr != nil {
		return aerr
	}
	if len(in.Tags) == 0 {
		return lambdaValidation("Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	merged := maps.Clone(f.Tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, in.Tags)
	if aerr := checkLambdaTags(merged); aerr != nil {
		return aerr
	}
	f.Tags = merged
	f.Profile = tagProfile(lambdaTagList(f.Tags))
	s.recordEvent(functionEvent(rc.Account, f, EventModified, rc.Now))
	return nil
}

// lambdaUntag removes the tagKeys query parameters; keys the function lacks
// are ignored, as Lambda does.
func (s *Sim) lambdaUntag(rc *Request, st *lambdaState, arn string) *APIError {
	f, aerr := taggedFunction(rc, st, arn)
	if aerr != nil {
		return aerr
	}
	keys := rc.HTTP.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		return lambdaValidation("Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	left := maps.Clone(f.Tags)
	for _, k := range keys {
		delete(left, k)
	}
	f.Tags = left
	f.Profile = tagProfile(lambdaTagList(f.Tags))
	s.recordEvent(functionEvent(rc.Account, f, EventModified, rc.Now))
	return nil
}

// lambdaDelete deletes the function at once (no state to wait through):
// every later call about it answers ResourceNotFoundException. Only whole
// functions exist here, so a qualifier naming $LATEST is refused as Lambda
// refuses it.
func (s *Sim) lambdaDelete(rc *Request, st *lambdaState, ref string) *APIError {
	if rc.HTTP.URL.Query().Get("Qualifier") == "$LATEST" {
		return invalidLambdaParam("$LATEST version cannot be deleted without deleting the function.")
	}
	f, aerr := resolveFunction(rc, st, ref)
	if aerr != nil {
		return aerr
	}
	delete(st.fns, f.Name)
	s.recordEvent(functionEvent(rc.Account, f, EventDeleted, rc.Now))
	return nil
}
