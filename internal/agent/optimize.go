package agent

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/google/uuid"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent/spool"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policyrun"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

const (
	sweepOptimize = "optimize"
	// maxReportedRecommendations is the control plane's per-batch limit
	// (controlplane.MaxReportRecommendations): a larger open set is cut to
	// the largest savings.
	maxReportedRecommendations = 5000
)

// optimizing is the agent's decide-and-act side: the optimizer makes
// recommendations after every utilisation sweep, the policy runner acts on
// them in the optimize sweep through the actuator.
type optimizing struct {
	opt    *optimizer.Optimizer
	act    *actuator.Actuator
	runner *policyrun.Runner
}

func newOptimizing(a *Agent, cat *pricing.Catalogue, s *sweeps) (*optimizing, error) {
	act, err := actuator.New(actuator.Config{
		DataDir: a.cfg.DataDir,
		EC2: func(region string) actuator.EC2API {
			return ec2.NewFromConfig(s.comp.Load().configFor(region))
		},
		CloudWatch: func(region string) actuator.CloudWatchAPI {
			return cloudwatch.NewFromConfig(s.comp.Load().configFor(region))
		},
		RDS: func(region string) actuator.RDSAPI {
			return rds.NewFromConfig(s.comp.Load().configFor(region))
		},
		Lambda: func(region string) actuator.LambdaAPI {
			return lambda.NewFromConfig(s.comp.Load().configFor(region))
		},
		Log:          a.log.Named("actuator"),
		Registerer:   a.cfg.Registerer,
		Now:          a.now,
		PollInterval: a.cfg.ActionPollInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("opening the action journal: %w", err)
	}
	runner, err := policyrun.New(policyrun.Config{
		DataDir: a.cfg.DataDir, Executor: act, Reporter: controlPlane{a}, Reserver: controlPlane{a}, Clock: a.now,
		Prices: livePrices{s}, Inventory: s.inventory, Log: a.log.Named(sweepOptimize),
	})
	if err != nil {
		_ = act.Close()
		return nil, err
	}
	return &optimizing{opt: optimizer.New(cat), act: act, runner: runner}, nil
}

func (o *optimizing) close() error { return o.act.Close() }

// controlPlane is the policy runner's way to the control plane: results
// through the spool, plans and reservations at once.
type controlPlane struct{ a *Agent }

func (c controlPlane) ReportAction(act *sirsiv1.Action) error {
	return c.a.enqueueBatch(spool.KindActions, policyrun.ReportBatchID(act), &sirsiv1.ReportActionsRequest{Actions: []*sirsiv1.Action{act}})
}

func (c controlPlane) SavePlan(ctx context.Context, plan *sirsiv1.ActionPlan) error {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := c.a.client().ReportActionPlan(rctx, &sirsiv1.ReportActionPlanRequest{BatchId: uuid.NewString(), Plan: plan})
	return err
}

func (c controlPlane) Reserve(ctx context.Context, policyID string, count int) (int, time.Time, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	grant, err := c.a.client().ReserveActions(rctx, &sirsiv1.ReserveActionsRequest{ReservationId: uuid.NewString(), PolicyId: policyID, Count: int32(count)})
	if err != nil {
		return 0, time.Time{}, err
	}
	return int(grant.GetGranted()), grant.GetRetryTime().AsTime(), nil
}

// livePrices prices from the estimator's current catalogue, which the
// costs sweep refreshes from AWS.
type livePrices struct{ s *sweeps }

func (p livePrices) EC2Hourly(region, instanceType string) (float64, error) {
	return p.s.estimator.Catalogue().EC2Hourly(region, instanceType)
}

// inventory is the last discovered inventory, nil before the first.
func (s *sweeps) inventory() iter.Seq[*sirsiv1.Resource] {
	s.prevMu.Lock()
	snap := s.prev
	s.prevMu.Unlock()
	if snap == nil {
		return nil
	}
	return snap.Each
}

// decisions are the policies' decisions over one utilisation sweep, fed
// chunk by chunk, or over one discovery for the types that need no
// metrics.
type decisions struct {
	policies []*sirsiv1.OptimizationPolicy
	parts    []*optimizer.Decision
	// types is the scope reported with them; nil: every type.
	types []string
}

// decideMetricFree decides, after a discovery sweep, what needs no
// metrics (unattached volumes, gp2 volumes, idle addresses, old
// snapshots), so that those recommendations never wait for CloudWatch; the
// report names its types and so leaves the utilisation-based ones alone.
func (s *sweeps) decideMetricFree(ctx context.Context, inventory iter.Seq[*sirsiv1.Resource]) {
	policies := s.a.assignment.Load().GetPolicies()
	if len(policies) == 0 {
		return
	}
	now := s.a.now()
	d := &decisions{policies: policies, types: optimizer.MetricFreeTypes}
	for _, p := range policies {
		d.parts = append(d.parts, s.optimizing.opt.StartMetricFree(p, now))
	}
	var resources []*sirsiv1.Resource
	for r := range inventory {
		if slices.Contains(d.types, r.GetType()) {
			resources = append(resources, r)
		}
	}
	d.add(resources, nil)
	s.finishDecisions(ctx, d)
}

// startDecisions returns nil when no policy is assigned.
func (s *sweeps) startDecisions(policies []*sirsiv1.OptimizationPolicy, now time.Time) *decisions {
	if len(policies) == 0 {
		return nil
	}
	d := &decisions{policies: policies}
	for _, p := range policies {
		d.parts = append(d.parts, s.optimizing.opt.Start(p, now))
	}
	return d
}

func (d *decisions) add(resources []*sirsiv1.Resource, sums []*sirsiv1.UtilizationSummary) {
	if d == nil || len(resources) == 0 {
		return
	}
	in := optimizer.Inputs(resources, sums)
	for _, part := range d.parts {
		part.Add(in)
	}
}

// adviseCommitments gives each policy that covers EC2 instances or RDS
// instances Cost Explorer's commitment recommendations for its term and
// payment option; policies with the same settings share one answer.
func (s *sweeps) adviseCommitments(ctx context.Context, c *components, d *decisions) {
	for i, p := range d.policies {
		types := p.GetResourceTypes()
		if len(types) > 0 && !slices.Contains(types, validation.ResourceEC2Instance) && !slices.Contains(types, validation.ResourceRDSInstance) {
			continue
		}
		d.parts[i].UseCommitmentAdvice(c.commit.Advice(ctx, policy.Commitments(p), policy.LookbackDays(p)))
	}
}

// finishDecisions reports each policy's recommendations and hands those
// reported to the policy runner. They are reported at once rather than
// through the spool because acting needs the server's ids; when the
// control plane is unreachable they go to the spool and nothing is acted
// on until a later sweep reports them. A nil d (no policies) still records
// that the decisions are current.
func (s *sweeps) finishDecisions(ctx context.Context, d *decisions) {
	log := s.a.log.Named(sweepOptimize)
	decided := map[string][]*sirsiv1.Recommendation{}
	var policies []*sirsiv1.OptimizationPolicy
	var types []string
	if d != nil {
		policies, types = d.policies, d.types
	}
	for i, p := range policies {
		recs := d.parts[i].Finish()
		s.optimizing.runner.MarkSkips(p, recs)
		if len(recs) > maxReportedRecommendations {
			slices.SortStableFunc(recs, func(x, y *sirsiv1.Recommendation) int {
				return cmp.Compare(y.GetEstimatedMonthlySavings().GetMicros(), x.GetEstimatedMonthlySavings().GetMicros())
			})
			log.Warn("more recommendations than one report holds; keeping the largest savings", "policy_id", p.GetId(), "recommendations", len(recs), "kept", maxReportedRecommendations)
			recs = recs[:maxReportedRecommendations]
		}
		req := &sirsiv1.ReportRecommendationsRequest{BatchId: uuid.NewString(), PolicyId: p.GetId(), Recommendations: recs, ResourceTypes: types}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := s.a.client().ReportRecommendations(rctx, req)
		cancel()
		if err == nil && len(resp.GetRecommendationIds()) != len(recs) {
			err = fmt.Errorf("the control plane returned %d ids for %d recommendations", len(resp.GetRecommendationIds()), len(recs))
		}
		if err != nil {
			log.Warn("reporting recommendations failed; they go to the spool and nothing is acted on for this policy until they are reported", "policy_id", p.GetId(), "error", err)
			if err := s.a.enqueue(spool.KindRecommendations, req); err != nil {
				log.Error("spooling recommendations failed", "error", err)
			}
			continue
		}
		for i, id := range resp.GetRecommendationIds() {
			recs[i].Id = id
		}
		decided[p.GetId()] = recs
		log.Info("recommendations", "policy_id", p.GetId(), "resource_types", types, "count", len(recs), "monthly_savings", money.Format(policyrun.SumSavings(recs)))
	}
	if types != nil {
		s.optimizing.runner.DecidedTypes(ctx, policies, types, decided)
		return
	}
	s.optimizing.runner.Decided(ctx, policies, decided)
}

// optimize is the scheduled sweep that acts: it finishes flows a crash
// interrupted, refreshes the assignment (approvals change between
// assignment polls), makes decisions first when the policies changed, and
// then runs each policy as its mode says.
func (s *sweeps) optimize(ctx context.Context) error {
	runner := s.optimizing.runner
	runner.Resume(ctx)
	if err := s.a.fetchAssignment(ctx); err != nil {
		s.a.log.Named(sweepOptimize).Warn("refreshing the assignment failed; using the last one", "error", err)
	}
	asg := s.a.assignment.Load()
	if runner.Stale(asg.GetPolicies()) {
		s.runSweep(ctx, sweepUtilization)
	}
	return runner.Run(ctx, asg)
}
