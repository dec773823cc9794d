package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/robfig/cron/v3"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent/spool"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/discovery"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/monitor"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

const snapshotFile = "inventory.snapshot"

// Sweep names, as heartbeats and metrics carry them.
const (
	sweepDiscovery   = "discovery"
	sweepUtilization = "utilization"
	sweepCosts       = "costs"
)

// sweepOrder is the order of the first run: utilisation needs the
// inventory, and acting needs the decisions utilisation makes.
var sweepOrder = []string{sweepDiscovery, sweepUtilization, sweepCosts, sweepOptimize}

// sweeps owns the AWS side: the per-account components (rebuilt when the
// assignment names another account or other regions) and the schedules.
type sweeps struct {
	a          *Agent
	limiter    *awsclient.Limiter
	awsMetrics *awsclient.Metrics
	estimator  *monitor.Estimator
	optimizing *optimizing

	// Each sweep runs alone (a scheduled run finding the previous one
	// still busy is skipped); build serialises rebuilding the components.
	running map[string]*sync.Mutex
	buildMu sync.Mutex
	built   string
	comp    atomic.Pointer[components]
	// children holds the metrics of the current components.
	children atomic.Pointer[prometheus.Registry]

	// prev is the latest sweep's inventory, which utilisation measures.
	prevMu sync.Mutex
	prev   *discovery.Snapshot
	// baseline is the newest sweep the control plane acknowledged in
	// full, which deltas are taken against; pending the sweep spooled
	// after it; resend the resources the control plane said it lacks
	// once the sweep they came from was superseded.
	ackMu    sync.Mutex
	baseline *discovery.Snapshot
	pending  *pendingSweep
	resend   map[resourceKey]bool
	// pricesRefreshed is when the estimator last refreshed from AWS.
	pricesRefreshed time.Time
}

type components struct {
	accountID string
	regions   []string
	// roleARN is the role every client assumes ("" for the base
	// credentials); home is the home region's config, which checks them.
	roleARN string
	home    aws.Config
	configs map[string]aws.Config
	global  aws.Config
	disc    *discovery.Discoverer
	util    *monitor.Utilization
	costs   *monitor.Costs
	commit  *monitor.Commitments
}

func newSweeps(a *Agent) (*sweeps, error) {
	m, err := awsclient.NewMetrics(a.cfg.Registerer)
	if err != nil {
		return nil, err
	}
	lim, err := awsclient.NewLimiter(a.cfg.LimiterScale, m)
	if err != nil {
		return nil, err
	}
	cat, err := pricing.Embedded()
	if err != nil {
		return nil, fmt.Errorf("loading the price catalogue: %w", err)
	}
	s := &sweeps{a: a, limiter: lim, awsMetrics: m, estimator: monitor.NewEstimator(cat),
		running: map[string]*sync.Mutex{sweepDiscovery: {}, sweepUtilization: {}, sweepCosts: {}, sweepOptimize: {}},
		resend:  map[resourceKey]bool{}}
	s.children.Store(prometheus.NewRegistry())
	if err := s.loadSnapshot(); err != nil {
		return nil, err
	}
	if s.optimizing, err = newOptimizing(a, cat, s); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sweeps) gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		root, ok := s.a.cfg.Registerer.(prometheus.Gatherer)
		if !ok {
			return s.children.Load().Gather()
		}
		return prometheus.Gatherers{root, s.children.Load()}.Gather()
	})
}

func (s *sweeps) loadSnapshot() error {
	path := filepath.Join(s.a.cfg.DataDir, snapshotFile)
	if err := atomicfile.RemoveLeftovers(path); err != nil {
		return fmt.Errorf("cleaning up after an interrupted snapshot save: %w", err)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the inventory snapshot: %w", err)
	}
	snap, err := discovery.UnmarshalSnapshot(b)
	if err != nil {
		// Without it the next sweep reports every resource as new, which
		// the server applies as idempotent upserts: nothing is lost.
		s.a.log.Warn("ignoring the saved inventory snapshot", "error", err)
		return nil
	}
	if err := snap.Compact(); err != nil {
		s.a.log.Warn("ignoring the saved inventory snapshot", "error", err)
		return nil
	}
	s.prev, s.baseline = snap, snap
	return nil
}

