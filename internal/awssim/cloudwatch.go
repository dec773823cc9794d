package awssim

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsquota"
)

// CloudWatch wire constants. The pinned aws-sdk-go-v2 client speaks Smithy
// RPC v2 CBOR; botocore 1.43 (the AWS CLI v1.45 here) picks awsJson1_0 from
// the model's protocols list; older CLIs speak awsquery. All three are
// served, and the model is awsQueryCompatible, so JSON and CBOR errors carry
// the query error code in X-Amzn-Query-Error.
const (
	cwVersion      = "2010-08-01"
	cwXMLNS        = "http://monitoring.amazonaws.com/doc/2010-08-01/"
	cwTargetPrefix = "GraniteServiceVersion20100801"
	cwCBORPath     = "/service/" + cwTargetPrefix + "/operation/"

	// AWS's GetMetricData limits.
	cwMaxQueries    = 500
	cwMaxDatapoints = 100800
	// AWS's PutMetricData limits.
	cwMaxMetricData = 1000
	cwMaxValues     = 150
	cwMaxDimensions = 30
)

func init() {
	registerService(serviceDef{
		name:     "monitoring",
		protocol: ProtoCBOR,
		handle:   (*Sim).serveCloudWatch,
		throttle: cloudWatchBucket,
	})
}

// cloudWatchBucket is CloudWatch's published per account-region quota.
func cloudWatchBucket(_ *Request, action string) BucketSpec { return awsquota.CloudWatch(action) }

// cwError is a CloudWatch error: the query code (awsquery Code and the
// X-Amzn-Query-Error header) and the shape name (JSON/CBOR __type).
type cwError struct {
	status      int
	queryCode   string
	shape       string
	message     string
	senderFault bool
}

func cwInvalid(format string, args ...any) *cwError {
	return &cwError{status: http.StatusBadRequest, queryCode: "InvalidParameterValue", shape: "InvalidParameterValueException", message: fmt.Sprintf(format, args...), senderFault: true}
}

func cwMissing(param string) *cwError {
	return &cwError{status: http.StatusBadRequest, queryCode: "MissingParameter", shape: "MissingRequiredParameterException", message: fmt.Sprintf("The parameter %s is required.", param), senderFault: true}
}

func cwCombination(format string, args ...any) *cwError {
	return &cwError{status: http.StatusBadRequest, queryCode: "InvalidParameterCombination", shape: "InvalidParameterCombinationException", message: fmt.Sprintf(format, args...), senderFault: true}
}

func cwSerialization(err error) *cwError {
	return &cwError{status: http.StatusBadRequest, queryCode: "SerializationException", shape: "SerializationException", message: "could not decode the request body: " + err.Error(), senderFault: true}
}

func writeCWError(rc *Request, e *cwError) {
	code := e.shape
	if rc.Protocol == ProtoQuery {
		code = e.queryCode
	} else {
		fault := "Sender"
		if !e.senderFault {
			fault = "Receiver"
		}
		rc.W.Header().Set("X-Amzn-Query-Error", e.queryCode+";"+fault)
	}
	rc.WriteError(&APIError{Status: e.status, Code: code, Message: e.message})
}

var cwOperations = map[string]bool{"GetMetricData": true, "PutMetricData": true}

func (s *Sim) serveCloudWatch(rc *Request) {
	var action string
	switch {
	case rc.HTTP.Header.Get("Smithy-Protocol") == "rpc-v2-cbor":
		rc.Protocol = ProtoCBOR
		op, ok := strings.CutPrefix(rc.HTTP.URL.Path, cwCBORPath)
		if !ok || rc.HTTP.Method != http.MethodPost {
			rc.WriteError(&APIError{Status: http.StatusNotFound, Code: "UnknownOperationException",
				Message: fmt.Sprintf("%s %q: RPC v2 CBOR requests are POST %s<Operation>", rc.HTTP.Method, rc.HTTP.URL.Path, cwCBORPath)})
			return
		}
		action = op
	case strings.HasPrefix(rc.HTTP.Header.Get("Content-Type"), "application/x-amz-json-1.0"):
		rc.Protocol = ProtoJSON10
		op, ok := strings.CutPrefix(rc.HTTP.Header.Get("X-Amz-Target"), cwTargetPrefix+".")
		if !ok {
			rc.WriteError(&APIError{Status: http.StatusBadRequest, Code: "UnknownOperationException",
				Message: fmt.Sprintf("X-Amz-Target %q: want %s.<Operation>", rc.HTTP.Header.Get("X-Amz-Target"), cwTargetPrefix)})
			return
		}
		action = op
	case rc.Form != nil:
		rc.Protocol = ProtoQuery
		a, ok := queryAction(rc, cwVersion)
		if !ok {
			return
		}
		action = a
	default:
		rc.WriteError(&APIError{Status: http.StatusBadRequest, Code: "UnknownOperationException",
			Message: "CloudWatch requests must be Smithy RPC v2 CBOR, awsJson1_0 or awsquery"})
		return
	}
	if !cwOperations[action] {
		code := "UnknownOperationException"
		if rc.Protocol == ProtoQuery {
			code = "InvalidAction"
		}
		rc.WriteError(&APIError{Status: http.StatusBadRequest, Code: code,
			Message: fmt.Sprintf("operation %q is not simulated; CloudWatch serves GetMetricData and PutMetricData", action)})
		return
	}
	if !s.admit(rc, action) {
		return
	}
	if err := gunzipBody(rc); err != nil {
		writeCWError(rc, err)
		return
	}
	var err *cwError
	switch action {
	case "GetMetricData":
		err = s.cwGetMetricData(rc)
	case "PutMetricData":
		err = s.cwPutMetricData(rc)
	}
	if err != nil {
		writeCWError(rc, err)
	}
}

