package awssim

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsquota"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

const (
	ec2Version = "2016-11-15"
	ec2XMLNS   = "http://ec2.amazonaws.com/doc/2016-11-15/"
	// ec2Time is the timestamp format EC2 responses use.
	ec2Time = "2006-01-02T15:04:05.000Z"
)

func init() {
	registerService(serviceDef{name: "ec2", protocol: ProtoEC2, handle: (*Sim).serveEC2, throttle: ec2RequestBucket})
}

// ec2Handlers maps each supported action to its handler. A handler runs
// with s.mu held and returns the response document or an error.
var ec2Handlers = map[string]func(s *Sim, rc *Request, rs *RegionState) (any, *APIError){
	"RunInstances":                 (*Sim).ec2RunInstances,
	"DescribeInstances":            (*Sim).ec2DescribeInstances,
	"StopInstances":                (*Sim).ec2StopInstances,
	"StartInstances":               (*Sim).ec2StartInstances,
	"TerminateInstances":           (*Sim).ec2TerminateInstances,
	"ModifyInstanceAttribute":      (*Sim).ec2ModifyInstanceAttribute,
	"DescribeInstanceStatus":       (*Sim).ec2DescribeInstanceStatus,
	"DescribeInstanceTypes":        (*Sim).ec2DescribeInstanceTypes,
	"CreateVolume":                 (*Sim).ec2CreateVolume,
	"DescribeVolumes":              (*Sim).ec2DescribeVolumes,
	"DeleteVolume":                 (*Sim).ec2DeleteVolume,
	"AttachVolume":                 (*Sim).ec2AttachVolume,
	"ModifyVolume":                 (*Sim).ec2ModifyVolume,
	"DescribeVolumesModifications": (*Sim).ec2DescribeVolumesModifications,
	"CreateSnapshot":               (*Sim).ec2CreateSnapshot,
	"DescribeSnapshots":            (*Sim).ec2DescribeSnapshots,
	"DeleteSnapshot":               (*Sim).ec2DeleteSnapshot,
	"AllocateAddress":              (*Sim).ec2AllocateAddress,
	"DescribeAddresses":            (*Sim).ec2DescribeAddresses,
	"AssociateAddress":             (*Sim).ec2AssociateAddress,
	"ReleaseAddress":               (*Sim).ec2ReleaseAddress,
	"CreateTags":                   (*Sim).ec2CreateTags,
	"DeleteTags":                   (*Sim).ec2DeleteTags,
	"DescribeRegions":              (*Sim).ec2DescribeRegions,
}

func (s *Sim) serveEC2(rc *Request) {
	action, ok := queryAction(rc, ec2Version)
	if !ok {
		return
	}
	h, known := ec2Handlers[action]
	if !known {
		rc.WriteError(Errorf("InvalidAction", "The action %s is not valid for this web service.", action))
		return
	}
	if !s.admit(rc, action) {
		return
	}
	s.mu.Lock()
	rs := s.region(rc.Account, rc.Region)
	s.settleRegion(rc.Account, rs, rc.Now)
	resp, aerr := h(s, rc, rs)
	s.mu.Unlock()
	if aerr != nil {
		rc.WriteError(aerr)
		return
	}
	rc.WriteXML(http.StatusOK, resp)
}

// ec2RequestBucket classifies a call the way the EC2 throttling guide does
// ("unfiltered" means neither filters, ids nor pagination).
func ec2RequestBucket(rc *Request, action string) BucketSpec {
	unfiltered := !hasAnyPrefix(rc.Form, "Filter.", "MaxResults", "NextToken", "InstanceId.", "VolumeId.", "SnapshotId.", "Owner.")
	return awsquota.EC2(action, unfiltered)
}

func hasAnyPrefix(form map[string][]string, prefixes ...string) bool {
	for k := range form {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				return true
			}
		}
	}
	return false
}

// takeResourceTokens charges n instances against the action's resource
// bucket; false means the call must answer RequestLimitExceeded.
func (s *Sim) takeResourceTokens(rc *Request, n int) bool {
	spec, ok := awsquota.EC2Resource(rc.Action)
	return !ok || s.throttle.allow(rc, spec, n)
}