// run waits for the first assignment, runs each sweep once in order
// (utilisation needs the inventory), then on its schedule. On ctx's end it
// waits for running sweeps to finish their spool writes.
func (s *sweeps) run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-s.a.assigned:
	}
	for _, name := range sweepOrder {
		s.runSweep(ctx, name)
		if ctx.Err() != nil {
			return nil
		}
	}
	c := cron.New(cron.WithParser(cronParser), cron.WithLocation(time.UTC))
	for name, spec := range map[string]string{sweepDiscovery: s.a.cfg.DiscoverySchedule, sweepUtilization: s.a.cfg.UtilizationSchedule, sweepCosts: s.a.cfg.CostSchedule, sweepOptimize: s.a.cfg.OptimizeSchedule} {
		if _, err := c.AddFunc(spec, func() { s.scheduled(ctx, name) }); err != nil {
			return fmt.Errorf("%s schedule %q: %w", name, spec, err)
		}
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

func (s *sweeps) scheduled(ctx context.Context, name string) {
	if j := s.a.cfg.Jitter; j > 0 && !sleep(ctx, rand.N(j)) {
		return
	}
	s.runSweep(ctx, name)
}

// runSweep runs one sweep unless it is already running.
func (s *sweeps) runSweep(ctx context.Context, name string) {
	mu := s.running[name]
	if !mu.TryLock() {
		s.a.log.Warn("sweep still running; skipping this run", "sweep", name)
		return
	}
	defer mu.Unlock()
	start := s.a.now()
	log := s.a.log.Named(name)
	// Each run is the root of its own trace: it is started by the clock,
	// not by a request. Its AWS calls are its children; what it reports
	// travels later, through the spool, in traces of their own.
	ctx, span := tracer.Start(ctx, "agent.sweep", trace.WithNewRoot(), trace.WithAttributes(attribute.String("sirsi.sweep", name)))
	err := s.sweep(ctx, name)
	tracing.End(span, err)
	s.a.metrics.sweepSeconds.WithLabelValues(name).Observe(s.a.now().Sub(start).Seconds())
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.a.metrics.sweepErrors.WithLabelValues(name).Inc()
		log.Error("sweep failed", "error", err)
		s.a.recordSweep(name, start, err)
		return
	}
	s.a.metrics.sweepLastOK.WithLabelValues(name).SetToCurrentTime()
	s.a.recordSweep(name, start, nil)
	log.Info("sweep done", "duration", s.a.now().Sub(start).Round(time.Millisecond))
}

func (s *sweeps) sweep(ctx context.Context, name string) error {
	if !s.a.credentialsOK() {
		// The fix for failed credentials is often in the cloud account
		// (role_arn, external_id): ask for it before checking again,
		// rather than at the next assignment poll minutes later.
		if err := s.a.fetchAssignment(ctx); err != nil {
			s.a.log.Warn("refreshing the assignment failed; using the last one", "error", err)
		}
	}
	comp, err := s.components(ctx)
	if err != nil {
		return err
	}
	if err := s.checkCredentials(ctx, comp); err != nil {
		return err
	}
	switch name {
	case sweepDiscovery:
		return s.discover(ctx, comp)
	case sweepUtilization:
		return s.utilization(ctx, comp)
	case sweepCosts:
		return s.costs(ctx, comp)
	case sweepOptimize:
		return s.optimize(ctx)
	}
	return fmt.Errorf("unknown sweep %q", name)
}

