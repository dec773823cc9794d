package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/hashicorp/go-hclog"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/resourceattr"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Estimator prices discovered resources per month from a price catalogue
// that Refresh can overlay with live prices, and Lambda functions from the
// use the last utilisation sweep observed. Safe for concurrent use.
type Estimator struct {
	// Logger receives Refresh's reasons for keeping the old catalogue;
	// nil discards them. Set it before the first Refresh.
	Logger hclog.Logger

	cat atomic.Pointer[pricing.Catalogue]

	mu    sync.Mutex
	usage map[usageKey]lambdaUsage
}

type usageKey struct{ region, id string }

// lambdaUsage is what a function did over window: invocations and their
// average duration; for a bucket, its average size in bytes.
type lambdaUsage struct {
	invocations, durationMs float64
	window                  time.Duration
	haveInv, haveDur        bool
	bucketBytes             float64
	haveBytes               bool
}

// bytesPerGB is the GB of S3's GB-month: AWS bills 2^30 bytes.
const bytesPerGB = 1 << 30

// ErrUnknownCost wraps every reason MonthlyCost gives for not knowing a
// resource's cost; the cost is then unknown, never 0.
var ErrUnknownCost = errors.New("cost unknown")

// NewEstimator starts from cat (normally pricing.Embedded()).
func NewEstimator(cat *pricing.Catalogue) *Estimator {
	e := &Estimator{usage: map[usageKey]lambdaUsage{}}
	e.cat.Store(cat)
	return e
}

// Catalogue is the catalogue estimates currently come from.
func (e *Estimator) Catalogue() *pricing.Catalogue { return e.cat.Load() }

// ObserveUsage keeps the Lambda invocation counts and average durations
// and the buckets' average sizes among sums (a utilisation sweep's
// summaries) for the next estimates.
func (e *Estimator) ObserveUsage(sums []*sirsiv1.UtilizationSummary) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range sums {
		k := usageKey{s.GetRegion(), s.GetResourceId()}
		u := e.usage[k]
		switch {
		case s.GetMetric() == "invocations" && s.GetStatistic() == "Sum":
			u.invocations, u.haveInv = s.GetValue(), true
			u.window = s.GetWindowEnd().AsTime().Sub(s.GetWindowStart().AsTime())
		case s.GetMetric() == "duration_ms" && s.GetStatistic() == "Average":
			u.durationMs, u.haveDur = s.GetValue(), true
		case s.GetMetric() == validation.MetricBucketSizeBytes && s.GetStatistic() == "Average":
			// A sweep reports 0 with no coverage when CloudWatch had no
			// datapoint: the size is then not known, not 0.
			u.bucketBytes, u.haveBytes = s.GetValue(), s.GetCoverage() > 0
		default:
			continue
		}
		e.usage[k] = u
	}
}

// MonthlyCost estimates what r costs in a 730-hour month at on-demand
// prices:
//   - EC2 instance: instance-hours by type (attribute instance_type, else
//     Size) and region; a stopped or terminated instance costs 0 (its
//     volumes are resources of their own).
//   - EBS volume: GiB-months by the type and size in Size ("gp3:100"),
//     plus provisioned iops and throughput above what the type includes.
//   - EBS snapshot: size_gib at the standard snapshot rate; snapshots are
//     incremental, so the source volume's size is an upper bound.
//   - Elastic IP: the public IPv4 rate, charged since 2024-02-01 for every
//     address, in use or idle.
//   - RDS instance: instance-hours by class (instance_class, else Size),
//     engine and region plus storage_gib at the storage_type's rate, both
//     twice for multi_az; stopped, only the storage.
//   - Lambda function: requests and GB-seconds (memory in Size) at the use
//     the last utilisation sweep observed, scaled to a month.
//   - S3 bucket: the average BucketSizeBytes (Standard storage) the last
//     utilisation sweep observed, in GB of 2^30 bytes, at the region's
//     first-tier S3 Standard price. Tiers above 50 TB are cheaper, so a
//     bucket that large is overestimated by at most their difference;
//     other storage classes are not measured.
//
// Anything else (prices the catalogue lacks, missing or bad
// attributes, a Lambda function or bucket not yet measured) is unknown: the error
// wraps ErrUnknownCost and names the field or price missing.
func (e *Estimator) MonthlyCost(r *sirsiv1.Resource) (float64, error) {
	usd, err := e.monthlyCost(r)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %s in %s: %w", ErrUnknownCost, r.GetType(), r.GetResourceId(), r.GetRegion(), err)
	}
	if math.IsNaN(usd) || math.IsInf(usd, 0) || usd < 0 {
		return 0, fmt.Errorf("%w: %s %s in %s: estimate %v is not a price", ErrUnknownCost, r.GetType(), r.GetResourceId(), r.GetRegion(), usd)
	}
	return usd, nil
}