// typeCatalogue is the one list of the EC2 instance types and DB instance
// classes that exist, the embedded pricing catalogue's.
var typeCatalogue = sync.OnceValues(pricing.Embedded)

func (s *Sim) instanceSpec(name string) (pricing.InstanceSpec, *APIError) {
	cat, err := typeCatalogue()
	if err != nil {
		return pricing.InstanceSpec{}, &APIError{Status: http.StatusInternalServerError, Code: "InternalError",
			Message: fmt.Sprintf("loading the instance type catalogue: %v", err)}
	}
	spec, ok := cat.InstanceType(name)
	if !ok || strings.HasPrefix(name, "db.") {
		return pricing.InstanceSpec{}, Errorf("InvalidParameterValue", "Invalid value '%s' for InstanceType.", name)
	}
	return spec, nil
}

// Common EC2 XML pieces.

type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type ec2State struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type ec2Return struct {
	XMLName   xml.Name
	XMLNS     string `xml:"xmlns,attr"`
	RequestID string `xml:"requestId"`
	Return    bool   `xml:"return"`
}

func ec2ReturnTrue(rc *Request, action string) ec2Return {
	return ec2Return{XMLName: xml.Name{Local: action + "Response"}, XMLNS: ec2XMLNS, RequestID: rc.RequestID, Return: true}
}