// components builds (or reuses) the AWS clients for the assigned account
// and regions.
func (s *sweeps) components(ctx context.Context) (*components, error) {
	asg := s.a.assignment.Load()
	acct := asg.GetCloudAccount()
	regions := slices.Sorted(slices.Values(acct.GetRegions()))
	role := s.a.cfg.AWS
	if role.AssumeRoleARN == "" {
		// The cloud account's role, assumed from the base credentials;
		// the agent's own assume_role_arn overrides it.
		role.AssumeRoleARN, role.ExternalID = acct.GetRoleArn(), acct.GetExternalId()
	}
	key := strings.Join([]string{acct.GetAccountId(), strings.Join(regions, ","), role.AssumeRoleARN, role.ExternalID}, "/")
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	if c := s.comp.Load(); c != nil && s.built == key {
		return c, nil
	}
	reg := prometheus.NewRegistry()
	c := &components{accountID: acct.GetAccountId(), regions: regions, roleARN: role.AssumeRoleARN, configs: map[string]aws.Config{}}
	load := func(region string) (aws.Config, error) {
		o := role
		o.Region, o.Limiter, o.Metrics = region, s.limiter, s.awsMetrics
		cfg, err := awsclient.Load(ctx, o)
		if err != nil {
			return cfg, fmt.Errorf("the cloud account's AWS settings: %w", err)
		}
		return cfg, nil
	}
	var err error
	for _, r := range regions {
		if c.configs[r], err = load(r); err != nil {
			return nil, err
		}
	}
	// Cost Explorer and the Pricing API answer in us-east-1 only.
	if c.global, err = load("us-east-1"); err != nil {
		return nil, err
	}
	home := c.configs[regions[0]]
	if s.a.cfg.AWS.Region != "" {
		if home, err = load(s.a.cfg.AWS.Region); err != nil {
			return nil, err
		}
	}
	c.home = home
	logger := s.a.log
	if c.disc, err = discovery.New(discovery.Options{Config: home, AccountID: c.accountID, Regions: regions,
		Logger: logger.Named(sweepDiscovery), Registerer: reg, Clock: s.a.now}); err != nil {
		return nil, fmt.Errorf("setting up discovery: %w", err)
	}
	cfgFor := c.configFor
	if c.util, err = monitor.NewUtilization(monitor.UtilizationOptions{Configs: cfgFor, Logger: logger.Named(sweepUtilization),
		Registerer: reg, Clock: s.a.now}); err != nil {
		return nil, fmt.Errorf("setting up utilization monitoring: %w", err)
	}
	if c.costs, err = monitor.NewCosts(monitor.CostOptions{Config: c.global, CacheDir: filepath.Join(s.a.cfg.DataDir, "costs"),
		MinInterval: s.a.cfg.CostMinInterval, TagKeys: s.a.cfg.CostTagKeys, Logger: logger.Named(sweepCosts), Registerer: reg, Clock: s.a.now}); err != nil {
		return nil, fmt.Errorf("setting up cost monitoring: %w", err)
	}
	c.commit = monitor.NewCommitments(c.global, s.a.cfg.CostMinInterval, logger.Named(sweepOptimize), s.a.now)
	s.comp.Store(c)
	s.children.Store(reg)
	s.built = key
	return c, nil
}

// checkCredentials runs before every sweep: a sweep, and so every action,
// runs only with credentials of the cloud account's AWS account.
func (s *sweeps) checkCredentials(ctx context.Context, c *components) error {
	check, err := checkCredentials(ctx, c.home, c.roleARN, c.accountID)
	if check.verdict != sirsiv1.CredentialsVerdict_CREDENTIALS_VERDICT_UNSPECIFIED {
		s.a.setCredentialsCheck(check)
	}
	return err
}

func (c *components) configFor(region string) aws.Config {
	if cfg, ok := c.configs[region]; ok {
		return cfg
	}
	cfg := c.global.Copy()
	cfg.Region = region
	return cfg
}

