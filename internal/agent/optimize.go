package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/uuid"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent/spool"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

const (
	sweepOptimize     = "optimize"
	optimizeStateFile = "optimize.json"
	// defaultMaxActionsPerRun applies when a policy leaves
	// max_actions_per_run unset (the proto's documented default).
	defaultMaxActionsPerRun = 5
	defaultCooldown         = 24 * time.Hour
	// maxReportedRecommendations is the control plane's per-batch limit
	// (controlplane.MaxReportRecommendations): a larger open set is cut to
	// the largest savings.
	maxReportedRecommendations = 5000
)

// idNamespace derives action ids from what they carry out, so that the
// same decision taken again after a restart has the same id and the
// actuator's journal refuses to act twice.
var idNamespace = uuid.MustParse("6f1c2f4e-8a59-4bd5-9d35-2f0b8f3e51a7")

// actionable are the recommendations the actuator carries out, by
// resource type and action; every other recommendation (snapshot and
// delete, release, RDS and Lambda sizes, Savings Plans) is advice only:
// those changes are not reversible by a rollback, or need a person.
var actionable = map[[2]string]bool{
	{"aws_ec2_instance", optimizer.ActionResize}:   true,
	{"aws_ec2_instance", optimizer.ActionStop}:     true,
	{"aws_ebs_volume", optimizer.ActionMigrateGP3}: true,
}

func isActionable(resourceType, action string) bool {
	return actionable[[2]string{resourceType, action}]
}

// optimizing is the agent's decide-and-act side: recommendations after
// every utilisation sweep, actions in the optimize sweep.
type optimizing struct {
	opt *optimizer.Optimizer
	act *actuator.Actuator

	resumeOnce sync.Once

	mu sync.Mutex
	// decided holds each policy's last reported recommendations, with the
	// server's ids: only those can be acted on, so that every action names
	// the recommendation it carries out.
	decided map[string][]*sirsiv1.Recommendation
	// decidedFor fingerprints the policies the decisions were made for; a
	// change of policy asks for new decisions before anything is done.
	decidedFor string
	// planned is the content of each policy's last saved plan, so an
	// unchanged plan is not saved again (which would supersede nothing
	// but add a row).
	planned map[string]string
	state   optimizeState
}

// optimizeState survives restarts: without it a restarted agent would
// replay off-hours firings or forget how many actions a window has had.
type optimizeState struct {
	// OffHoursChecked is, per policy, the instant up to which off-hours
	// firings have been handled.
	OffHoursChecked map[string]time.Time `json:"offhours_checked"`
	// Windows is, per policy, the window being counted and the actions
	// started in it.
	Windows map[string]windowCount `json:"windows"`
}

type windowCount struct {
	Start   time.Time `json:"start"`
	Actions int       `json:"actions"`
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
		Log:          a.log.Named("actuator"),
		Registerer:   a.cfg.Registerer,
		Now:          a.now,
		PollInterval: a.cfg.ActionPollInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("opening the action journal: %w", err)
	}
	o := &optimizing{opt: optimizer.New(cat), act: act, decided: map[string][]*sirsiv1.Recommendation{}, planned: map[string]string{}}
	if err := o.load(a.cfg.DataDir); err != nil {
		_ = act.Close()
		return nil, err
	}
	return o, nil
}

func (o *optimizing) load(dir string) error {
	o.state = optimizeState{OffHoursChecked: map[string]time.Time{}, Windows: map[string]windowCount{}}
	b, err := os.ReadFile(filepath.Join(dir, optimizeStateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the optimizer state: %w", err)
	}
	var st optimizeState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("the optimizer state %s does not decode (remove it to start afresh: off-hours firings since then are skipped): %w", optimizeStateFile, err)
	}
	if st.OffHoursChecked != nil {
		o.state.OffHoursChecked = st.OffHoursChecked
	}
	if st.Windows != nil {
		o.state.Windows = st.Windows
	}
	return nil
}

// save writes the state; the caller holds o.mu.
func (o *optimizing) save(dir string) error {
	b, err := json.Marshal(o.state)
	if err != nil {
		return fmt.Errorf("encoding the optimizer state: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, optimizeStateFile), b, 0o600); err != nil {
		return fmt.Errorf("saving the optimizer state: %w", err)
	}
	return nil
}

func (o *optimizing) close() error { return o.act.Close() }

// policiesKey fingerprints the policies by id and version.
func policiesKey(ps []*sirsiv1.OptimizationPolicy) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s@%d;", p.GetId(), p.GetVersion())
	}
	return b.String()
}

