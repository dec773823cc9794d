// Package discovery collects a customer account's AWS inventory: EC2
// instances, EBS volumes and snapshots, Elastic IPs, RDS instances, S3
// buckets and Lambda functions, in every region the cloud account lists.
// Each (resource type, region) pair is one unit of work; units run
// concurrently, page through every answer and fail on their own, so an
// access-denied region costs that region's records, not the sweep.
//
// A Snapshot is one sweep's complete inventory; Diff turns two snapshots
// into the upserts, deletions and drift the agent reports, and Marshal /
// UnmarshalSnapshot keep the last snapshot across agent restarts.
package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// DefaultConcurrency is how many units run at once when Options leave it 0:
// enough to overlap the latency of several regions, few enough that one
// region's EC2 bucket is not drained by four collectors at the same instant.
const DefaultConcurrency = 8

// maxConcurrency bounds Options.Concurrency; beyond it only the limiter
// queue grows.
const maxConcurrency = 256

// Options configure a Discoverer.
type Options struct {
	// Config comes from awsclient.Load; its Region is the home region (S3's
	// global calls go there).
	Config aws.Config
	// AccountID (12 digits) is stamped on every Resource.account_id.
	AccountID string
	// Regions are every region the cloud account lists.
	Regions []string
	// Types are the resource types to collect; empty means all seven.
	Types []string
	// Concurrency is how many (type, region) units are in flight; 0 means
	// DefaultConcurrency.
	Concurrency int
	Logger      hclog.Logger
	// Registerer receives the discovery metrics; nil keeps them private.
	Registerer prometheus.Registerer
	// Clock stamps Snapshot.Taken and last_seen_time; nil means time.Now.
	Clock func() time.Time
}

// Discoverer sweeps one AWS account.
type Discoverer struct {
	cfg         aws.Config
	accountID   string
	regions     []string
	collectors  []*collector
	concurrency int
	log         hclog.Logger
	clock       func() time.Time
	metrics     *metrics
}

// New validates o and returns a Discoverer. Errors name the wrong field.
func New(o Options) (*Discoverer, error) {
	if err := validation.Region(o.Config.Region); err != nil {
		return nil, fmt.Errorf("config.region: %w", err)
	}
	if err := validation.AccountID(o.AccountID); err != nil {
		return nil, fmt.Errorf("account_id: %w", err)
	}
	if len(o.Regions) == 0 {
		return nil, errors.New("regions: at least one region is required")
	}
	if err := validation.RegionList(o.Regions); err != nil {
		return nil, fmt.Errorf("regions%w", err)
	}
	if err := validation.ResourceTypeList(o.Types); err != nil {
		return nil, fmt.Errorf("types%w", err)
	}
	if o.Concurrency < 0 || o.Concurrency > maxConcurrency {
		return nil, fmt.Errorf("concurrency %d: must be 0 (default %d) to %d", o.Concurrency, DefaultConcurrency, maxConcurrency)
	}
	d := &Discoverer{
		cfg:         o.Config,
		accountID:   o.AccountID,
		regions:     slices.Clone(o.Regions),
		concurrency: cmp.Or(o.Concurrency, DefaultConcurrency),
		log:         o.Logger,
		clock:       o.Clock,
	}
	if d.log == nil {
		d.log = hclog.NewNullLogger()
	}
	d.log = d.log.Named("discovery")
	if d.clock == nil {
		d.clock = time.Now
	}
	types := o.Types
	if len(types) == 0 {
		types = validation.ResourceTypes
	}
	for _, c := range collectors() {
		if slices.Contains(types, c.typ) {
			d.collectors = append(d.collectors, c)
		}
	}
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("registerer: %w", err)
	}
	d.metrics = m
	return d, nil
}

