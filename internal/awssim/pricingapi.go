package awssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// The Pricing API speaks awsJson1_1 with target prefix AWSPriceListService.
const pricingTargetPrefix = "AWSPriceListService."

// On-demand offer and rate codes are the same for every product in the
// public price list ("JRTCKXETXF" is the on-demand term, "6YS6EN2CT7" its
// price dimension).
const (
	onDemandOfferTerm = "JRTCKXETXF"
	onDemandRateCode  = "6YS6EN2CT7"
)

func init() {
	registerService(serviceDef{name: "pricing", protocol: ProtoJSON11, handle: (*Sim).servePricing})
}

// prices is the catalogue Cost Explorer, Pricing and CloudWatch read: the
// same embedded snapshot the agent starts from.
func (s *Sim) prices() (*pricing.Catalogue, error) { return pricing.Embedded() }

// product is one price-list product with its attributes, for filtering, and
// its PriceList document.
type product struct {
	service string
	attrs   map[string]string
	// lower maps lower-cased attribute names to their values: the Pricing
	// API matches Field names case-insensitively.
	lower map[string]string
	doc   string
}

type productSet struct {
	byService map[string][]product
	// attrNames lists each service's attribute names for DescribeServices.
	attrNames map[string][]string
}

var catalogueProducts = sync.OnceValues(func() (*productSet, error) {
	cat, err := pricing.Embedded()
	if err != nil {
		return nil, err
	}
	return buildProducts(cat)
})

func sku(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	v := h.Sum64()
	var b [16]byte
	for i := range b {
		b[i] = alphabet[v%32]
		v = v/32 ^ uint64(i)*0x9e3779b97f4a7c15
	}
	return string(b[:])
}

func instanceFamilyName(family string) string {
	switch strings.TrimPrefix(family, "db.")[0] {
	case 'c':
		return "Compute optimized"
	case 'r':
		return "Memory optimized"
	}
	return "General purpose"
}

func priceDoc(service, family, skuID string, attrs map[string]string, unit, desc string, usd float64) (string, error) {
	rate := skuID + "." + onDemandOfferTerm + "." + onDemandRateCode
	doc := map[string]any{
		"product":     map[string]any{"productFamily": family, "attributes": attrs, "sku": skuID},
		"serviceCode": service,
		"terms": map[string]any{"OnDemand": map[string]any{
			skuID + "." + onDemandOfferTerm: map[string]any{
				"priceDimensions": map[string]any{rate: map[string]any{
					"unit": unit, "endRange": "Inf", "description": desc, "appliesTo": []string{},
					"rateCode": rate, "beginRange": "0", "pricePerUnit": map[string]string{"USD": strconv.FormatFloat(usd, 'f', 10, 64)},
				}},
				"sku": skuID, "effectiveDate": "2025-06-01T00:00:00Z", "offerTermCode": onDemandOfferTerm, "termAttributes": map[string]string{},
			},
		}},
		"version": "20250601000000", "publicationDate": "2025-06-01T00:00:00Z",
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("encoding price list item %s: %w", skuID, err)
	}
	return string(b), nil
}

func memoryText(gib float64) string {
	return strconv.FormatFloat(gib, 'f', -1, 64) + " GiB"
}