func (e *Estimator) monthlyCost(r *sirsiv1.Resource) (float64, error) {
	cat := e.cat.Load()
	attrs := r.GetAttributes()
	region := r.GetRegion()
	switch r.GetType() {
	case validation.ResourceEC2Instance:
		p, err := cat.EC2Hourly(region, firstNonEmpty(attrs[resourceattr.InstanceType], r.GetSize()))
		if err != nil {
			return 0, fmt.Errorf("size: %w", err)
		}
		if !billedInstanceState(r.GetState()) {
			return 0, nil
		}
		return pricing.MonthlyFromHourly(p), nil
	case validation.ResourceEBSVolume:
		vt, gib, err := resourceattr.VolumeSize(r.GetSize())
		if err != nil {
			return 0, fmt.Errorf("size: %w", err)
		}
		iops, err := intAttr(attrs, resourceattr.IOPS)
		if err != nil {
			return 0, err
		}
		tput, err := intAttr(attrs, resourceattr.Throughput)
		if err != nil {
			return 0, err
		}
		return cat.EBSMonthly(region, vt, gib, iops, tput)
	case validation.ResourceEBSSnapshot:
		if attrs[resourceattr.SizeGiB] == "" {
			return 0, fmt.Errorf("attributes.%s: missing", resourceattr.SizeGiB)
		}
		gib, err := intAttr(attrs, resourceattr.SizeGiB)
		if err != nil {
			return 0, err
		}
		p, err := pricing.EBSSnapshotGBMonth(region)
		if err != nil {
			return 0, err
		}
		return float64(gib) * p, nil
	case validation.ResourceEIP:
		p, err := cat.EIPHourly(region)
		if err != nil {
			return 0, err
		}
		return pricing.MonthlyFromHourly(p), nil
	case validation.ResourceRDSInstance:
		return e.rdsMonthly(cat, r)
	case validation.ResourceLambdaFunction:
		return e.lambdaMonthly(cat, r)
	case validation.ResourceS3Bucket:
		return e.s3Monthly(cat, r)
	}
	return 0, fmt.Errorf("type: no price for resource type %q", r.GetType())
}

func (e *Estimator) rdsMonthly(cat *pricing.Catalogue, r *sirsiv1.Resource) (float64, error) {
	attrs := r.GetAttributes()
	region := r.GetRegion()
	hourly, err := cat.RDSHourly(region, firstNonEmpty(attrs[resourceattr.InstanceClass], r.GetSize()), attrs[resourceattr.Engine])
	if err != nil {
		return 0, fmt.Errorf("size: %w", err)
	}
	gib, err := intAttr(attrs, resourceattr.StorageGiB)
	if err != nil {
		return 0, err
	}
	storage := 0.0
	if gib > 0 {
		gbMonth, err := cat.RDSStorageGBMonth(region, attrs[resourceattr.StorageType])
		if err != nil {
			return 0, fmt.Errorf("attributes.%s: %w", resourceattr.StorageType, err)
		}
		storage = float64(gib) * gbMonth
	}
	instance := pricing.MonthlyFromHourly(hourly)
	switch r.GetState() {
	case "stopped", "stopping":
		// A stopped DB instance still pays for its storage.
		instance = 0
	case "deleting", "deleted":
		return 0, nil
	}
	total := instance + storage
	if multi, _ := strconv.ParseBool(attrs[resourceattr.MultiAZ]); multi {
		total *= 2
	}
	return total, nil
}