// gunzipBody undoes the request compression the SDKs apply to
// PutMetricData (the model's requestCompression trait; aws-sdk-go-v2 sends
// Content-Encoding: gzip). The decompressed size is bounded like any body.
func gunzipBody(rc *Request) *cwError {
	if !strings.EqualFold(strings.TrimSpace(rc.HTTP.Header.Get("Content-Encoding")), "gzip") {
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(rc.Body))
	if err != nil {
		return cwSerialization(fmt.Errorf("Content-Encoding gzip: %w", err))
	}
	body, err := io.ReadAll(io.LimitReader(zr, maxBodyBytes+1))
	if err != nil {
		return cwSerialization(fmt.Errorf("Content-Encoding gzip: %w", err))
	}
	if len(body) > maxBodyBytes {
		return &cwError{status: http.StatusRequestEntityTooLarge, queryCode: "RequestEntityTooLarge", shape: "RequestEntityTooLarge",
			message: "the decompressed request body is too large", senderFault: true}
	}
	rc.Body = body
	if rc.Protocol == ProtoQuery {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return cwInvalid("parsing the decompressed form body: %v", err)
		}
		rc.Form = form
	}
	return nil
}

// epochTime is a Smithy timestamp: CBOR tag 1 (or an untagged number) and
// JSON epoch seconds.
type epochTime struct {
	time.Time
	set bool
}

var cwDecMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  16,
		MaxArrayElements: 200_000,
		MaxMapPairs:      1_000,
		IndefLength:      cbor.IndefLengthAllowed,
		TimeTag:          cbor.DecTagOptional,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(fmt.Sprintf("awssim: CloudWatch CBOR decoder options: %v", err))
	}
	return dm
}()

func (e *epochTime) UnmarshalCBOR(b []byte) error {
	var t time.Time
	if err := cwDecMode.Unmarshal(b, &t); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	e.Time, e.set = t.UTC(), true
	return nil
}

func (e *epochTime) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("timestamp: want epoch seconds: %w", err)
	}
	if math.IsNaN(f) || math.Abs(f) > 1e11 {
		return fmt.Errorf("timestamp %v out of range", f)
	}
	sec, frac := math.Modf(f)
	e.Time, e.set = time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	return nil
}

type cwDimension struct {
	Name  string `cbor:"Name" json:"Name"`
	Value string `cbor:"Value" json:"Value"`
}

type cwMetric struct {
	Namespace  string        `cbor:"Namespace" json:"Namespace"`
	MetricName string        `cbor:"MetricName" json:"MetricName"`
	Dimensions []cwDimension `cbor:"Dimensions" json:"Dimensions"`
}

type cwMetricStat struct {
	Metric *cwMetric `cbor:"Metric" json:"Metric"`
	Period *int32    `cbor:"Period" json:"Period"`
	Stat   string    `cbor:"Stat" json:"Stat"`
	Unit   string    `cbor:"Unit" json:"Unit"`
}

type cwQuery struct {
	ID         string        `cbor:"Id" json:"Id"`
	MetricStat *cwMetricStat `cbor:"MetricStat" json:"MetricStat"`
	Expression string        `cbor:"Expression" json:"Expression"`
	Label      string        `cbor:"Label" json:"Label"`
	ReturnData *bool         `cbor:"ReturnData" json:"ReturnData"`
	Period     *int32        `cbor:"Period" json:"Period"`
	AccountID  string        `cbor:"AccountId" json:"AccountId"`
}

type getMetricDataInput struct {
	MetricDataQueries []cwQuery `cbor:"MetricDataQueries" json:"MetricDataQueries"`
	StartTime         epochTime `cbor:"StartTime" json:"StartTime"`
	EndTime           epochTime `cbor:"EndTime" json:"EndTime"`
	NextToken         string    `cbor:"NextToken" json:"NextToken"`
	ScanBy            string    `cbor:"ScanBy" json:"ScanBy"`
	MaxDatapoints     *int32    `cbor:"MaxDatapoints" json:"MaxDatapoints"`
	LabelOptions      *struct {
		Timezone string `cbor:"Timezone" json:"Timezone"`
	} `cbor:"LabelOptions" json:"LabelOptions"`
}

type cwStatisticSet struct {
	SampleCount *float64 `cbor:"SampleCount" json:"SampleCount"`
	Sum         *float64 `cbor:"Sum" json:"Sum"`
	Minimum     *float64 `cbor:"Minimum" json:"Minimum"`
	Maximum     *float64 `cbor:"Maximum" json:"Maximum"`
}

type cwDatum struct {
	MetricName        string          `cbor:"MetricName" json:"MetricName"`
	Dimensions        []cwDimension   `cbor:"Dimensions" json:"Dimensions"`
	Timestamp         epochTime       `cbor:"Timestamp" json:"Timestamp"`
	Value             *float64        `cbor:"Value" json:"Value"`
	StatisticValues   *cwStatisticSet `cbor:"StatisticValues" json:"StatisticValues"`
	Values            []float64       `cbor:"Values" json:"Values"`
	Counts            []float64       `cbor:"Counts" json:"Counts"`
	Unit              string          `cbor:"Unit" json:"Unit"`
	StorageResolution *int32          `cbor:"StorageResolution" json:"StorageResolution"`
}