// buildProducts renders the catalogue as Pricing API products, in AWS's
// PriceList item shape.
func buildProducts(cat *pricing.Catalogue) (*productSet, error) {
	ps := &productSet{byService: map[string][]product{}, attrNames: map[string][]string{}}
	add := func(service, family string, attrs map[string]string, unit, desc string, usd float64) error {
		attrs["servicecode"] = service
		attrs["locationType"] = "AWS Region"
		id := sku(service, attrs["usagetype"], attrs["location"], attrs["databaseEngine"])
		doc, err := priceDoc(service, family, id, attrs, unit, desc, usd)
		if err != nil {
			return err
		}
		lower := make(map[string]string, len(attrs))
		for k, v := range attrs {
			lower[strings.ToLower(k)] = v
		}
		// Filters may name the product family too, as on AWS.
		lower["productfamily"] = family
		ps.byService[service] = append(ps.byService[service], product{service: service, attrs: attrs, lower: lower, doc: doc})
		return nil
	}
	snap := cat.Snapshot()
	for _, p := range snap.EC2 {
		r, _ := cat.Region(p.Region)
		spec, _ := cat.InstanceType(p.InstanceType)
		attrs := map[string]string{
			"instanceType": p.InstanceType, "instanceFamily": instanceFamilyName(spec.Family), "location": r.Location, "regionCode": p.Region,
			"vcpu": strconv.Itoa(spec.VCPU), "memory": memoryText(spec.MemoryGiB), "networkPerformance": spec.NetworkPerformance,
			"processorArchitecture": "64-bit", "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
			"capacitystatus": "Used", "licenseModel": "No License required", "usagetype": p.UsageType, "operation": "RunInstances",
			"currentGeneration": "Yes", "servicename": "Amazon Elastic Compute Cloud",
		}
		if spec.Architecture == pricing.ArchARM {
			attrs["physicalProcessor"] = "AWS Graviton"
		}
		desc := fmt.Sprintf("$%s per On Demand Linux %s Instance Hour", strconv.FormatFloat(p.USD, 'f', -1, 64), p.InstanceType)
		if err := add("AmazonEC2", "Compute Instance", attrs, "Hrs", desc, p.USD); err != nil {
			return nil, err
		}
	}
	volumeNames := map[string][2]string{
		"gp2": {"General Purpose", "SSD-backed"}, "gp3": {"General Purpose", "SSD-backed"},
		"io1": {"Provisioned IOPS", "SSD-backed"}, "io2": {"Provisioned IOPS", "SSD-backed"},
		"st1": {"Throughput Optimized HDD", "HDD-backed"}, "sc1": {"Cold HDD", "HDD-backed"},
	}
	for _, p := range snap.EBS {
		r, _ := cat.Region(p.Region)
		names := volumeNames[p.VolumeType]
		attrs := map[string]string{
			"volumeApiName": p.VolumeType, "volumeType": names[0], "storageMedia": names[1], "location": r.Location,
			"regionCode": p.Region, "usagetype": p.UsageType, "operation": "", "servicename": "Amazon Elastic Compute Cloud",
		}
		desc := fmt.Sprintf("$%s per GB-month of %s provisioned storage - %s", strconv.FormatFloat(p.GBMonth, 'f', -1, 64), p.VolumeType, r.Location)
		if err := add("AmazonEC2", "Storage", attrs, "GB-Mo", desc, p.GBMonth); err != nil {
			return nil, err
		}
	}
	for _, p := range snap.RDS {
		r, _ := cat.Region(p.Region)
		spec, _ := cat.InstanceType(p.InstanceClass)
		attrs := map[string]string{
			"instanceType": p.InstanceClass, "instanceFamily": instanceFamilyName(spec.Family), "location": r.Location, "regionCode": p.Region,
			"vcpu": strconv.Itoa(spec.VCPU), "memory": memoryText(spec.MemoryGiB), "networkPerformance": spec.NetworkPerformance,
			"databaseEngine": p.Engine, "deploymentOption": "Single-AZ", "licenseModel": "No license required",
			"usagetype": p.UsageType, "currentGeneration": "Yes", "servicename": "Amazon Relational Database Service",
		}
		desc := fmt.Sprintf("$%s per RDS %s instance hour (or partial hour) running %s", strconv.FormatFloat(p.USD, 'f', -1, 64), p.InstanceClass, p.Engine)
		if err := add("AmazonRDS", "Database Instance", attrs, "Hrs", desc, p.USD); err != nil {
			return nil, err
		}
	}
	for _, p := range snap.EIP {
		r, _ := cat.Region(p.Region)
		attrs := map[string]string{"location": r.Location, "regionCode": p.Region, "usagetype": p.UsageType, "group": "VPCPublicIPv4Address",
			"groupDescription": "Hourly charge for In-use Public IPv4 Addresses", "operation": "", "servicename": "Amazon Elastic Compute Cloud"}
		desc := fmt.Sprintf("$%s per In-use public IPv4 address per hour", strconv.FormatFloat(p.USDPerHour, 'f', -1, 64))
		if err := add("AmazonEC2", "IP Address", attrs, "Hrs", desc, p.USDPerHour); err != nil {
			return nil, err
		}
	}
	for _, p := range snap.Lambda {
		r, _ := cat.Region(p.Region)
		suffix := ""
		if p.Architecture == pricing.ArchARM {
			suffix = "-ARM"
		}
		for _, row := range []struct {
			group, usage, unit string
			usd                float64
		}{
			{"AWS-Lambda-Duration" + suffix, p.DurationUsageType, "Lambda-GB-Second", p.USDPerGBSecond},
			{"AWS-Lambda-Requests" + suffix, p.RequestUsageType, "Requests", p.USDPerRequest},
		} {
			attrs := map[string]string{"location": r.Location, "regionCode": p.Region, "usagetype": row.usage, "group": row.group,
				"groupDescription": "Invocation call for a Lambda function", "servicename": "AWS Lambda"}
			desc := fmt.Sprintf("AWS Lambda - Total %s - %s", row.unit, r.Location)
			if err := add("AWSLambda", "Serverless", attrs, row.unit, desc, row.usd); err != nil {
				return nil, err
			}
		}
	}
	for svc, prods := range ps.byService {
		seen := map[string]bool{}
		for _, p := range prods {
			for k := range p.attrs {
				seen[k] = true
			}
		}
		for k := range seen {
			ps.attrNames[svc] = append(ps.attrNames[svc], k)
		}
		sort.Strings(ps.attrNames[svc])
	}
	return ps, nil
}