func (e *Estimator) lambdaMonthly(cat *pricing.Catalogue, r *sirsiv1.Resource) (float64, error) {
	memMB, err := strconv.Atoi(r.GetSize())
	if err != nil || memMB <= 0 {
		return 0, fmt.Errorf("size %q: not a memory size in MB", r.GetSize())
	}
	arch := firstNonEmpty(r.GetAttributes()[resourceattr.Architecture], pricing.ArchX86)
	price, err := cat.LambdaPrice(r.GetRegion(), arch)
	if err != nil {
		return 0, fmt.Errorf("attributes.%s: %w", resourceattr.Architecture, err)
	}
	e.mu.Lock()
	u, ok := e.usage[usageKey{r.GetRegion(), r.GetResourceId()}]
	e.mu.Unlock()
	switch {
	case !ok || !u.haveInv || u.window <= 0:
		return 0, errors.New("invocations: not measured yet")
	case u.invocations == 0:
		return 0, nil
	case !u.haveDur:
		return 0, errors.New("duration_ms: not measured")
	}
	gbSeconds := u.invocations * u.durationMs / 1000 * float64(memMB) / 1024
	perWindow := gbSeconds*price.USDPerGBSecond + u.invocations*price.USDPerRequest
	return perWindow * pricing.HoursPerMonth / u.window.Hours(), nil
}

func (e *Estimator) s3Monthly(cat *pricing.Catalogue, r *sirsiv1.Resource) (float64, error) {
	p, err := cat.S3GBMonth(r.GetRegion(), pricing.S3Standard)
	if err != nil {
		return 0, err
	}
	e.mu.Lock()
	u, ok := e.usage[usageKey{r.GetRegion(), r.GetResourceId()}]
	e.mu.Unlock()
	if !ok || !u.haveBytes {
		return 0, fmt.Errorf("%s: no datapoint", validation.MetricBucketSizeBytes)
	}
	return u.bucketBytes / bytesPerGB * p, nil
}

func billedInstanceState(state string) bool {
	switch state {
	case "stopped", "stopping", "shutting-down", "terminated":
		return false
	}
	return true
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// intAttr reads a non-negative integer attribute; absent counts as 0.
func intAttr(attrs map[string]string, name string) (int, error) {
	v := attrs[name]
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("attributes.%s %q: not a non-negative integer", name, v)
	}
	return n, nil
}

// Refresh overlays the on-demand Linux prices of instanceTypes and the EBS
// storage rates in regions from the Pricing API (pricingCfg; its region is forced to us-east-1,
// where the API is served) and their vCPU, memory, architecture and network
// from EC2 DescribeInstanceTypes (in the first region). Either both answer
// and the new catalogue replaces the old one, or the old one stays and the
// reason is logged and returned.
func (e *Estimator) Refresh(ctx context.Context, pricingCfg aws.Config, ec2Cfg func(region string) aws.Config, regions []string, instanceTypes []string) error {
	log := e.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	err := e.refresh(ctx, pricingCfg, ec2Cfg, regions, instanceTypes)
	if err != nil {
		log.Warn("keeping the current price catalogue", "error", err)
	}
	return err
}