type putMetricDataInput struct {
	Namespace  string    `cbor:"Namespace" json:"Namespace"`
	MetricData []cwDatum `cbor:"MetricData" json:"MetricData"`
}

// decodeCWInput fills in from the request body in whichever protocol it
// came.
func decodeCWInput(rc *Request, in any, fromForm func(url.Values) *cwError) *cwError {
	switch rc.Protocol {
	case ProtoCBOR:
		if len(rc.Body) == 0 {
			return nil
		}
		if err := cwDecMode.Unmarshal(rc.Body, in); err != nil {
			return cwSerialization(err)
		}
	case ProtoJSON10:
		if len(bytes.TrimSpace(rc.Body)) == 0 {
			return nil
		}
		if err := json.Unmarshal(rc.Body, in); err != nil {
			return cwSerialization(err)
		}
	default:
		return fromForm(rc.Form)
	}
	return nil
}

// validCWID matches ^[a-z][a-zA-Z0-9_]*$, the shape of a query id, without
// running a regular expression for each of up to 500 queries.
func validCWID(id string) bool {
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return id != ""
}

// cwPlan is a validated GetMetricData request.
type cwPlan struct {
	queries       []cwQuery
	stats         []statistic
	start, end    int64
	ascending     bool
	maxDatapoints int
	offset        int
	fingerprint   uint64
}

func (s *Sim) cwGetMetricData(rc *Request) *cwError {
	var in getMetricDataInput
	if err := decodeCWInput(rc, &in, func(f url.Values) *cwError { return getMetricDataFromForm(f, &in) }); err != nil {
		return err
	}
	plan, err := planGetMetricData(&in, rc.Account)
	if err != nil {
		return err
	}
	results, err := s.evalGetMetricData(rc, plan)
	if err != nil {
		return err
	}
	writeGetMetricData(rc, results)
	return nil
}

func planGetMetricData(in *getMetricDataInput, account string) (*cwPlan, *cwError) {
	if len(in.MetricDataQueries) == 0 {
		return nil, cwMissing("MetricDataQueries")
	}
	if len(in.MetricDataQueries) > cwMaxQueries {
		return nil, cwInvalid("The collection MetricDataQueries must not have a size greater than %d.", cwMaxQueries)
	}
	if !in.StartTime.set {
		return nil, cwMissing("StartTime")
	}
	if !in.EndTime.set {
		return nil, cwMissing("EndTime")
	}
	// CloudWatch rounds the start down to the minute.
	start := in.StartTime.Unix() / 60 * 60
	end := in.EndTime.Unix()
	if in.EndTime.Nanosecond() > 0 {
		end++
	}
	if start >= end {
		return nil, cwInvalid("The parameter StartTime must be less than the parameter EndTime.")
	}
	p := &cwPlan{queries: in.MetricDataQueries, start: start, end: end, maxDatapoints: cwMaxDatapoints}
	switch in.ScanBy {
	case "", "TimestampDescending":
	case "TimestampAscending":
		p.ascending = true
	default:
		return nil, cwInvalid("The value %s for parameter ScanBy is invalid: want TimestampDescending or TimestampAscending.", in.ScanBy)
	}
	if in.MaxDatapoints != nil {
		if *in.MaxDatapoints < 1 || *in.MaxDatapoints > cwMaxDatapoints {
			return nil, cwInvalid("The parameter MaxDatapoints must be between 1 and %d.", cwMaxDatapoints)
		}
		p.maxDatapoints = int(*in.MaxDatapoints)
	}
	seen := make(map[string]bool, len(in.MetricDataQueries))
	h := fnv.New64a()
	var part []byte
	_, _ = fmt.Fprintf(h, "%d/%d/%v/", start, end, p.ascending)
	for i, q := range in.MetricDataQueries {
		field := "MetricDataQueries.member." + strconv.Itoa(i+1)
		if q.ID == "" {
			return nil, cwMissing(field + ".Id")
		}
		if len(q.ID) > 255 || !validCWID(q.ID) {
			return nil, cwInvalid("The value %s for parameter %s.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.", q.ID, field)
		}
		if seen[q.ID] {
			return nil, cwInvalid("The value %s for parameter MetricDataQueries.Id is used more than once; ids must be unique.", q.ID)
		}
		seen[q.ID] = true
		if q.AccountID != "" && q.AccountID != account {
			return nil, cwInvalid("%s.AccountId %s: cross-account metrics are not simulated; this is account %s.", field, q.AccountID, account)
		}
		if (q.MetricStat == nil) == (q.Expression == "") {
			return nil, cwCombination("%s: exactly one of MetricStat and Expression must be specified.", field)
		}
		if q.Expression != "" {
			return nil, cwInvalid("%s.Expression: metric math and Metrics Insights queries are not simulated; use MetricStat.", field)
		}
		ms := q.MetricStat
		if ms.Metric == nil || ms.Metric.MetricName == "" {
			return nil, cwMissing(field + ".MetricStat.Metric.MetricName")
		}
		if ms.Metric.Namespace == "" {
			return nil, cwMissing(field + ".MetricStat.Metric.Namespace")
		}
		if err := checkDimensions(ms.Metric.Dimensions, field+".MetricStat.Metric.Dimensions"); err != nil {
			return nil, err
		}
		if ms.Period == nil {
			return nil, cwMissing(field + ".MetricStat.Period")
		}
		if per := *ms.Period; per < 1 || (per < 60 && !slices.Contains([]int32{1, 5, 10, 20, 30}, per)) || (per >= 60 && per%60 != 0) {
			return nil, cwInvalid("The parameter %s.MetricStat.Period must be 1, 5, 10, 20, 30 or a multiple of 60; got %d.", field, per)
		}
		if ms.Stat == "" {
			return nil, cwMissing(field + ".MetricStat.Stat")
		}
		st, err := parseStatistic(ms.Stat)
		if err != nil {
			return nil, cwInvalid("%s.MetricStat.Stat: %v", field, err)
		}
		if ms.Unit != "" && !cwUnits[ms.Unit] {
			return nil, cwInvalid("The value %s for parameter %s.MetricStat.Unit is not a CloudWatch unit.", ms.Unit, field)
		}
		p.stats = append(p.stats, st)
		// Each query's parts, NUL-terminated, hashed in one write.
		part = part[:0]
		for _, s := range [...]string{q.ID, ms.Metric.Namespace, ms.Metric.MetricName} {
			part = append(append(part, s...), 0)
		}
		part = append(appendDimsKey(part, ms.Metric.Dimensions), 0)
		part = append(strconv.AppendInt(part, int64(*ms.Period), 10), 0)
		for _, s := range [...]string{ms.Stat, ms.Unit} {
			part = append(append(part, s...), 0)
		}
		_, _ = h.Write(part)
	}
	p.fingerprint = h.Sum64()
	if in.NextToken != "" {
		off, ok := decodePageToken(in.NextToken, p.fingerprint)
		if !ok {
			return nil, &cwError{status: http.StatusBadRequest, queryCode: "InvalidNextToken", shape: "InvalidNextToken",
				message: "The NextToken is invalid or does not belong to this request.", senderFault: true}
		}
		p.offset = off
	}
	return p, nil
}