// discover sweeps the inventory and spools what changed since the
// baseline, then every unit's membership. The sweep becomes the baseline
// (and is saved) only once the control plane acknowledged its last batch
// (inventoryAccepted): a crash or a lost batch before that makes the next
// sweep derive the same changes again, which the server applies as
// idempotent upserts, and the membership deletes whatever a lost deletion
// left behind.
func (s *sweeps) discover(ctx context.Context, c *components) error {
	snap, err := c.disc.Sweep(ctx)
	if err != nil {
		return err
	}
	crashpoint.Hit(crashpoint.AgentAfterCollect)
	for _, ue := range snap.Incomplete {
		s.a.log.Warn("discovery could not list a resource type in a region; its resources are kept as they were and flagged stale",
			"type", ue.Type, "region", ue.Region, "error", ue.Err)
	}
	s.estimate(snap)
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	delta := discovery.Diff(s.baseline, snap)
	if len(s.resend) > 0 {
		queued := map[resourceKey]bool{}
		for _, r := range delta.Upserts {
			queued[refKey(r)] = true
		}
		for _, r := range snap.Resources {
			if k := refKey(r); s.resend[k] && !queued[k] {
				delta.Upserts = append(delta.Upserts, r)
			}
		}
		clear(s.resend)
	}
	if !delta.Empty() {
		if _, err := s.enqueueUpserts(delta.Upserts, &delta, snap); err != nil {
			return err
		}
	}
	var last string
	for _, req := range membershipBatches(snap) {
		last = uuid.NewString()
		if err := s.a.enqueueBatch(spool.KindInventory, last, req); err != nil {
			return err
		}
	}
	crashpoint.Hit(crashpoint.AgentAfterSpoolAppend)
	s.a.log.Info("inventory", "resources", len(snap.Resources), "upserts", len(delta.Upserts), "deletions", len(delta.Deletions), "changes", len(delta.Changes))
	// Kept until the next sweep, the snapshot is read record by record:
	// compacted it takes a fraction of the sweep's messages.
	if err := snap.Compact(); err != nil {
		return fmt.Errorf("keeping the inventory snapshot: %w", err)
	}
	s.pending = &pendingSweep{snap: snap, lastBatch: last, missing: map[discovery.Unit]map[string]bool{}}
	s.prevMu.Lock()
	s.prev = snap
	s.prevMu.Unlock()
	s.decideMetricFree(ctx, snap.Each)
	releaseMemory()
	return nil
}

// maxUnknownCostLogs bounds the per-resource log lines one sweep writes
// about costs it cannot estimate; the rest are counted.
const maxUnknownCostLogs = 20

// estimate prices every resource of a sweep, before it is compared with
// the last one, so that a changed estimate (a refreshed price, a Lambda
// function's use) is reported like any other change. A cost that cannot
// be estimated stays unknown (0 on the wire until money fields say
// "absent") and is logged with its reason.
func (s *sweeps) estimate(snap *discovery.Snapshot) {
	log := s.a.log.Named(sweepDiscovery)
	unknown := 0
	for r := range snap.Each {
		usd, err := s.estimator.MonthlyCost(r)
		if err != nil {
			if unknown < maxUnknownCostLogs {
				log.Info("monthly cost unknown", "resource_id", r.GetResourceId(), "error", err)
			}
			unknown++
			continue
		}
		r.MonthlyCost = money.USDFromFloat(usd)
	}
	if unknown > 0 {
		log.Info("resources whose monthly cost is unknown", "count", unknown, "logged", min(unknown, maxUnknownCostLogs))
	}
}

// utilization measures every discovered resource over the longest lookback
// any policy asks for and spools the summaries.
func (s *sweeps) utilization(ctx context.Context, c *components) error {
	s.prevMu.Lock()
	snap := s.prev
	s.prevMu.Unlock()
	if snap == nil {
		return errors.New("no inventory yet: the discovery sweep has not completed")
	}
	policies := s.a.assignment.Load().GetPolicies()
	window, end := lookback(policies), s.a.now()
	dec := s.startDecisions(policies, end)
	// A chunk takes every chunks-th resource, so each holds every type and
	// region in the fleet's proportions and keeps every region's quota
	// busy; only one chunk's series and summaries are in memory at a time,
	// and the decisions take each chunk as it comes.
	n := snap.Len()
	chunks := (n + utilizationChunk - 1) / utilizationChunk
	var series []monitor.Series
	var resources []*sirsiv1.Resource
	measuredAny := false
	for c0 := range chunks {
		series, resources = series[:0], resources[:0]
		for i := c0; i < n; i += chunks {
			r := snap.Resource(i)
			series = appendPlan(series, r)
			if dec != nil {
				resources = append(resources, r)
			}
		}
		var sums []*sirsiv1.UtilizationSummary
		if len(series) > 0 {
			measuredAny = true
			var err error
			if sums, err = c.util.Sweep(ctx, series, window, end); err != nil {
				return err
			}
		}
		s.estimator.ObserveUsage(sums)
		dec.add(resources, sums)
		const perBatch = 5000
		for i := 0; i < len(sums); i += perBatch {
			if err := s.a.enqueue(spool.KindUtilization, &sirsiv1.ReportUtilizationRequest{Summaries: sums[i:min(i+perBatch, len(sums))]}); err != nil {
				return err
			}
		}
	}
	if dec != nil {
		s.adviseCommitments(ctx, c, dec)
	}
	if measuredAny || dec != nil {
		s.finishDecisions(ctx, dec)
	}
	releaseMemory()
	return nil
}

