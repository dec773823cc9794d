package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Series is one utilisation figure to summarise: a resource's metric under
// one statistic.
type Series struct {
	ResourceType, ResourceID, Region string
	// Metric is a validation.Metrics name: cpu_utilization,
	// network_in_bytes, network_out_bytes, database_connections,
	// freeable_memory_bytes, duration_ms, invocations, memory_utilization,
	// bucket_size_bytes.
	Metric string
	// Statistic is "Average", "Maximum", "Minimum", "Sum", "SampleCount",
	// or a percentile "pNN" / "pNN.N" (0 < NN < 100).
	Statistic string
}

// UtilizationOptions configure a Utilization.
type UtilizationOptions struct {
	// Configs returns the aws.Config for a region (same credentials and
	// limiter for all). Required.
	Configs    func(region string) aws.Config
	Logger     hclog.Logger
	Registerer prometheus.Registerer
	Clock      func() time.Time
	// Concurrency is how many GetMetricData calls may be in flight; default 8.
	Concurrency int
}

// Utilization summarises CloudWatch metrics.
type Utilization struct {
	configs     func(string) aws.Config
	log         hclog.Logger
	clock       func() time.Time
	concurrency int
	backoff     awsclient.Backoff

	mu      sync.Mutex
	clients map[string]*cloudwatch.Client

	calls     prometheus.Counter
	retries   prometheus.Counter
	noData    prometheus.Gauge
	duration  prometheus.Histogram
	collected prometheus.Counter
}

// NewUtilization checks o and registers the sweep metrics.
func NewUtilization(o UtilizationOptions) (*Utilization, error) {
	if o.Configs == nil {
		return nil, errors.New("utilization options: configs: required")
	}
	if o.Concurrency < 0 {
		return nil, fmt.Errorf("utilization options: concurrency %d: must not be negative", o.Concurrency)
	}
	if o.Concurrency == 0 {
		o.Concurrency = 8
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	u := &Utilization{
		configs: o.Configs, log: o.Logger.Named("utilization"), clock: o.Clock, concurrency: o.Concurrency,
		backoff: awsclient.DefaultBackoff, clients: map[string]*cloudwatch.Client{},
		calls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sirsi_monitor_getmetricdata_calls_total",
			Help: "GetMetricData calls made by utilisation sweeps (pages included, SDK retries not).",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sirsi_monitor_getmetricdata_throttle_retries_total",
			Help: "GetMetricData pages retried by the sweep after the SDK gave up on a throttle.",
		}),
		noData: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sirsi_monitor_series_without_data",
			Help: "Series of the last sweep that had no data in their window.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sirsi_monitor_sweep_seconds",
			Help:    "Duration of utilisation sweeps.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 14),
		}),
		collected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sirsi_monitor_summaries_total",
			Help: "Utilisation summaries produced.",
		}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{u.calls, u.retries, u.noData, u.duration, u.collected} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("registering utilisation metrics: %w", err)
			}
		}
	}
	return u, nil
}

// namespaceSpec is how CloudWatch publishes one resource type.
type namespaceSpec struct {
	namespace, dimension string
	metrics              map[string]string // validation metric name -> CloudWatch metric name
	primary              string            // CloudWatch metric that coverage counts
	// resolution is the spacing of basic-monitoring datapoints, seconds.
	resolution int64
	// elsewhere gives the namespace and dimension of CloudWatch metrics
	// published outside the type's own namespace (Lambda Insights).
	elsewhere map[string][2]string
	// fixed are further dimensions (name, value) every query carries.
	fixed [][2]string
}

var namespaces = map[string]namespaceSpec{
	validation.ResourceEC2Instance: {
		namespace: "AWS/EC2", dimension: "InstanceId", primary: "CPUUtilization", resolution: 300,
		metrics: map[string]string{"cpu_utilization": "CPUUtilization", "network_in_bytes": "NetworkIn", "network_out_bytes": "NetworkOut"},
	},
	validation.ResourceRDSInstance: {
		namespace: "AWS/RDS", dimension: "DBInstanceIdentifier", primary: "CPUUtilization", resolution: 60,
		metrics: map[string]string{"cpu_utilization": "CPUUtilization", "database_connections": "DatabaseConnections", "freeable_memory_bytes": "FreeableMemory"},
	},
	validation.ResourceLambdaFunction: {
		namespace: "AWS/Lambda", dimension: "FunctionName", primary: "Invocations", resolution: 60,
		metrics: map[string]string{"duration_ms": "Duration", "invocations": "Invocations", "memory_utilization": "memory_utilization"},
		// Percent of configured memory, published by the Lambda Insights
		// extension as one point per invocation.
		elsewhere: map[string][2]string{"memory_utilization": {"LambdaInsights", "function_name"}},
	},
	// S3 publishes storage metrics once a day per bucket and storage
	// class; Standard storage is what the estimator prices.
	validation.ResourceS3Bucket: {
		namespace: "AWS/S3", dimension: "BucketName", primary: "BucketSizeBytes", resolution: 86400,
		metrics: map[string]string{validation.MetricBucketSizeBytes: "BucketSizeBytes"},
		fixed:   [][2]string{{"StorageType", "StandardStorage"}},
	},
}