func ec2Tags(tags map[string]string) []ec2Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]ec2Tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, ec2Tag{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b ec2Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func ec2Timestamp(t time.Time) string { return t.UTC().Format(ec2Time) }

func stateOf(name string) ec2State { return ec2State{Code: instanceStateCode[name], Name: name} }

// maxTagsPerResource is EC2's limit of user tags per resource.
const maxTagsPerResource = 50

// tagSpecifications parses TagSpecification.N.{ResourceType,Tag.M.*} and
// returns the tags per resource type, rejecting types the action cannot tag.
func tagSpecifications(rc *Request, allowed ...string) (map[string]map[string]string, *APIError) {
	subs, aerr := SubForms(rc.Form, "TagSpecification")
	if aerr != nil {
		return nil, aerr
	}
	out := map[string]map[string]string{}
	for i, sub := range subs {
		rt := sub.Get("ResourceType")
		if !slices.Contains(allowed, rt) {
			return nil, Errorf("InvalidParameterValue", "TagSpecification.%d.ResourceType: '%s' is not a valid taggable resource type for this operation (want one of %s)", i+1, rt, strings.Join(allowed, ", "))
		}
		tags, aerr := TagList(sub, "Tag")
		if aerr != nil {
			return nil, aerr
		}
		if out[rt] == nil {
			out[rt] = map[string]string{}
		}
		for _, t := range tags {
			out[rt][t.Key] = t.Value
		}
		if len(out[rt]) > maxTagsPerResource {
			return nil, Errorf("TagLimitExceeded", "The maximum number of tags (%d) for resource type %s was exceeded", maxTagsPerResource, rt)
		}
	}
	return out, nil
}

// filterSet is a parsed Filter.N list applied to one resource kind: each
// filter name maps to a function returning the resource's values for it.
type filterSet[T any] struct {
	filters []compiledFilter
	fields  func(r T, name string) ([]string, bool)
}

type compiledFilter struct {
	name     string
	patterns []*regexp.Regexp
}

// parseFilters compiles the request's filters, rejecting names the resource
// does not know with EC2's InvalidParameterValue.
func parseFilters[T any](rc *Request, fields func(r T, name string) ([]string, bool), known func(name string) bool) (filterSet[T], *APIError) {
	fs, aerr := Filters(rc.Form, "Filter", "Value")
	if aerr != nil {
		return filterSet[T]{}, aerr
	}
	set := filterSet[T]{fields: fields}
	for _, f := range fs {
		if !known(f.Name) {
			return set, Errorf("InvalidParameterValue", "The filter '%s' is invalid", f.Name)
		}
		cf := compiledFilter{name: f.Name}
		for _, v := range f.Values {
			cf.patterns = append(cf.patterns, wildcard(v))
		}
		set.filters = append(set.filters, cf)
	}
	return set, nil
}

// match is true when r satisfies every filter (AND) with any value (OR).
func (fs filterSet[T]) match(r T) bool {
	for _, f := range fs.filters {
		vals, _ := fs.fields(r, f.name)
		if !anyMatch(f.patterns, vals) {
			return false
		}
	}
	return true
}

func anyMatch(patterns []*regexp.Regexp, vals []string) bool {
	for _, p := range patterns {
		for _, v := range vals {
			if p.MatchString(v) {
				return true
			}
		}
	}
	return false
}

// wildcard compiles an EC2 filter value, where * matches any run of
// characters and ? exactly one.
func wildcard(v string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range v {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// tagFilterValues answers the tag:<key>, tag-key and tag-value filters.
func tagFilterValues(tags map[string]string, name string) ([]string, bool) {
	switch {
	case name == "tag-key":
		return slices.Collect(maps.Keys(tags)), true
	case name == "tag-value":
		return slices.Collect(maps.Values(tags)), true
	case strings.HasPrefix(name, "tag:"):
		if v, ok := tags[strings.TrimPrefix(name, "tag:")]; ok {
			return []string{v}, true
		}
		return nil, true
	}
	return nil, false
}

func isTagFilter(name string) bool {
	return name == "tag-key" || name == "tag-value" || (strings.HasPrefix(name, "tag:") && len(name) > 4)
}

// page is one MaxResults/NextToken window over an ordered id list.
type page struct {
	max   int // 0: no pagination
	start int
}

// parsePage validates MaxResults (within [lo, hi], as AWS documents per
// action) and NextToken. named is true when the call lists explicit ids,
// which EC2 refuses to combine with MaxResults.
func parsePage(rc *Request, order []string, lo, hi int, named bool, idsParam string) (page, *APIError) {
	n, set, aerr := OptionalInt(rc.Form, "MaxResults", lo, hi)
	if aerr != nil {
		return page{}, aerr
	}
	if set && named {
		return page{}, Errorf("InvalidParameterCombination", "The parameter %s cannot be used with the parameter maxResults", idsParam)
	}
	p := page{max: n}
	tok := rc.Form.Get("NextToken")
	if tok == "" {
		return p, nil
	}
	start, err := decodeToken(tok, order)
	if err != nil {
		return page{}, Errorf("InvalidPaginationToken", "The pagination token %q is invalid: %v", tok, err)
	}
	p.start = start
	if p.max == 0 {
		p.max = hi
	}
	return p, nil
}

// Tokens name the position and id of the next element, so a page stays
// correct when earlier elements disappear between calls.
func encodeToken(pos int, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(pos) + ":" + id))
}

func decodeToken(tok string, order []string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, fmt.Errorf("not base64url: %w", err)
	}
	posStr, id, ok := strings.Cut(string(raw), ":")
	pos, err := strconv.Atoi(posStr)
	if !ok || err != nil || pos < 0 || id == "" {
		return 0, fmt.Errorf("not a token this service issued")
	}
	if pos < len(order) && order[pos] == id {
		return pos, nil
	}
	if i := slices.Index(order, id); i >= 0 {
		return i, nil
	}
	// The resource the token points at is gone; continue where it stood.
	return min(pos, len(order)), nil
}

// collect walks order from the page start, keeping elements for which keep
// is true, and returns them with the NextToken (empty on the last page).
func collect[T any](order []string, get func(id string) (T, bool), p page) ([]T, string) {
	var out []T
	for i := p.start; i < len(order); i++ {
		v, ok := get(order[i])
		if !ok {
			continue
		}
		if p.max > 0 && len(out) == p.max {
			return out, encodeToken(i, order[i])
		}
		out = append(out, v)
	}
	return out, ""
}

// idList reads an ec2query id list and checks each id's shape.
func idList(rc *Request, param string, pattern *regexp.Regexp, malformedCode string) ([]string, *APIError) {
	ids, aerr := IndexedList(rc.Form, param)
	if aerr != nil {
		return nil, aerr
	}
	for _, id := range ids {
		if !pattern.MatchString(id) {
			return nil, Errorf(malformedCode, "Invalid id: \"%s\"", id)
		}
	}
	return ids, nil
}