func (e *Estimator) refresh(ctx context.Context, pricingCfg aws.Config, ec2Cfg func(region string) aws.Config, regions []string, instanceTypes []string) error {
	if len(regions) == 0 || len(instanceTypes) == 0 {
		return errors.New("refreshing prices: regions and instance types: at least one of each is required")
	}
	for i, r := range regions {
		if !regionRE.MatchString(r) {
			return fmt.Errorf("refreshing prices: regions[%d] %q: not an AWS region name", i, r)
		}
	}
	types := slices.Clone(instanceTypes)
	slices.Sort(types)
	types = slices.Compact(types)
	specs, err := describeTypes(ctx, ec2Cfg(regions[0]), regions[0], types, e.cat.Load())
	if err != nil {
		return err
	}
	pc := awspricing.NewFromConfig(pricingCfg, func(o *awspricing.Options) { o.Region = "us-east-1" })
	var items []pricing.PriceListItem
	for _, region := range regions {
		for _, q := range []struct {
			service string
			filters []pricingtypes.Filter
		}{
			{"AmazonEC2", instanceFilters(types)}, {"AmazonEC2", storageFilters()}, {"AmazonEC2", addressFilters()},
			{"AmazonRDS", dbInstanceFilters(e.cat.Load(), region)}, {"AWSLambda", lambdaFilters()},
		} {
			if q.filters == nil {
				continue
			}
			got, err := getProducts(ctx, pc, q.service, region, q.filters)
			if err != nil {
				return err
			}
			items = append(items, got...)
		}
	}
	over, _, err := pricing.OverridesFromPriceList(items)
	if err != nil {
		return fmt.Errorf("refreshing prices: %w", err)
	}
	over.InstanceTypes = specs
	known := map[string]bool{}
	for _, s := range specs {
		known[s.Name] = true
	}
	// Prices only for types whose specs are known: the catalogue keeps
	// no price without a spec.
	over.EC2 = slices.DeleteFunc(over.EC2, func(p pricing.EC2Price) bool {
		_, inCat := e.cat.Load().InstanceType(p.InstanceType)
		return !known[p.InstanceType] && !inCat
	})
	next, err := e.cat.Load().Merge(over)
	if err != nil {
		return fmt.Errorf("refreshing prices: %w", err)
	}
	e.cat.Store(next)
	return nil
}

func termMatch(field, value string) pricingtypes.Filter {
	return pricingtypes.Filter{Type: pricingtypes.FilterTypeTermMatch, Field: aws.String(field), Value: aws.String(value)}
}

// instanceFilters select the on-demand Linux prices of types.
func instanceFilters(types []string) []pricingtypes.Filter {
	return []pricingtypes.Filter{
		termMatch("operatingSystem", "Linux"), termMatch("tenancy", "Shared"),
		termMatch("preInstalledSw", "NA"), termMatch("capacitystatus", "Used"),
		{Type: pricingtypes.FilterTypeAnyOf, Field: aws.String("instanceType"), Value: aws.String(strings.Join(types, ","))},
	}
}

// storageFilters select the EBS volume storage rates: the products with a
// volumeApiName are the volume types' GB-month prices.
func storageFilters() []pricingtypes.Filter {
	return []pricingtypes.Filter{{Type: pricingtypes.FilterTypeAnyOf, Field: aws.String("volumeApiName"), Value: aws.String("gp2,gp3,io1,io2,st1,sc1")}}
}

// addressFilters select the hourly price of a public IPv4 address, which
// AWS charges in use or idle.
func addressFilters() []pricingtypes.Filter {
	return []pricingtypes.Filter{termMatch("productFamily", "IP Address"), termMatch("group", "VPCPublicIPv4Address")}
}

// dbInstanceFilters select the Single-AZ on-demand prices of the DB
// instance classes the catalogue prices in region (the engines' every
// class would be thousands of products); nil when it prices none.
func dbInstanceFilters(cat *pricing.Catalogue, region string) []pricingtypes.Filter {
	var classes []string
	for _, p := range cat.Snapshot().RDS {
		if p.Region == region && !slices.Contains(classes, p.InstanceClass) {
			classes = append(classes, p.InstanceClass)
		}
	}
	if len(classes) == 0 {
		return nil
	}
	slices.Sort(classes)
	return []pricingtypes.Filter{termMatch("productFamily", "Database Instance"), termMatch("deploymentOption", "Single-AZ"),
		{Type: pricingtypes.FilterTypeAnyOf, Field: aws.String("instanceType"), Value: aws.String(strings.Join(classes, ","))}}
}