// Snapshot is one sweep's inventory.
type Snapshot struct {
	Taken time.Time
	// Resources are sorted by (type, region, resource_id); nil once
	// Compact has run (read Len, Resource and Each then).
	Resources []*sirsiv1.Resource
	// Incomplete lists the (type, region) units that failed for a reason
	// other than throttling (access denied, region disabled, ...), with the
	// error; their resources are absent.
	Incomplete []UnitError
	// Units are the (type, region) units the sweep ran, complete or not,
	// sorted; not persisted.
	Units []Unit

	// packed holds the resources once Compact has run.
	packed *packed
}

// Unit is one collection unit: a resource type in a region.
type Unit struct{ Type, Region string }

// UnitError is one (type, region) unit that could not be collected.
type UnitError struct {
	Type, Region string
	Err          error
}

func (u UnitError) Error() string { return fmt.Sprintf("%s in %s: %v", u.Type, u.Region, u.Err) }

func (u UnitError) Unwrap() error { return u.Err }

// collector collects one resource type in one region.
type collector struct {
	typ string
	// actions are the IAM actions collect needs, e.g. "ec2:DescribeVolumes".
	actions []string
	// perItem collectors make one call per resource (see schedule).
	perItem bool
	// prepare, when set, runs once per sweep, in the first unit of the
	// type, and returns the state its units share (S3's bucket list).
	prepare func(ctx context.Context, d *Discoverer) (any, error)
	collect func(ctx context.Context, d *Discoverer, region string, shared any) ([]*sirsiv1.Resource, error)
}

func collectors() []*collector {
	return []*collector{ec2Instances, ebsVolumes, ebsSnapshots, elasticIPs, rdsInstances, s3Buckets, lambdaFunctions}
}

// RequiredIAMActions lists, sorted, the IAM actions a sweep of every type
// calls: the least-privilege read-only policy for the agent's role.
func RequiredIAMActions() []string {
	var out []string
	for _, c := range collectors() {
		out = append(out, c.actions...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type unit struct {
	c      *collector
	region string
}

type unitResult struct {
	unit
	resources []*sirsiv1.Resource
	err       error
	took      time.Duration
}

// Sweep collects every configured type in every region. Units that fail
// for reasons other than throttling are listed in Snapshot.Incomplete;
// Sweep itself fails only when ctx ends or every unit failed.
func (d *Discoverer) Sweep(ctx context.Context) (*Snapshot, error) {
	taken := d.clock().UTC()
	start := time.Now()
	shared := d.prepared(ctx)
	units := d.schedule()
	results := make([]unitResult, len(units))
	sem := make(chan struct{}, d.concurrency)
	var wg sync.WaitGroup
	for i, u := range units {
		// Taking the slot before starting the goroutine keeps the
		// schedule's order; goroutines racing for slots would not.
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t0 := time.Now()
			res, err := d.runUnit(ctx, u, shared[u.c])
			results[i] = unitResult{unit: u, resources: res, err: err, took: time.Since(t0)}
			d.log.Debug("unit collected", "type", u.c.typ, "region", u.region, "resources", len(res),
				"started_after", t0.Sub(start), "took", results[i].took)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discovery sweep: %w", err)
	}
	snap := &Snapshot{Taken: taken}
	seen := timestamppb.New(taken)
	byType := map[string]int{}
	typeTook := map[string]time.Duration{}
	for _, r := range results {
		snap.Units = append(snap.Units, Unit{Type: r.c.typ, Region: r.region})
		typeTook[r.c.typ] = max(typeTook[r.c.typ], r.took)
		if r.err != nil {
			snap.Incomplete = append(snap.Incomplete, UnitError{Type: r.c.typ, Region: r.region, Err: r.err})
			d.metrics.errors.WithLabelValues(r.c.typ, r.region).Inc()
			d.log.Warn("resource type not collected", "type", r.c.typ, "region", r.region, "error", r.err)
			continue
		}
		for _, res := range r.resources {
			res.AccountId = d.accountID
			res.FirstSeenTime, res.LastSeenTime = seen, seen
			snap.Resources = append(snap.Resources, res)
		}
		byType[r.c.typ] += len(r.resources)
	}
	if len(units) > 0 && len(snap.Incomplete) == len(units) {
		slices.SortFunc(snap.Incomplete, compareUnitErrors)
		first := snap.Incomplete[0]
		return nil, fmt.Errorf("discovery sweep: every resource type failed in every region, first %s in %s: %w", first.Type, first.Region, first.Err)
	}
	for _, c := range d.collectors {
		d.metrics.found.WithLabelValues(c.typ).Set(float64(byType[c.typ]))
		d.metrics.duration.WithLabelValues(c.typ).Set(typeTook[c.typ].Seconds())
	}
	d.metrics.sweep.Set(time.Since(start).Seconds())
	sortResources(snap.Resources)
	slices.SortFunc(snap.Incomplete, compareUnitErrors)
	slices.SortFunc(snap.Units, func(a, b Unit) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Region, b.Region))
	})
	return snap, nil
}