// notFound builds EC2's "does not exist" error for one or several ids.
func notFound(code, noun string, missing []string) *APIError {
	if len(missing) == 1 {
		return Errorf(code, "The %s ID '%s' does not exist", noun, missing[0])
	}
	return Errorf(code, "The %s IDs '%s' do not exist", noun, strings.Join(missing, ", "))
}

var (
	instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)
	volumeIDPattern   = regexp.MustCompile(`^vol-[0-9a-f]{8}([0-9a-f]{9})?$`)
	snapshotIDPattern = regexp.MustCompile(`^snap-[0-9a-f]{8}([0-9a-f]{9})?$`)
	allocIDPattern    = regexp.MustCompile(`^eipalloc-[0-9a-f]{8}([0-9a-f]{9})?$`)
	imageIDPattern    = regexp.MustCompile(`^ami-[0-9a-f]{8}([0-9a-f]{9})?$`)
)

// zoneOf validates an availability zone of the request's region.
func zoneOf(region, az, param string) *APIError {
	if !strings.HasPrefix(az, region) || len(az) != len(region)+1 || az[len(az)-1] < 'a' || az[len(az)-1] > 'c' {
		return Errorf("InvalidParameterValue", "Invalid availability zone: [%s] (parameter %s; the simulator serves %sa-%sc)", az, param, region, region)
	}
	return nil
}

type describeRegionsResponse struct {
	XMLName   xml.Name       `xml:"DescribeRegionsResponse"`
	XMLNS     string         `xml:"xmlns,attr"`
	RequestID string         `xml:"requestId"`
	Regions   []ec2RegionXML `xml:"regionInfo>item"`
}

type ec2RegionXML struct {
	RegionName     string `xml:"regionName"`
	RegionEndpoint string `xml:"regionEndpoint"`
	OptInStatus    string `xml:"optInStatus"`
}

func (s *Sim) ec2DescribeRegions(rc *Request, _ *RegionState) (any, *APIError) {
	names, aerr := IndexedList(rc.Form, "RegionName")
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := OptionalBool(rc.Form, "AllRegions"); aerr != nil {
		return nil, aerr
	}
	fs, aerr := parseFilters(rc, func(r string, name string) ([]string, bool) {
		switch name {
		case "region-name":
			return []string{r}, true
		case "endpoint":
			return []string{"ec2." + r + ".amazonaws.com"}, true
		case "opt-in-status":
			return []string{"opt-in-not-required"}, true
		}
		return nil, false
	}, func(n string) bool { return n == "region-name" || n == "endpoint" || n == "opt-in-status" })
	if aerr != nil {
		return nil, aerr
	}
	var unknown []string
	for _, n := range names {
		if !s.regions[n] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, Errorf("InvalidParameterValue", "Invalid region names: %s", strings.Join(unknown, ", "))
	}
	resp := describeRegionsResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID}
	for _, r := range s.opts.Regions {
		if (len(names) == 0 || slices.Contains(names, r)) && fs.match(r) {
			resp.Regions = append(resp.Regions, ec2RegionXML{RegionName: r, RegionEndpoint: "ec2." + r + ".amazonaws.com", OptInStatus: "opt-in-not-required"})
		}
	}
	return resp, nil
}

func (s *Sim) ec2CreateTags(rc *Request, rs *RegionState) (any, *APIError) {
	tags, aerr := TagList(rc.Form, "Tag")
	if aerr != nil {
		return nil, aerr
	}
	if len(tags) == 0 {
		return nil, Errorf("MissingParameter", "The request must contain the parameter Tag")
	}
	targets, after, aerr := s.ec2TagTargets(rc, rs)
	if aerr != nil {
		return nil, aerr
	}
	for _, t := range targets {
		n := len(*t)
		for _, tag := range tags {
			if _, exists := (*t)[tag.Key]; !exists {
				n++
			}
		}
		if n > maxTagsPerResource {
			return nil, Errorf("TagLimitExceeded", "The maximum number of tags (%d) per resource was exceeded", maxTagsPerResource)
		}
	}
	for _, t := range targets {
		if *t == nil {
			*t = map[string]string{}
		}
		for _, tag := range tags {
			(*t)[tag.Key] = tag.Value
		}
	}
	for _, f := range after {
		f()
	}
	return ec2ReturnTrue(rc, "CreateTags"), nil
}