func (s *Sim) servePricing(rc *Request) {
	rc.Protocol = ProtoJSON11
	action, ok := strings.CutPrefix(rc.HTTP.Header.Get("X-Amz-Target"), pricingTargetPrefix)
	if !ok || !strings.HasPrefix(rc.HTTP.Header.Get("Content-Type"), "application/x-amz-json-1.1") {
		rc.WriteError(Errorf("UnknownOperationException", "Pricing requests are POST / with Content-Type application/x-amz-json-1.1 and X-Amz-Target %s<Operation>", pricingTargetPrefix))
		return
	}
	if action != "GetProducts" && action != "DescribeServices" {
		rc.WriteError(Errorf("UnknownOperationException", "operation %q is not simulated; Pricing serves GetProducts and DescribeServices", action))
		return
	}
	if !s.admit(rc, action) {
		return
	}
	ps, err := catalogueProducts()
	if err != nil {
		rc.WriteError(&APIError{Status: http.StatusInternalServerError, Code: "InternalErrorException", Message: fmt.Sprintf("building the price list: %v", err)})
		return
	}
	var apiErr *APIError
	if action == "GetProducts" {
		apiErr = getProducts(rc, ps)
	} else {
		apiErr = describeServices(rc, ps)
	}
	if apiErr != nil {
		rc.WriteError(apiErr)
	}
}

func pricingInvalid(format string, args ...any) *APIError {
	return Errorf("InvalidParameterException", format, args...)
}

type pricingFilter struct {
	Type  string `json:"Type"`
	Field string `json:"Field"`
	Value string `json:"Value"`
}

type getProductsInput struct {
	ServiceCode   string          `json:"ServiceCode"`
	Filters       []pricingFilter `json:"Filters"`
	FormatVersion string          `json:"FormatVersion"`
	NextToken     string          `json:"NextToken"`
	MaxResults    *int            `json:"MaxResults"`
}

func decodePricing(rc *Request, v any) *APIError {
	body := bytes.TrimSpace(rc.Body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return Errorf("SerializationException", "could not decode the request body: %v", err)
	}
	return nil
}

func (f pricingFilter) match(p *product) bool {
	v, ok := p.lower[strings.ToLower(f.Field)]
	if !ok {
		return false
	}
	switch f.Type {
	case "TERM_MATCH", "EQUALS":
		return strings.EqualFold(v, f.Value)
	case "CONTAINS":
		return strings.Contains(strings.ToLower(v), strings.ToLower(f.Value))
	case "ANY_OF", "NONE_OF":
		in := false
		for opt := range strings.SplitSeq(f.Value, ",") {
			if strings.EqualFold(strings.TrimSpace(opt), v) {
				in = true
			}
		}
		return in == (f.Type == "ANY_OF")
	}
	return false
}