func checkDimensions(dims []cwDimension, field string) *cwError {
	if len(dims) > cwMaxDimensions {
		return cwInvalid("The collection %s must not have a size greater than %d.", field, cwMaxDimensions)
	}
	names := map[string]bool{}
	for j, d := range dims {
		if d.Name == "" || len(d.Name) > 255 {
			return cwInvalid("%s.member.%d.Name must be 1 to 255 characters.", field, j+1)
		}
		if d.Value == "" || len(d.Value) > 1024 {
			return cwInvalid("%s.member.%d.Value must be 1 to 1024 characters.", field, j+1)
		}
		if names[d.Name] {
			return cwInvalid("%s: dimension %s appears more than once.", field, d.Name)
		}
		names[d.Name] = true
	}
	return nil
}

// pageToken is the NextToken of every paginated operation the simulator
// owns here: an offset bound to a fingerprint of the request, so a token
// replayed against another request is rejected as AWS rejects it.
type pageToken struct {
	Offset      int    `json:"o"`
	Fingerprint uint64 `json:"f"`
}

func encodePageToken(off int, fp uint64) string {
	b, _ := json.Marshal(pageToken{Offset: off, Fingerprint: fp})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(tok string, fp uint64) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	var t pageToken
	if json.Unmarshal(b, &t) != nil || t.Fingerprint != fp || t.Offset < 1 {
		return 0, false
	}
	return t.Offset, true
}

// cwResult is one MetricDataResult of a page.
type cwResult struct {
	ID, Label  string
	Timestamps []int64
	Values     []float64
	Complete   bool
}

type cwResults struct {
	results   []cwResult
	nextToken string
}