// releaseMemory returns the heap a sweep left behind to the OS. A sweep is
// a burst (a fleet's messages, a chunk's summaries) followed by minutes of
// idling; the runtime's background scavenger would hand the pages back over
// minutes, and until then they count as the agent's resident memory.
func releaseMemory() { debug.FreeOSMemory() }

// utilizationChunk is how many resources one utilisation chunk measures:
// some 60,000 series for a fleet of instances, over a hundred
// GetMetricData calls, so the calls left over when a chunk ends are few.
const utilizationChunk = 10_000

// costs pulls daily costs when the cache is stale, looks for spikes, and
// spools both. Prices are refreshed from AWS at most daily.
func (s *sweeps) costs(ctx context.Context, c *components) error {
	recs, fresh, err := c.costs.Pull(ctx, s.a.cfg.CostDays)
	if err != nil {
		return err
	}
	if fresh {
		anomalies := monitor.DetectAnomalies(recs, monitor.AnomalyOptions{}, s.a.now())
		n := s.a.cfg.ReportBatchSize
		for i := 0; i == 0 || i < len(recs); i += n {
			req := &sirsiv1.ReportCostsRequest{Records: recs[i:min(i+n, len(recs))]}
			if i == 0 {
				req.Anomalies = anomalies
			}
			if err := s.a.enqueue(spool.KindCosts, req); err != nil {
				return err
			}
		}
		if err := s.resourceCosts(ctx, c); err != nil {
			return err
		}
	}
	if s.a.now().Sub(s.pricesRefreshed) >= 24*time.Hour {
		s.prevMu.Lock()
		snap := s.prev
		s.prevMu.Unlock()
		if err := s.estimator.Refresh(ctx, c.global, c.configFor, c.regions, instanceTypes(snap)); err != nil {
			s.a.log.Warn("prices stay at the embedded catalogue", "error", err)
		}
		s.pricesRefreshed = s.a.now()
	}
	return nil
}

// resourceCosts pulls what Cost Explorer billed each instance per day and
// spools it for the control plane's reconciliation of the savings ledger,
// each resource's days in one report; when Cost Explorer has no
// resource-level data it spools why, so the ledger says why its entries
// stay estimates.
func (s *sweeps) resourceCosts(ctx context.Context, c *components) error {
	rcs, err := c.costs.PullResources(ctx)
	if err != nil {
		s.a.log.Warn("no resource-level costs: realised savings stay estimates", "error", err)
		return s.a.enqueue(spool.KindCosts, &sirsiv1.ReportCostsRequest{ResourceCostsUnavailable: truncate(err.Error(), maxSweepError)})
	}
	n := s.a.cfg.ReportBatchSize
	for i := 0; i < len(rcs); {
		j := min(i+n, len(rcs))
		for j < len(rcs) && j > i+1 && rcs[j].ResourceId == rcs[j-1].ResourceId && rcs[j].AccountId == rcs[j-1].AccountId {
			j--
		}
		if err := s.a.enqueue(spool.KindCosts, &sirsiv1.ReportCostsRequest{ResourceCosts: rcs[i:j]}); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func instanceTypes(snap *discovery.Snapshot) []string {
	if snap == nil {
		return nil
	}
	seen := map[string]bool{}
	for r := range snap.Each {
		if r.GetType() == "aws_ec2_instance" && r.GetSize() != "" {
			seen[r.GetSize()] = true
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// tracer names the agent's spans' instrumentation scope.
var tracer = otel.Tracer("github.com/sirsinexus/terraform-provider-sirsi/internal/agent")