func pageBounds(token string, maxResults *int, fp uint64, total int) (int, int, *APIError) {
	limit := 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return 0, 0, pricingInvalid("MaxResults %d: must be between 1 and 100", *maxResults)
		}
		limit = *maxResults
	}
	from := 0
	if token != "" {
		off, ok := decodePageToken(token, fp)
		if !ok || off > total {
			return 0, 0, Errorf("InvalidNextTokenException", "The NextToken is invalid or does not belong to this request.")
		}
		from = off
	}
	return from, min(from+limit, total), nil
}

func getProducts(rc *Request, ps *productSet) *APIError {
	var in getProductsInput
	if err := decodePricing(rc, &in); err != nil {
		return err
	}
	if in.ServiceCode == "" {
		return pricingInvalid("ServiceCode is required")
	}
	if in.FormatVersion != "" && in.FormatVersion != "aws_v1" {
		return pricingInvalid("FormatVersion %q: only aws_v1 is supported", in.FormatVersion)
	}
	prods, ok := ps.byService[in.ServiceCode]
	if !ok {
		return Errorf("NotFoundException", "Service code %s is not in the simulated price list (AmazonEC2, AmazonRDS, AWSLambda)", in.ServiceCode)
	}
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "%s|", in.ServiceCode)
	for i, f := range in.Filters {
		switch f.Type {
		case "TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF":
		default:
			return pricingInvalid("Filters[%d].Type %q: want TERM_MATCH, EQUALS, CONTAINS, ANY_OF or NONE_OF", i, f.Type)
		}
		if f.Field == "" || f.Value == "" {
			return pricingInvalid("Filters[%d]: Field and Value are required", i)
		}
		_, _ = fmt.Fprintf(h, "%s|%s|%s|", f.Type, strings.ToLower(f.Field), f.Value)
	}
	var matched []*product
	for i := range prods {
		ok := true
		for _, f := range in.Filters {
			if !f.match(&prods[i]) {
				ok = false
				break
			}
		}
		if ok {
			matched = append(matched, &prods[i])
		}
	}
	from, to, apiErr := pageBounds(in.NextToken, in.MaxResults, h.Sum64(), len(matched))
	if apiErr != nil {
		return apiErr
	}
	list := make([]string, 0, to-from)
	for _, p := range matched[from:to] {
		list = append(list, p.doc)
	}
	out := map[string]any{"FormatVersion": "aws_v1", "PriceList": list}
	if to < len(matched) {
		out["NextToken"] = encodePageToken(to, h.Sum64())
	}
	rc.WriteJSON(http.StatusOK, "application/x-amz-json-1.1", out)
	return nil
}

func describeServices(rc *Request, ps *productSet) *APIError {
	var in struct {
		ServiceCode   string `json:"ServiceCode"`
		FormatVersion string `json:"FormatVersion"`
		NextToken     string `json:"NextToken"`
		MaxResults    *int   `json:"MaxResults"`
	}
	if err := decodePricing(rc, &in); err != nil {
		return err
	}
	codes := make([]string, 0, len(ps.byService))
	for c := range ps.byService {
		if in.ServiceCode == "" || in.ServiceCode == c {
			codes = append(codes, c)
		}
	}
	if in.ServiceCode != "" && len(codes) == 0 {
		return Errorf("NotFoundException", "Service code %s is not in the simulated price list (AmazonEC2, AmazonRDS, AWSLambda)", in.ServiceCode)
	}
	sort.Strings(codes)
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "services|%s", in.ServiceCode)
	from, to, apiErr := pageBounds(in.NextToken, in.MaxResults, h.Sum64(), len(codes))
	if apiErr != nil {
		return apiErr
	}
	services := []map[string]any{}
	for _, c := range codes[from:to] {
		services = append(services, map[string]any{"ServiceCode": c, "AttributeNames": ps.attrNames[c]})
	}
	out := map[string]any{"FormatVersion": "aws_v1", "Services": services}
	if to < len(codes) {
		out["NextToken"] = encodePageToken(to, h.Sum64())
	}
	rc.WriteJSON(http.StatusOK, "application/x-amz-json-1.1", out)
	return nil
}