// schedule orders the units: first every region's per-item collectors,
// whose time is set by a bucket's refill rate (one call per function or
// bucket) rather than by CPU, so their waits overlap everything else; then
// the rest region by region, so no region's EC2 bucket serves all its
// collectors at once while other regions idle.
func (d *Discoverer) schedule() []unit {
	units := make([]unit, 0, len(d.collectors)*len(d.regions))
	for _, perItem := range []bool{true, false} {
		for _, r := range d.regions {
			for _, c := range d.collectors {
				if c.perItem == perItem {
					units = append(units, unit{c, r})
				}
			}
		}
	}
	return units
}

// prepared wraps the collectors' once-per-sweep steps so the first unit of
// a type runs its step and the others wait for and share the outcome.
func (d *Discoverer) prepared(ctx context.Context) map[*collector]func() (any, error) {
	shared := map[*collector]func() (any, error){}
	for _, c := range d.collectors {
		if c.prepare != nil {
			shared[c] = sync.OnceValues(func() (any, error) { return c.prepare(ctx, d) })
		}
	}
	return shared
}

func (d *Discoverer) runUnit(ctx context.Context, u unit, prepare func() (any, error)) (res []*sirsiv1.Resource, err error) {
	ctx, span := tracer.Start(ctx, "discovery.unit", trace.WithAttributes(
		attribute.String("sirsi.resource.type", u.c.typ), attribute.String("cloud.region", u.region)))
	defer func() {
		span.SetAttributes(attribute.Int("sirsi.resources", len(res)))
		tracing.End(span, err)
	}()
	var shared any
	if prepare != nil {
		if shared, err = prepare(); err != nil {
			return nil, err
		}
	}
	res, err = u.c.collect(ctx, d, u.region, shared)
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		r.Type, r.Region = u.c.typ, u.region
	}
	return res, nil
}

func compareUnitErrors(a, b UnitError) int {
	return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Region, b.Region))
}

func sortResources(rs []*sirsiv1.Resource) {
	slices.SortFunc(rs, func(a, b *sirsiv1.Resource) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Region, b.Region), strings.Compare(a.ResourceId, b.ResourceId))
	})
}

// retryThrottled calls fn until it succeeds, fails with something other
// than throttling, or ctx ends: throttling only slows a sweep down.
func retryThrottled[T any](ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	var out T
	err := awsclient.RetryThrottles(ctx, awsclient.DefaultBackoff, func(ctx context.Context) error {
		var err error
		out, err = fn(ctx)
		return err
	}, nil)
	return out, err
}

// partition is the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func ts(t *time.Time) *timestamppb.Timestamp {
	if t == nil || t.IsZero() {
		return nil
	}
	return timestamppb.New(*t)
}

// nameOf is the Name tag, else the fallback (an id or the resource's own
// name).
func nameOf(tags map[string]string, fallback string) string {
	if n := tags["Name"]; n != "" {
		return n
	}
	return fallback
}

// putAttr leaves empty values out, so an attribute AWS does not report is
// absent rather than "" and appears as a change only when it really does.
func putAttr(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// tracer names discovery's spans' instrumentation scope.
var tracer = otel.Tracer("github.com/sirsinexus/terraform-provider-sirsi/internal/discovery")