// evalGetMetricData computes every query's datapoints and cuts the page
// the plan's offset and MaxDatapoints select.
func (s *Sim) evalGetMetricData(rc *Request, p *cwPlan) (*cwResults, *cwError) {
	now := rc.Now.Unix()
	// Resolve every query to its series under the lock, then aggregate
	// without it: builtin series are pure functions of (profile, seed, t)
	// and custom samples are copied.
	srcs := make([]*series, len(p.queries))
	s.mu.Lock()
	s.settleAccount(rc.Account)
	wanted := map[string]map[string]bool{}
	for _, q := range p.queries {
		m := q.MetricStat.Metric
		ns, ok := builtinNamespaces[m.Namespace]
		if !ok || len(m.Dimensions) != 1 || m.Dimensions[0].Name != ns.dimension {
			continue
		}
		if wanted[m.Namespace] == nil {
			wanted[m.Namespace] = make(map[string]bool, len(p.queries))
		}
		wanted[m.Namespace][m.Dimensions[0].Value] = true
	}
	resources := map[string]map[string]*builtinResource{}
	for nsName, ids := range wanted {
		resources[nsName] = s.builtinResources(rc.Account, rc.Region, builtinNamespaces[nsName], ids)
	}
	cw := regionExt(s.region(rc.Account, rc.Region), "monitoring", newCWState)
	for i, q := range p.queries {
		m := q.MetricStat.Metric
		if sr, ok := s.bucketSizeSeries(rc.Account, rc.Region, m, p.start, p.end, now); ok {
			srcs[i] = sr
			continue
		}
		if ns, ok := builtinNamespaces[m.Namespace]; ok {
			bm, known := ns.metrics[m.MetricName]
			if r := resources[m.Namespace][dimValue(m.Dimensions)]; known && r != nil && len(m.Dimensions) == 1 {
				srcs[i] = &series{builtin: r, metric: bm, name: m.Namespace + "/" + m.MetricName, unit: bm.unit}
			}
			continue
		}
		if cs, ok := cw.series[newMetricKey(m.Namespace, m.MetricName, m.Dimensions)]; ok {
			srcs[i] = &series{custom: slices.Clone(cs.samples), unit: cs.unit}
		}
	}
	s.mu.Unlock()

	all := make([]cwResult, len(p.queries))
	total := 0
	var agg aggregator
	for i, q := range p.queries {
		r := cwResult{ID: q.ID, Label: q.Label}
		if r.Label == "" {
			r.Label = q.MetricStat.Metric.MetricName
		}
		src := srcs[i]
		if src != nil && (q.MetricStat.Unit == "" || q.MetricStat.Unit == src.unit) {
			r.Timestamps, r.Values = src.answer(p.start, p.end, int64(*q.MetricStat.Period), now, p.stats[i], &agg)
		}
		if !p.ascending {
			// The answer may be shared with other requests.
			r.Timestamps, r.Values = slices.Clone(r.Timestamps), slices.Clone(r.Values)
			slices.Reverse(r.Timestamps)
			slices.Reverse(r.Values)
		}
		if q.ReturnData == nil || *q.ReturnData {
			total += len(r.Timestamps)
			all[i] = r
		} else {
			all[i] = cwResult{ID: "\x00"}
		}
	}
	out := &cwResults{}
	// Walk the concatenated datapoints of all queries and keep
	// [offset, offset+max).
	pos, from, to := 0, p.offset, p.offset+p.maxDatapoints
	if from > total {
		return nil, &cwError{status: http.StatusBadRequest, queryCode: "InvalidNextToken", shape: "InvalidNextToken",
			message: "The NextToken is past the end of the data.", senderFault: true}
	}
	for _, r := range all {
		if r.ID == "\x00" {
			continue
		}
		n := len(r.Timestamps)
		lo, hi := max(from-pos, 0), min(to-pos, n)
		page := cwResult{ID: r.ID, Label: r.Label, Complete: to-pos >= n}
		if lo < hi {
			page.Timestamps, page.Values = r.Timestamps[lo:hi], r.Values[lo:hi]
		}
		pos += n
		out.results = append(out.results, page)
	}
	if to < total {
		out.nextToken = encodePageToken(to, p.fingerprint)
	}
	return out, nil
}

func dimValue(d []cwDimension) string {
	if len(d) == 0 {
		return ""
	}
	return d[0].Value
}

func writeGetMetricData(rc *Request, res *cwResults) {
	switch rc.Protocol {
	case ProtoCBOR, ProtoJSON10:
		if rc.Protocol == ProtoCBOR {
			if body, ok := appendGetMetricDataCBOR(nil, res); ok {
				rc.WriteCBORBody(http.StatusOK, body)
				return
			}
			rc.WriteCBOR(http.StatusOK, getMetricDataDoc(rc.Protocol, res))
		} else {
			rc.WriteJSON(http.StatusOK, "application/x-amz-json-1.0", getMetricDataDoc(rc.Protocol, res))
		}
	default:
		out := cwGetMetricDataResponse{XMLNS: cwXMLNS, RequestID: rc.RequestID, NextToken: res.nextToken}
		for _, r := range res.results {
			x := cwXMLResult{ID: r.ID, Label: r.Label, StatusCode: statusCode(r.Complete)}
			for i, t := range r.Timestamps {
				x.Timestamps = append(x.Timestamps, time.Unix(t, 0).UTC().Format(time.RFC3339))
				x.Values = append(x.Values, strconv.FormatFloat(r.Values[i], 'g', -1, 64))
			}
			out.Results = append(out.Results, x)
		}
		rc.WriteXML(http.StatusOK, out)
	}
}

// getMetricDataDoc is the GetMetricDataOutput document for the CBOR and
// JSON protocols.
func getMetricDataDoc(p Protocol, res *cwResults) cwOutputDoc {
	doc := cwOutputDoc{MetricDataResults: make([]cwResultDoc, 0, len(res.results)), Messages: []struct{}{}, NextToken: res.nextToken}
	for _, r := range res.results {
		d := cwResultDoc{ID: r.ID, Label: r.Label, Values: r.Values, StatusCode: statusCode(r.Complete), Messages: []struct{}{}}
		if d.Values == nil {
			d.Values = []float64{}
		}
		if p == ProtoCBOR {
			d.Timestamps = cborEpochs(r.Timestamps)
		} else {
			d.Timestamps = append([]int64{}, r.Timestamps...)
		}
		doc.MetricDataResults = append(doc.MetricDataResults, d)
	}
	return doc
}