// decisions are the policies' decisions over one utilisation sweep, fed
// chunk by chunk.
type decisions struct {
	policies []*sirsiv1.OptimizationPolicy
	parts    []*optimizer.Decision
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

// finishDecisions reports each policy's recommendations. They are reported
// at once rather than through the spool because acting needs the server's
// ids; when the control plane is unreachable they go to the spool and
// nothing is acted on until a later sweep reports them. A nil d (no
// policies) still records that the decisions are current.
func (s *sweeps) finishDecisions(ctx context.Context, d *decisions) {
	o := s.optimizing
	log := s.a.log.Named(sweepOptimize)
	decided := map[string][]*sirsiv1.Recommendation{}
	var policies []*sirsiv1.OptimizationPolicy
	if d != nil {
		policies = d.policies
	}
	for i, p := range policies {
		recs := d.parts[i].Finish()
		if len(recs) > maxReportedRecommendations {
			slices.SortStableFunc(recs, func(x, y *sirsiv1.Recommendation) int {
				return cmp.Compare(y.GetEstimatedMonthlySavings(), x.GetEstimatedMonthlySavings())
			})
			log.Warn("more recommendations than one report holds; keeping the largest savings", "policy_id", p.GetId(), "recommendations", len(recs), "kept", maxReportedRecommendations)
			recs = recs[:maxReportedRecommendations]
		}
		req := &sirsiv1.ReportRecommendationsRequest{BatchId: uuid.NewString(), PolicyId: p.GetId(), Recommendations: recs}
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
		var savings float64
		for _, r := range recs {
			savings += r.GetEstimatedMonthlySavings()
		}
		log.Info("recommendations", "policy_id", p.GetId(), "count", len(recs), "monthly_savings", fmt.Sprintf("%.2f", savings))
		if p.GetMode() == sirsiv1.PolicyMode_POLICY_MODE_APPROVE || (p.GetMode() == sirsiv1.PolicyMode_POLICY_MODE_AUTO && p.GetDryRun()) {
			s.savePlan(ctx, p, recs)
		}
	}
	o.mu.Lock()
	o.decided, o.decidedFor = decided, policiesKey(policies)
	o.mu.Unlock()
}

// candidates are the actionable recommendations a run would carry out,
// largest saving first.
func candidates(recs []*sirsiv1.Recommendation) []*sirsiv1.Recommendation {
	var out []*sirsiv1.Recommendation
	for _, r := range recs {
		if r.GetId() != "" && isActionable(r.GetResourceType(), r.GetAction()) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(x, y *sirsiv1.Recommendation) int {
		return cmp.Compare(y.GetEstimatedMonthlySavings(), x.GetEstimatedMonthlySavings())
	})
	return out
}

// savePlan saves the dry run of the policy's next run: the actions it
// would take, after the same live checks (exclude tags, cool-down, current
// size) the run makes, up to the run's action limit.
func (s *sweeps) savePlan(ctx context.Context, p *sirsiv1.OptimizationPolicy, recs []*sirsiv1.Recommendation) {
	o := s.optimizing
	log := s.a.log.Named(sweepOptimize)
	planID := uuid.NewString()
	limit := maxActionsPerRun(p)
	var actions []*sirsiv1.Action
	var savings float64
	var key strings.Builder
	for _, r := range candidates(recs) {
		if len(actions) >= limit {
			break
		}
		req := requestFor(p, r)
		req.ID, req.PlanID = uuid.NewString(), planID
		act := o.act.DryRun(ctx, req)
		if act.GetStatus() != sirsiv1.ActionStatus_ACTION_STATUS_PLANNED {
			log.Debug("left out of the plan", "resource_id", r.GetResourceId(), "reason", act.GetError())
			continue
		}
		actions = append(actions, act)
		savings += r.GetEstimatedMonthlySavings()
		fmt.Fprintf(&key, "%s:%s>%s;", r.GetId(), r.GetCurrentSize(), r.GetProposedSize())
	}
	o.mu.Lock()
	same := o.planned[p.GetId()] == key.String()
	o.mu.Unlock()
	if same {
		return
	}
	plan := &sirsiv1.ActionPlan{Id: planID, PolicyId: p.GetId(), Actions: actions, EstimatedMonthlySavings: optimizer.Cents(savings)}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err := s.a.client().ReportActionPlan(rctx, &sirsiv1.ReportActionPlanRequest{BatchId: uuid.NewString(), Plan: plan})
	cancel()
	if err != nil {
		// The next decision makes the plan again.
		log.Warn("saving the dry-run plan failed", "policy_id", p.GetId(), "error", err)
		return
	}
	o.mu.Lock()
	o.planned[p.GetId()] = key.String()
	o.mu.Unlock()
	log.Info("saved a dry-run plan", "policy_id", p.GetId(), "plan_id", planID, "actions", len(actions), "monthly_savings", fmt.Sprintf("%.2f", savings))
}

func maxActionsPerRun(p *sirsiv1.OptimizationPolicy) int {
	if p.MaxActionsPerRun == nil {
		return defaultMaxActionsPerRun
	}
	return int(p.GetMaxActionsPerRun())
}

// requestFor is the actuator request carrying out r under p; the id is
// derived from the recommendation and its proposal.
func requestFor(p *sirsiv1.OptimizationPolicy, r *sirsiv1.Recommendation) actuator.Request {
	cooldown := defaultCooldown
	if p.CooldownHours != nil {
		cooldown = time.Duration(p.GetCooldownHours()) * time.Hour
	}
	rollback := p.GetVerify().RollbackOnFailure == nil || p.GetVerify().GetRollbackOnFailure()
	return actuator.Request{
		ID:                      uuid.NewSHA1(idNamespace, []byte("rec/"+r.GetId()+"/"+r.GetCurrentSize()+"/"+r.GetProposedSize())).String(),
		PolicyID:                p.GetId(),
		RecommendationID:        r.GetId(),
		ResourceID:              r.GetResourceId(),
		ResourceType:            r.GetResourceType(),
		Region:                  r.GetRegion(),
		Action:                  r.GetAction(),
		FromSize:                r.GetCurrentSize(),
		ToSize:                  r.GetProposedSize(),
		EstimatedMonthlySavings: r.GetEstimatedMonthlySavings(),
		VerifyWait:              time.Duration(p.GetVerify().GetWaitMinutes()) * time.Minute,
		RollbackOnFailure:       rollback,
		Cooldown:                cooldown,
		ExcludeTags:             p.GetSelector().GetExcludeTags(),
	}
}

// optimize is the scheduled sweep that acts: it finishes flows a crash
// interrupted, refreshes the assignment (approvals change between
// assignment polls), makes decisions first when the policies changed, and
// then runs each policy as its mode says.
func (s *sweeps) optimize(ctx context.Context) error {
	o := s.optimizing
	log := s.a.log.Named(sweepOptimize)
	o.resumeOnce.Do(func() {
		for _, act := range o.act.Resume(ctx) {
			s.reportAction(act)
		}
	})
	if err := s.a.fetchAssignment(ctx); err != nil {
		log.Warn("refreshing the assignment failed; using the last one", "error", err)
	}
	asg := s.a.assignment.Load()
	o.mu.Lock()
	stale := o.decidedFor != policiesKey(asg.GetPolicies())
	o.mu.Unlock()
	if stale {
		s.runSweep(ctx, sweepUtilization)
	}
	now := s.a.now()
	var errs []error
	for _, p := range asg.GetPolicies() {
		if err := s.runPolicy(ctx, p, asg, now); err != nil {
			errs = append(errs, fmt.Errorf("policy %s: %w", p.GetName(), err))
		}
	}
	return errors.Join(errs...)
}

func (s *sweeps) runPolicy(ctx context.Context, p *sirsiv1.OptimizationPolicy, asg *sirsiv1.GetAssignmentResponse, now time.Time) error {
	o := s.optimizing
	switch p.GetMode() {
	case sirsiv1.PolicyMode_POLICY_MODE_AUTO:
		if p.GetDryRun() {
			return nil
		}
		if err := s.offHours(ctx, p, now); err != nil {
			return err
		}
		open, firing, err := optimizer.InWindow(p, now)
		if err != nil || !open {
			return err
		}
		o.mu.Lock()
		recs := candidates(o.decided[p.GetId()])
		o.mu.Unlock()
		reqs := make([]actuator.Request, 0, len(recs))
		for _, r := range recs {
			reqs = append(reqs, requestFor(p, r))
		}
		return s.execute(ctx, p, firing, reqs)
	case sirsiv1.PolicyMode_POLICY_MODE_APPROVE:
		open, firing, err := optimizer.InWindow(p, now)
		if err != nil || !open {
			return err
		}
		return s.execute(ctx, p, firing, approvedRequests(p, asg))
	}
	return nil
}

// approvedRequests are the policy's approved plans, action by action
// exactly as saved, then its approved recommendations not in those plans.
func approvedRequests(p *sirsiv1.OptimizationPolicy, asg *sirsiv1.GetAssignmentResponse) []actuator.Request {
	var reqs []actuator.Request
	inPlan := map[string]bool{}
	for _, pl := range asg.GetApprovedPlans() {
		if pl.GetPolicyId() != p.GetId() {
			continue
		}
		for _, a := range pl.GetActions() {
			if !isActionable(a.GetResourceType(), a.GetAction()) {
				continue
			}
			r := requestFor(p, &sirsiv1.Recommendation{Id: a.GetRecommendationId(), ResourceId: a.GetResourceId(), ResourceType: a.GetResourceType(),
				Region: a.GetRegion(), Action: a.GetAction(), CurrentSize: a.GetFromSize(), ProposedSize: a.GetToSize()})
			r.ID, r.PlanID = a.GetId(), pl.GetId()
			reqs = append(reqs, r)
			inPlan[a.GetRecommendationId()] = true
		}
	}
	var recs []*sirsiv1.Recommendation
	for _, r := range asg.GetApprovedRecommendations() {
		if r.GetPolicyId() == p.GetId() && !inPlan[r.GetId()] {
			recs = append(recs, r)
		}
	}
	for _, r := range candidates(recs) {
		reqs = append(reqs, requestFor(p, r))
	}
	return reqs
}

// offHours stops and starts the policy's instances at the off-hours
// firings since the last check. Acting on firings only, not on a desired
// state, is what leaves an instance someone started by hand alone until
// the next stop time.
func (s *sweeps) offHours(ctx context.Context, p *sirsiv1.OptimizationPolicy, now time.Time) error {
	oh := p.GetOffhours()
	if oh.GetStopCron() == "" && oh.GetStartCron() == "" {
		return nil
	}
	sched, err := optimizer.ParseOffHours(oh)
	if err != nil {
		return err
	}
	o := s.optimizing
	o.mu.Lock()
	from, seen := o.state.OffHoursChecked[p.GetId()]
	o.mu.Unlock()
	if !seen {
		// A new policy (or agent) starts counting now: firings from
		// before it existed are history, not instructions.
		from = now
	}
	due := sched.Due(from, now)
	o.mu.Lock()
	o.state.OffHoursChecked[p.GetId()] = now
	err = o.save(s.a.cfg.DataDir)
	o.mu.Unlock()
	if err != nil {
		return err
	}
	if len(due) == 0 {
		return nil
	}
	// Only the latest firing counts: a stop followed by a start that both
	// passed while the agent was down leaves instances as they are meant
	// to be now.
	last := due[len(due)-1]
	action, want := optimizer.ActionStop, "running"
	if !last.Stop {
		action, want = "start", "stopped"
	}
	var reqs []actuator.Request
	s.prevMu.Lock()
	snap := s.prev
	s.prevMu.Unlock()
	if snap == nil {
		return errors.New("no inventory yet for the off-hours firing")
	}
	for r := range snap.Each {
		if r.GetType() != "aws_ec2_instance" || r.GetState() != want {
			continue
		}
		if applies, excluded := optimizer.Selects(p, r); !applies || excluded {
			continue
		}
		hourly, perr := s.estimator.Catalogue().EC2Hourly(r.GetRegion(), r.GetSize())
		saving := 0.0
		if perr == nil && last.Stop {
			saving = optimizer.Cents(pricing.MonthlyFromHourly(hourly) * offFraction(sched, now))
		}
		reqs = append(reqs, actuator.Request{
			ID:       uuid.NewSHA1(idNamespace, []byte(fmt.Sprintf("offhours/%s/%s/%d", p.GetId(), r.GetResourceId(), last.At.Unix()))).String(),
			PolicyID: p.GetId(), ResourceID: r.GetResourceId(), ResourceType: r.GetType(), Region: r.GetRegion(),
			Action: action, FromSize: r.GetSize(), ToSize: r.GetSize(), EstimatedMonthlySavings: saving,
			RollbackOnFailure: true, ExcludeTags: p.GetSelector().GetExcludeTags(),
		})
	}
	return s.execute(ctx, p, last.At, reqs)
}

// offFraction is the share of the coming week the schedule keeps
// instances stopped: what an off-hours stop saves of a month's price.
func offFraction(sched *optimizer.OffHours, now time.Time) float64 {
	const week = 7 * 24 * time.Hour
	var off time.Duration
	var stoppedAt time.Time
	stopped := false
	for _, t := range sched.Due(now, now.Add(week)) {
		switch {
		case t.Stop && !stopped:
			stopped, stoppedAt = true, t.At
		case !t.Stop && stopped:
			stopped = false
			off += t.At.Sub(stoppedAt)
		}
	}
	if stopped {
		off += now.Add(week).Sub(stoppedAt)
	}
	return off.Hours() / week.Hours()
}

// execute carries out reqs within the blast-radius limits: the policy's
// max_actions_per_run per window (counted across restarts), the cool-down,
// and the tenant-wide cap the control plane grants. Each action's result
// goes to the spool.
func (s *sweeps) execute(ctx context.Context, p *sirsiv1.OptimizationPolicy, window time.Time, reqs []actuator.Request) error {
	if len(reqs) == 0 {
		return nil
	}
	o := s.optimizing
	log := s.a.log.Named(sweepOptimize)
	now := s.a.now()
	ready := reqs[:0:0]
	for _, r := range reqs {
		if last, ok := o.act.LastAction(r.ResourceID); ok && r.Cooldown > 0 && now.Sub(last) < r.Cooldown {
			continue
		}
		ready = append(ready, r)
	}
	o.mu.Lock()
	wc := o.state.Windows[p.GetId()]
	if !wc.Start.Equal(window) {
		wc = windowCount{Start: window}
	}
	room := maxActionsPerRun(p) - wc.Actions
	o.mu.Unlock()
	if room <= 0 || len(ready) == 0 {
		return nil
	}
	ready = ready[:min(len(ready), room)]
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	grant, err := s.a.client().ReserveActions(rctx, &sirsiv1.ReserveActionsRequest{ReservationId: uuid.NewString(), PolicyId: p.GetId(), Count: int32(len(ready))})
	cancel()
	if err != nil {
		return fmt.Errorf("reserving %d actions under the tenant-wide cap: %w", len(ready), err)
	}
	if int(grant.GetGranted()) < len(ready) {
		log.Info("the tenant-wide action cap holds back actions", "policy_id", p.GetId(), "wanted", len(ready), "granted", grant.GetGranted(),
			"retry_time", grant.GetRetryTime().AsTime())
		ready = ready[:grant.GetGranted()]
	}
	if len(ready) == 0 {
		return nil
	}
	// Counted before acting: a crash mid-run must not open room for more.
	o.mu.Lock()
	wc.Actions += len(ready)
	o.state.Windows[p.GetId()] = wc
	err = o.save(s.a.cfg.DataDir)
	o.mu.Unlock()
	if err != nil {
		return err
	}
	// Side by side: each flow spends most of its time waiting (stop, start,
	// the verify wait), and the run is already bounded by its limits.
	var wg sync.WaitGroup
	for _, r := range ready {
		wg.Go(func() {
			act := o.act.Execute(ctx, r)
			log.Info("action", "policy_id", p.GetId(), "resource_id", r.ResourceID, "action", r.Action, "from", r.FromSize, "to", r.ToSize,
				"status", act.GetStatus().String(), "error", act.GetError())
			s.reportAction(act)
		})
	}
	wg.Wait()
	return nil
}

// reportAction spools one action's result; an action still running (the
// context ended mid-flow) is reported when Resume finishes it.
func (s *sweeps) reportAction(act *sirsiv1.Action) {
	if act.GetStatus() == sirsiv1.ActionStatus_ACTION_STATUS_RUNNING {
		return
	}
	if err := s.a.enqueue(spool.KindActions, &sirsiv1.ReportActionsRequest{Actions: []*sirsiv1.Action{act}}); err != nil {
		s.a.log.Named(sweepOptimize).Error("spooling an action result failed", "action_id", act.GetId(), "error", err)
	}
}