// ec2DeleteTags removes tags as EC2 documents it: Tag.N.Key alone removes
// the key whatever its value; with Tag.N.Value (even empty) only when the
// value matches; no Tag at all removes every user tag (keys starting with
// "aws:" are AWS's and stay).
func (s *Sim) ec2DeleteTags(rc *Request, rs *RegionState) (any, *APIError) {
	subs, aerr := SubForms(rc.Form, "Tag")
	if aerr != nil {
		return nil, aerr
	}
	type removal struct {
		key, value string
		anyValue   bool
	}
	removals := make([]removal, 0, len(subs))
	for i, sub := range subs {
		t := Tag{Key: sub.Get("Key"), Value: sub.Get("Value")}
		if aerr := validateTag(t, fmt.Sprintf("Tag.%d", i+1)); aerr != nil {
			return nil, aerr
		}
		removals = append(removals, removal{key: t.Key, value: t.Value, anyValue: !sub.Has("Value")})
	}
	targets, after, aerr := s.ec2TagTargets(rc, rs)
	if aerr != nil {
		return nil, aerr
	}
	for _, t := range targets {
		if len(removals) == 0 {
			maps.DeleteFunc(*t, func(k, _ string) bool { return !strings.HasPrefix(strings.ToLower(k), "aws:") })
			continue
		}
		for _, r := range removals {
			if v, ok := (*t)[r.key]; ok && (r.anyValue || v == r.value) {
				delete(*t, r.key)
			}
		}
	}
	for _, f := range after {
		f()
	}
	return ec2ReturnTrue(rc, "DeleteTags"), nil
}

// ec2TagTargets resolves every ResourceId.N of a CreateTags or DeleteTags
// call before either changes anything, so a bad id leaves nothing half
// done. after records each resource's change event once the tags changed.
func (s *Sim) ec2TagTargets(rc *Request, rs *RegionState) (targets []*map[string]string, after []func(), aerr *APIError) {
	ids, aerr := IndexedList(rc.Form, "ResourceId")
	if aerr != nil {
		return nil, nil, aerr
	}
	if len(ids) == 0 {
		return nil, nil, Errorf("MissingParameter", "The request must contain the parameter ResourceId")
	}
	for _, id := range ids {
		switch {
		case strings.HasPrefix(id, "i-"):
			in, ok := rs.Instances[id]
			if !instanceIDPattern.MatchString(id) {
				return nil, nil, Errorf("InvalidID", "The ID '%s' is not valid", id)
			}
			if !ok {
				return nil, nil, notFound("InvalidInstanceID.NotFound", "instance", []string{id})
			}
			targets = append(targets, &in.Tags)
			after = append(after, func() {
				if p, err := ParseProfile(in.Tags[ProfileTag]); err == nil {
					in.Profile = p
				} else if _, tagged := in.Tags[ProfileTag]; !tagged {
					in.Profile = "" // the tag is gone: the default, as RunInstances without it
				}
				s.recordEvent(s.instanceEvent(rc.Account, rs.Name, in, EventModified, rc.Now))
			})
		case strings.HasPrefix(id, "vol-"):
			v, ok := rs.Volumes[id]
			if !ok {
				return nil, nil, Errorf("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
			}
			targets = append(targets, &v.Tags)
			after = append(after, func() { s.recordEvent(s.volumeEvent(rc.Account, rs.Name, v, EventModified, rc.Now)) })
		case strings.HasPrefix(id, "snap-"):
			sn, ok := rs.Snapshots[id]
			if !ok {
				return nil, nil, Errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
			}
			targets = append(targets, &sn.Tags)
		case strings.HasPrefix(id, "eipalloc-"):
			a, ok := rs.Addresses[id]
			if !ok {
				return nil, nil, Errorf("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", id)
			}
			targets = append(targets, &a.Tags)
		default:
			return nil, nil, Errorf("InvalidID", "The ID '%s' is not valid", id)
		}
	}
	return targets, after, nil
}