// lambdaFilters select the first-tier request and duration prices, x86
// and Arm.
func lambdaFilters() []pricingtypes.Filter {
	return []pricingtypes.Filter{{Type: pricingtypes.FilterTypeAnyOf, Field: aws.String("group"),
		Value: aws.String("AWS-Lambda-Duration,AWS-Lambda-Duration-ARM,AWS-Lambda-Requests,AWS-Lambda-Requests-ARM")}}
}

// getProducts asks for the products of service in region matching filters.
func getProducts(ctx context.Context, pc *awspricing.Client, service, region string, filters []pricingtypes.Filter) ([]pricing.PriceListItem, error) {
	in := &awspricing.GetProductsInput{ServiceCode: aws.String(service), FormatVersion: aws.String("aws_v1"),
		Filters: append([]pricingtypes.Filter{termMatch("regionCode", region)}, filters...)}
	var items []pricing.PriceListItem
	p := awspricing.NewGetProductsPaginator(pc, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("refreshing prices: GetProducts %s in %s: %w", service, region, err)
		}
		for _, doc := range page.PriceList {
			it, err := pricing.ParsePriceListItem([]byte(doc))
			if err != nil {
				return nil, fmt.Errorf("refreshing prices: GetProducts %s in %s: %w", service, region, err)
			}
			items = append(items, it)
		}
	}
	return items, nil
}

// describeTypes reads the specs of types; generation comes from the
// catalogue when it knows the type, else from the family name's digits.
func describeTypes(ctx context.Context, cfg aws.Config, region string, types []string, cat *pricing.Catalogue) ([]pricing.InstanceSpec, error) {
	c := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = region })
	var specs []pricing.InstanceSpec
	// DescribeInstanceTypes takes at most 100 types per request.
	for lo := 0; lo < len(types); lo += 100 {
		names := make([]ec2types.InstanceType, 0, 100)
		for _, t := range types[lo:min(lo+100, len(types))] {
			names = append(names, ec2types.InstanceType(t))
		}
		p := ec2.NewDescribeInstanceTypesPaginator(c, &ec2.DescribeInstanceTypesInput{InstanceTypes: names})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("refreshing prices: DescribeInstanceTypes in %s: %w", region, err)
			}
			for _, it := range page.InstanceTypes {
				s, err := specOf(it, cat)
				if err != nil {
					return nil, fmt.Errorf("refreshing prices: DescribeInstanceTypes in %s: %w", region, err)
				}
				specs = append(specs, s)
			}
		}
	}
	return specs, nil
}

func specOf(it ec2types.InstanceTypeInfo, cat *pricing.Catalogue) (pricing.InstanceSpec, error) {
	name := string(it.InstanceType)
	family, _, _ := strings.Cut(name, ".")
	s := pricing.InstanceSpec{Name: name, Family: family, Burstable: aws.ToBool(it.BurstablePerformanceSupported)}
	if old, ok := cat.InstanceType(name); ok {
		s.Generation = old.Generation
	} else {
		s.Generation = familyGeneration(family)
	}
	if it.VCpuInfo == nil || it.MemoryInfo == nil || it.ProcessorInfo == nil || it.NetworkInfo == nil {
		return s, fmt.Errorf("instance type %s: answer lacks vCPU, memory, processor or network information", name)
	}
	s.VCPU = int(aws.ToInt32(it.VCpuInfo.DefaultVCpus))
	s.MemoryGiB = math.Round(float64(aws.ToInt64(it.MemoryInfo.SizeInMiB))/1024*1000) / 1000
	for _, a := range it.ProcessorInfo.SupportedArchitectures {
		if a == ec2types.ArchitectureTypeX8664 || a == ec2types.ArchitectureTypeArm64 {
			s.Architecture = string(a)
			break
		}
	}
	s.NetworkPerformance = aws.ToString(it.NetworkInfo.NetworkPerformance)
	return s, nil
}

// familyGeneration reads the generation from a family name: "m5" -> 5,
// "c7gn" -> 7, "u-6tb1" -> 6.
func familyGeneration(family string) int {
	i := strings.IndexAny(family, "0123456789")
	if i < 0 {
		return 0
	}
	j := i
	for j < len(family) && family[j] >= '0' && family[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(family[i:j])
	return n
}