var (
	percentile = regexp.MustCompile(`^p[0-9]{1,2}(\.[0-9])?$`)
	regionRE   = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
)

func checkStatistic(s string) error {
	switch s {
	case "Average", "Maximum", "Minimum", "Sum", "SampleCount":
		return nil
	}
	if percentile.MatchString(s) {
		if p, err := strconv.ParseFloat(s[1:], 64); err == nil && p > 0 && p < 100 {
			return nil
		}
	}
	return fmt.Errorf("%q is not a statistic (Average, Maximum, Minimum, Sum, SampleCount or a percentile pNN / pNN.N)", s)
}

func (s Series) check() (string, error) {
	ns, ok := namespaces[s.ResourceType]
	if !ok {
		return "resource_type", fmt.Errorf("%q has no CloudWatch metrics here (want %s, %s, %s or %s)", s.ResourceType,
			validation.ResourceEC2Instance, validation.ResourceRDSInstance, validation.ResourceLambdaFunction, validation.ResourceS3Bucket)
	}
	if s.ResourceID == "" || len(s.ResourceID) > 1024 {
		return "resource_id", errors.New("must be 1 to 1024 characters")
	}
	if !regionRE.MatchString(s.Region) {
		return "region", fmt.Errorf("%q is not an AWS region name", s.Region)
	}
	if _, ok := ns.metrics[s.Metric]; !ok {
		return "metric", fmt.Errorf("%q is not a metric of %s", s.Metric, s.ResourceType)
	}
	if err := checkStatistic(s.Statistic); err != nil {
		return "statistic", err
	}
	return "", nil
}

// maxQueries is GetMetricData's limit of queries per call.
const maxQueries = 500

// CloudWatch keeps 1-minute data for 15 days, 5-minute data for 63 and
// hourly data for 455; a period reaching further back must be a multiple
// of the coarser resolution.
func checkLookback(lookback time.Duration) error {
	sec := int64(lookback / time.Second)
	switch {
	case lookback < time.Minute || lookback%time.Minute != 0:
		return fmt.Errorf("lookback %v: must be a positive whole number of minutes", lookback)
	case lookback > 455*24*time.Hour:
		return fmt.Errorf("lookback %v: CloudWatch keeps 455 days of data", lookback)
	case lookback > 63*24*time.Hour && sec%3600 != 0:
		return fmt.Errorf("lookback %v: beyond 63 days CloudWatch needs whole hours", lookback)
	case lookback > 15*24*time.Hour && sec%300 != 0:
		return fmt.Errorf("lookback %v: beyond 15 days CloudWatch needs multiples of 5 minutes", lookback)
	}
	return nil
}

type resourceKey struct{ typ, id, region string }

// query is one GetMetricData query of a sweep and where its answer goes:
// a series (index into the sweep's series) or a resource's coverage.
type query struct {
	series   int // -1 for a coverage query
	resource resourceKey
	metric   string
	stat     string
}