// appendGetMetricDataCBOR writes byte for byte what cbor.Marshal writes for
// getMetricDataDoc(ProtoCBOR, res) (TestGetMetricDataCBORMatchesGenericEncoder
// holds it to that): the generic encoder's reflection and its check of every
// timestamp list's well-formedness were a fifth of a 500-query call. It
// declines (false) values that are not finite, which the generic encoder
// converts by its own rules.
func appendGetMetricDataCBOR(b []byte, res *cwResults) ([]byte, bool) {
	n := 0
	for _, r := range res.results {
		n += 64 + len(r.ID) + len(r.Label) + 19*len(r.Values)
	}
	if b == nil {
		b = make([]byte, 0, 64+n)
	}
	fields := uint64(2)
	if res.nextToken != "" {
		fields = 3
	}
	b = cborHead(b, 5, fields)
	b = cborText(b, "MetricDataResults")
	b = cborHead(b, 4, uint64(len(res.results)))
	for _, r := range res.results {
		b = cborHead(b, 5, 6)
		b = cborText(cborText(b, "Id"), r.ID)
		b = cborText(cborText(b, "Label"), r.Label)
		b = appendCBOREpochs(cborText(b, "Timestamps"), r.Timestamps)
		b = cborHead(cborText(b, "Values"), 4, uint64(len(r.Values)))
		for _, v := range r.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, false
			}
			b = binary.BigEndian.AppendUint64(append(b, 0xfb), math.Float64bits(v))
		}
		b = cborText(cborText(b, "StatusCode"), statusCode(r.Complete))
		b = cborHead(cborText(b, "Messages"), 4, 0)
	}
	b = cborHead(cborText(b, "Messages"), 4, 0)
	if res.nextToken != "" {
		b = cborText(cborText(b, "NextToken"), res.nextToken)
	}
	return b, true
}

// cborHead appends the head of a CBOR data item of major type major with
// argument n in its shortest form.
func cborHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= math.MaxUint8:
		return append(b, m|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

// cborText appends s as a CBOR text string.
func cborText(b []byte, s string) []byte {
	return append(cborHead(b, 3, uint64(len(s))), s...)
}

// cborEpochs is a list of Smithy timestamps on the CBOR wire: an array of
// tag 1 around the epoch seconds as a float64, written directly (the generic
// encoder would box every timestamp of every datapoint and call a marshaler
// for each).
type cborEpochs []int64

func (ts cborEpochs) MarshalCBOR() ([]byte, error) {
	return appendCBOREpochs(make([]byte, 0, 9+10*len(ts)), ts), nil
}

func appendCBOREpochs(b []byte, ts []int64) []byte {
	b = cborHead(b, 4, uint64(len(ts)))
	for _, t := range ts {
		b = binary.BigEndian.AppendUint64(append(b, 0xc1, 0xfb), math.Float64bits(float64(t))) // tag 1, float64
	}
	return b
}

// cwOutputDoc is GetMetricDataOutput for the CBOR and JSON protocols.
type cwOutputDoc struct {
	MetricDataResults []cwResultDoc `cbor:"MetricDataResults" json:"MetricDataResults"`
	Messages          []struct{}    `cbor:"Messages" json:"Messages"`
	NextToken         string        `cbor:"NextToken,omitempty" json:"NextToken,omitempty"`
}

type cwResultDoc struct {
	ID    string `cbor:"Id" json:"Id"`
	Label string `cbor:"Label" json:"Label"`
	// Timestamps are CBOR tag-1 epoch seconds or JSON epoch numbers.
	Timestamps any        `cbor:"Timestamps" json:"Timestamps"`
	Values     []float64  `cbor:"Values" json:"Values"`
	StatusCode string     `cbor:"StatusCode" json:"StatusCode"`
	Messages   []struct{} `cbor:"Messages" json:"Messages"`
}

func statusCode(complete bool) string {
	if complete {
		return "Complete"
	}
	return "PartialData"
}

type cwGetMetricDataResponse struct {
	XMLName   xml.Name      `xml:"GetMetricDataResponse"`
	XMLNS     string        `xml:"xmlns,attr"`
	Results   []cwXMLResult `xml:"GetMetricDataResult>MetricDataResults>member"`
	NextToken string        `xml:"GetMetricDataResult>NextToken,omitempty"`
	RequestID string        `xml:"ResponseMetadata>RequestId"`
}

type cwXMLResult struct {
	ID         string   `xml:"Id"`
	Label      string   `xml:"Label"`
	Timestamps []string `xml:"Timestamps>member"`
	Values     []string `xml:"Values>member"`
	StatusCode string   `xml:"StatusCode"`
}

type cwPutMetricDataResponse struct {
	XMLName   xml.Name `xml:"PutMetricDataResponse"`
	XMLNS     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"ResponseMetadata>RequestId"`
}

// cwUnits is CloudWatch's StandardUnit enumeration.
var cwUnits = func() map[string]bool {
	m := map[string]bool{}
	for u := range strings.FieldsSeq("Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second Megabytes/Second Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second Terabits/Second Count/Second None") {
		m[u] = true
	}
	return m
}()

// maxCWValue is CloudWatch's accepted magnitude: values must lie within
// ±2^360.
var maxCWValue = math.Pow(2, 360)

func checkCWValue(v float64, field string) *cwError {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxCWValue {
		return cwInvalid("The value %v for parameter %s is invalid: values must be finite and within ±2^360.", v, field)
	}
	return nil
}

func (s *Sim) cwPutMetricData(rc *Request) *cwError {
	var in putMetricDataInput
	if err := decodeCWInput(rc, &in, func(f url.Values) *cwError { return putMetricDataFromForm(f, &in) }); err != nil {
		return err
	}
	if in.Namespace == "" {
		return cwMissing("Namespace")
	}
	if len(in.Namespace) > 255 || strings.HasPrefix(in.Namespace, "AWS/") || strings.HasPrefix(in.Namespace, ":") {
		return cwInvalid("The value %s for parameter Namespace is invalid: namespaces starting with AWS/ are reserved for AWS.", in.Namespace)
	}
	if len(in.MetricData) == 0 {
		return cwMissing("MetricData")
	}
	if len(in.MetricData) > cwMaxMetricData {
		return cwInvalid("The collection MetricData must not have a size greater than %d.", cwMaxMetricData)
	}
	now := rc.Now
	type put struct {
		key  metricKey
		unit string
		smp  []sample
	}
	puts := make([]put, 0, len(in.MetricData))
	for i, d := range in.MetricData {
		field := fmt.Sprintf("MetricData.member.%d", i+1)
		if d.MetricName == "" || len(d.MetricName) > 255 {
			return cwMissing(field + ".MetricName")
		}
		if err := checkDimensions(d.Dimensions, field+".Dimensions"); err != nil {
			return err
		}
		if d.Unit != "" && !cwUnits[d.Unit] {
			return cwInvalid("The value %s for parameter %s.Unit is not a CloudWatch unit.", d.Unit, field)
		}
		if d.StorageResolution != nil && *d.StorageResolution != 1 && *d.StorageResolution != 60 {
			return cwInvalid("The parameter %s.StorageResolution must be 1 or 60.", field)
		}
		ts := now
		if d.Timestamp.set {
			ts = d.Timestamp.Time
		}
		if ts.Before(now.Add(-14*24*time.Hour)) || ts.After(now.Add(2*time.Hour)) {
			return cwInvalid("The parameter %s.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.", field)
		}
		kinds := 0
		for _, set := range []bool{d.Value != nil, d.StatisticValues != nil, len(d.Values) > 0} {
			if set {
				kinds++
			}
		}
		if kinds > 1 {
			return cwCombination("%s: only one of Value, StatisticValues and Values may be set.", field)
		}
		if kinds == 0 {
			return cwMissing(field + ".Value")
		}
		t := ts.Unix()
		var smp []sample
		switch {
		case d.Value != nil:
			if err := checkCWValue(*d.Value, field+".Value"); err != nil {
				return err
			}
			smp = []sample{{t: t, value: *d.Value, count: 1}}
		case d.StatisticValues != nil:
			sv := d.StatisticValues
			if sv.SampleCount == nil || sv.Sum == nil || sv.Minimum == nil || sv.Maximum == nil {
				return cwMissing(field + ".StatisticValues (SampleCount, Sum, Minimum and Maximum are all required)")
			}
			for name, v := range map[string]float64{"SampleCount": *sv.SampleCount, "Sum": *sv.Sum, "Minimum": *sv.Minimum, "Maximum": *sv.Maximum} {
				if err := checkCWValue(v, field+".StatisticValues."+name); err != nil {
					return err
				}
			}
			if *sv.SampleCount <= 0 || *sv.Minimum > *sv.Maximum {
				return cwInvalid("%s.StatisticValues: SampleCount must be positive and Minimum at most Maximum.", field)
			}
			smp = []sample{{t: t, set: true, count: *sv.SampleCount, sum: *sv.Sum, min: *sv.Minimum, max: *sv.Maximum}}
		default:
			if len(d.Values) > cwMaxValues {
				return cwInvalid("The collection %s.Values must not have a size greater than %d.", field, cwMaxValues)
			}
			if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
				return cwCombination("%s: Counts must have as many members as Values.", field)
			}
			for j, v := range d.Values {
				if err := checkCWValue(v, fmt.Sprintf("%s.Values.member.%d", field, j+1)); err != nil {
					return err
				}
				c := 1.0
				if len(d.Counts) > 0 {
					c = d.Counts[j]
					if err := checkCWValue(c, fmt.Sprintf("%s.Counts.member.%d", field, j+1)); err != nil {
						return err
					}
					if c < 0 {
						return cwInvalid("The value %v for parameter %s.Counts.member.%d must not be negative.", c, field, j+1)
					}
					if c == 0 {
						continue
					}
				}
				smp = append(smp, sample{t: t, value: v, count: c})
			}
		}
		puts = append(puts, put{key: newMetricKey(in.Namespace, d.MetricName, d.Dimensions), unit: d.Unit, smp: smp})
	}
	s.mu.Lock()
	cw := regionExt(s.region(rc.Account, rc.Region), "monitoring", newCWState)
	for _, p := range puts {
		cw.put(p.key, p.unit, p.smp, now)
	}
	s.mu.Unlock()
	switch rc.Protocol {
	case ProtoCBOR:
		rc.WriteCBOR(http.StatusOK, map[string]any{})
	case ProtoJSON10:
		rc.WriteJSON(http.StatusOK, "application/x-amz-json-1.0", map[string]any{})
	default:
		rc.WriteXML(http.StatusOK, cwPutMetricDataResponse{XMLNS: cwXMLNS, RequestID: rc.RequestID})
	}
	return nil
}

// getMetricDataFromForm reads an awsquery GetMetricData request.
func getMetricDataFromForm(f url.Values, in *getMetricDataInput) *cwError {
	var err error
	if in.StartTime, err = formTime(f, "StartTime"); err != nil {
		return cwInvalid("%v", err)
	}
	if in.EndTime, err = formTime(f, "EndTime"); err != nil {
		return cwInvalid("%v", err)
	}
	in.NextToken, in.ScanBy = f.Get("NextToken"), f.Get("ScanBy")
	if in.MaxDatapoints, err = formInt32(f, "MaxDatapoints"); err != nil {
		return cwInvalid("%v", err)
	}
	qs, apiErr := SubForms(f, "MetricDataQueries.member")
	if apiErr != nil {
		return cwInvalid("%s", apiErr.Message)
	}
	for i, q := range qs {
		field := fmt.Sprintf("MetricDataQueries.member.%d.", i+1)
		cq := cwQuery{ID: q.Get("Id"), Expression: q.Get("Expression"), Label: q.Get("Label"), AccountID: q.Get("AccountId")}
		if v := q.Get("ReturnData"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return cwInvalid("The value %s for parameter %sReturnData is not a boolean.", v, field)
			}
			cq.ReturnData = &b
		}
		if cq.Period, err = formInt32(q, "Period"); err != nil {
			return cwInvalid("%s%v", field, err)
		}
		if hasPrefix(q, "MetricStat.") {
			ms := &cwMetricStat{Stat: q.Get("MetricStat.Stat"), Unit: q.Get("MetricStat.Unit")}
			if ms.Period, err = formInt32(q, "MetricStat.Period"); err != nil {
				return cwInvalid("%s%v", field, err)
			}
			if hasPrefix(q, "MetricStat.Metric.") {
				ms.Metric = &cwMetric{Namespace: q.Get("MetricStat.Metric.Namespace"), MetricName: q.Get("MetricStat.Metric.MetricName")}
				if ms.Metric.Dimensions, err = formDimensions(q, "MetricStat.Metric.Dimensions.member"); err != nil {
					return cwInvalid("%s%v", field, err)
				}
			}
			cq.MetricStat = ms
		}
		in.MetricDataQueries = append(in.MetricDataQueries, cq)
	}
	return nil
}

// putMetricDataFromForm reads an awsquery PutMetricData request.
func putMetricDataFromForm(f url.Values, in *putMetricDataInput) *cwError {
	in.Namespace = f.Get("Namespace")
	ds, apiErr := SubForms(f, "MetricData.member")
	if apiErr != nil {
		return cwInvalid("%s", apiErr.Message)
	}
	for i, d := range ds {
		field := fmt.Sprintf("MetricData.member.%d.", i+1)
		cd := cwDatum{MetricName: d.Get("MetricName"), Unit: d.Get("Unit")}
		var err error
		if cd.Dimensions, err = formDimensions(d, "Dimensions.member"); err != nil {
			return cwInvalid("%s%v", field, err)
		}
		if d.Has("Timestamp") {
			if cd.Timestamp, err = formTime(d, "Timestamp"); err != nil {
				return cwInvalid("%s%v", field, err)
			}
		}
		if cd.Value, err = formFloat(d, "Value"); err != nil {
			return cwInvalid("%s%v", field, err)
		}
		if hasPrefix(d, "StatisticValues.") {
			sv := &cwStatisticSet{}
			for name, dst := range map[string]**float64{"SampleCount": &sv.SampleCount, "Sum": &sv.Sum, "Minimum": &sv.Minimum, "Maximum": &sv.Maximum} {
				if *dst, err = formFloat(d, "StatisticValues."+name); err != nil {
					return cwInvalid("%s%v", field, err)
				}
			}
			cd.StatisticValues = sv
		}
		for _, list := range []struct {
			name string
			dst  *[]float64
		}{{"Values", &cd.Values}, {"Counts", &cd.Counts}} {
			vals, apiErr := IndexedList(d, list.name+".member")
			if apiErr != nil {
				return cwInvalid("%s%s", field, apiErr.Message)
			}
			for j, v := range vals {
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return cwInvalid("The value %s for parameter %s%s.member.%d is not a number.", v, field, list.name, j+1)
				}
				*list.dst = append(*list.dst, x)
			}
		}
		if cd.StorageResolution, err = formInt32(d, "StorageResolution"); err != nil {
			return cwInvalid("%s%v", field, err)
		}
		in.MetricData = append(in.MetricData, cd)
	}
	return nil
}

func hasPrefix(f url.Values, prefix string) bool {
	for k := range f {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func formDimensions(f url.Values, prefix string) ([]cwDimension, error) {
	subs, apiErr := SubForms(f, prefix)
	if apiErr != nil {
		return nil, errors.New(apiErr.Message)
	}
	out := make([]cwDimension, 0, len(subs))
	for _, d := range subs {
		out = append(out, cwDimension{Name: d.Get("Name"), Value: d.Get("Value")})
	}
	return out, nil
}

func formTime(f url.Values, name string) (epochTime, error) {
	v := f.Get(name)
	if v == "" {
		return epochTime{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return epochTime{}, fmt.Errorf("the value %s for parameter %s is not an ISO 8601 timestamp", v, name)
	}
	return epochTime{Time: t.UTC(), set: true}, nil
}

func formInt32(f url.Values, name string) (*int32, error) {
	v := f.Get(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("the value %s for parameter %s is not an integer", v, name)
	}
	x := int32(n)
	return &x, nil
}

func formFloat(f url.Values, name string) (*float64, error) {
	v := f.Get(name)
	if v == "" {
		return nil, nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, fmt.Errorf("the value %s for parameter %s is not a number", v, name)
	}
	return &x, nil
}