// Sweep summarises each series over [end-lookback, end), end aligned down
// to the minute, as one value per series in the order given.
func (u *Utilization) Sweep(ctx context.Context, series []Series, lookback time.Duration, end time.Time) ([]*sirsiv1.UtilizationSummary, error) {
	if err := checkLookback(lookback); err != nil {
		return nil, err
	}
	for i, s := range series {
		if field, err := s.check(); err != nil {
			return nil, fmt.Errorf("series[%d].%s: %w", i, field, err)
		}
	}
	started := u.clock()
	end = end.UTC().Truncate(time.Minute)
	start := end.Add(-lookback)

	// One coverage query per resource, unless the caller already asked
	// for SampleCount of the primary metric.
	byRegion := map[string][]query{}
	covered := map[resourceKey]int{} // resource -> query position in its region, or -1 pending
	for i, s := range series {
		ns := namespaces[s.ResourceType]
		k := resourceKey{s.ResourceType, s.ResourceID, s.Region}
		q := query{series: i, resource: k, metric: ns.metrics[s.Metric], stat: s.Statistic}
		if q.metric == ns.primary && q.stat == "SampleCount" {
			covered[k] = i
		} else if _, ok := covered[k]; !ok {
			covered[k] = -1
		}
		byRegion[s.Region] = append(byRegion[s.Region], q)
	}
	for k, idx := range covered {
		if idx < 0 {
			byRegion[k.region] = append(byRegion[k.region], query{series: -1, resource: k, metric: namespaces[k.typ].primary, stat: "SampleCount"})
		}
	}

	type batch struct {
		region  string
		queries []query
	}
	var batches []batch
	for region, qs := range byRegion {
		for lo := 0; lo < len(qs); lo += maxQueries {
			batches = append(batches, batch{region, qs[lo:min(lo+maxQueries, len(qs))]})
		}
	}

	values := make([]float64, len(series))
	found := make([]bool, len(series))
	counts := make(map[resourceKey]float64, len(covered))
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	work := make(chan batch)
	for range min(u.concurrency, len(batches)) {
		wg.Go(func() {
			for b := range work {
				res, err := u.fetch(ctx, b.region, b.queries, start, end, lookback)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					continue
				}
				mu.Lock()
				for i, q := range b.queries {
					v, ok := res[i]
					switch {
					case q.series >= 0:
						values[q.series], found[q.series] = v, ok
						if ok && q.metric == namespaces[q.resource.typ].primary && q.stat == "SampleCount" {
							counts[q.resource] = v
						}
					case ok:
						counts[q.resource] = v
					}
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, b := range batches {
		select {
		case work <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("utilisation sweep: %w", err)
	}

	out := make([]*sirsiv1.UtilizationSummary, len(series))
	missing := 0
	ws, we := timestamppb.New(start), timestamppb.New(end)
	for i, s := range series {
		k := resourceKey{s.ResourceType, s.ResourceID, s.Region}
		cov := 0.0
		if found[i] {
			cov = coverage(namespaces[s.ResourceType], counts[k], lookback)
		} else {
			missing++
		}
		out[i] = &sirsiv1.UtilizationSummary{ResourceId: s.ResourceID, Region: s.Region, Metric: s.Metric, Statistic: s.Statistic,
			Value: values[i], WindowStart: ws, WindowEnd: we, Coverage: cov}
	}
	u.noData.Set(float64(missing))
	u.collected.Add(float64(len(out)))
	u.duration.Observe(u.clock().Sub(started).Seconds())
	u.log.Debug("utilisation sweep done", "series", len(series), "calls", len(batches), "without_data", missing)
	return out, nil
}

// coverage is the share of the window's expected datapoints present.
func coverage(ns namespaceSpec, samples float64, lookback time.Duration) float64 {
	expected := float64(int64(lookback/time.Second) / ns.resolution)
	if expected <= 0 {
		return 0
	}
	return math.Min(1, samples/expected)
}

func (u *Utilization) client(region string) *cloudwatch.Client {
	u.mu.Lock()
	defer u.mu.Unlock()
	c, ok := u.clients[region]
	if !ok {
		cfg := u.configs(region)
		c = cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Region = region })
		u.clients[region] = c
	}
	return c
}

// fetch runs one batch (all pages) and returns each query's single value
// by position; a query without data is absent.
func (u *Utilization) fetch(ctx context.Context, region string, qs []query, start, end time.Time, lookback time.Duration) (map[int]float64, error) {
	period := int32(lookback / time.Second)
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: make([]cwtypes.MetricDataQuery, len(qs))}
	for i, q := range qs {
		ns := namespaces[q.resource.typ]
		namespace, dimension := ns.namespace, ns.dimension
		if e, ok := ns.elsewhere[q.metric]; ok {
			namespace, dimension = e[0], e[1]
		}
		dims := []cwtypes.Dimension{{Name: aws.String(dimension), Value: aws.String(q.resource.id)}}
		for _, d := range ns.fixed {
			dims = append(dims, cwtypes.Dimension{Name: aws.String(d[0]), Value: aws.String(d[1])})
		}
		in.MetricDataQueries[i] = cwtypes.MetricDataQuery{
			Id: aws.String("q" + strconv.Itoa(i)),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(q.metric),
					Dimensions: dims},
				Period: aws.Int32(period), Stat: aws.String(q.stat),
			},
			ReturnData: aws.Bool(true),
		}
	}
	c := u.client(region)
	out := make(map[int]float64, len(qs))
	for {
		var page *cloudwatch.GetMetricDataOutput
		err := retryThrottles(ctx, u.backoff, u.log, func() error {
			u.calls.Inc()
			var err error
			page, err = c.GetMetricData(ctx, in)
			return err
		}, u.retries)
		if err != nil {
			return nil, fmt.Errorf("GetMetricData in %s (%d queries): %w", region, len(qs), err)
		}
		for _, r := range page.MetricDataResults {
			num, ok := strings.CutPrefix(aws.ToString(r.Id), "q")
			i, err := strconv.Atoi(num)
			if !ok || err != nil || i < 0 || i >= len(qs) {
				return nil, fmt.Errorf("GetMetricData in %s answered unknown query id %q", region, aws.ToString(r.Id))
			}
			// One period spans the window, so a query has at most one
			// datapoint; should CloudWatch split it anyway, the latest wins
			// (answers are newest first).
			if len(r.Values) > 0 {
				if _, seen := out[i]; !seen {
					out[i] = r.Values[0]
				}
			}
		}
		if page.NextToken == nil || *page.NextToken == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}
