package policyrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/actuator"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
)

// Executor carries out actions: the actuator.
type Executor interface {
	// Execute runs req to a terminal state, or returns it RUNNING when ctx
	// ends mid-flow.
	Execute(ctx context.Context, req actuator.Request) *sirsiv1.Action
	// DryRun returns the action Execute would take, after the same live
	// checks, with status PLANNED, or FAILED when a check refuses it.
	DryRun(ctx context.Context, req actuator.Request) *sirsiv1.Action
	// LastAction is when the resource was last acted on.
	LastAction(resourceID string) (time.Time, bool)
	// Resume finishes the flows a crash interrupted, handing each to done
	// as it ends.
	Resume(ctx context.Context, done func(*sirsiv1.Action))
	// Unreported returns the finished actions not yet marked reported.
	Unreported() ([]*sirsiv1.Action, error)
	// MarkReported records that the action's report is durable.
	MarkReported(id string) error
}

// Reporter tells the control plane what was done and planned.
type Reporter interface {
	// ReportAction hands one finished action to durable delivery; when it
	// returns nil the report survives a crash.
	ReportAction(act *sirsiv1.Action) error
	// SavePlan saves a dry-run plan on the control plane now.
	SavePlan(ctx context.Context, plan *sirsiv1.ActionPlan) error
}

// Reserver grants actions under the tenant-wide cap (the control plane's
// ReserveActions).
type Reserver interface {
	// Reserve asks for count actions of the policy and returns how many
	// were granted, and when to ask again if fewer.
	Reserve(ctx context.Context, policyID string, count int) (granted int, retry time.Time, err error)
}

// Clock tells the time.
type Clock func() time.Time

// Prices prices instances for the savings of an off-hours stop.
type Prices interface {
	EC2Hourly(region, instanceType string) (float64, error)
}

// Config configures a Runner.
type Config struct {
	// DataDir holds the runner's state file, DataDir/optimize.json.
	DataDir  string
	Executor Executor
	Reporter Reporter
	Reserver Reserver
	Clock    Clock
	Prices   Prices
	// Inventory returns the last discovered inventory, nil before the
	// first discovery.
	Inventory func() iter.Seq[*sirsiv1.Resource]
	Log       hclog.Logger
}

const stateFile = "optimize.json"

// Runner runs the assigned policies. It is safe for concurrent use.
type Runner struct {
	cfg Config
	log hclog.Logger

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
	// refused holds the recommendations whose last attempt a live check
	// refused, by refusalKey.
	refused map[string]refusal
	state   state
}

// state survives restarts: without it a restarted agent would replay
// off-hours firings or forget how many actions a window has had.
type state struct {
	// OffHoursChecked is, per policy, the instant up to which off-hours
	// firings have been handled.
	OffHoursChecked map[string]time.Time `json:"offhours_checked"`
	// Windows is, per policy, the window being counted and the actions
	// started in it.
	Windows map[string]windowCount `json:"windows"`
	// OffHoursPending is, per policy, the off-hours firing being carried
	// out.
	OffHoursPending map[string]*pendingFiring `json:"offhours_pending,omitempty"`
	// OffHoursStopped is, per policy, the instances its off-hours stops
	// stopped: those, and only those, its next start firing starts.
	OffHoursStopped map[string]map[string]stoppedInstance `json:"offhours_stopped,omitempty"`
}

type windowCount struct {
	Start   time.Time `json:"start"`
	Actions int       `json:"actions"`
}

// New loads the runner's state from cfg.DataDir.
func New(cfg Config) (*Runner, error) {
	switch {
	case cfg.DataDir == "":
		return nil, errors.New("policyrun: Config.DataDir: required")
	case cfg.Executor == nil, cfg.Reporter == nil, cfg.Reserver == nil, cfg.Clock == nil, cfg.Prices == nil, cfg.Inventory == nil:
		return nil, errors.New("policyrun: Config.Executor, Reporter, Reserver, Clock, Prices and Inventory: all required")
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	r := &Runner{cfg: cfg, log: cfg.Log, decided: map[string][]*sirsiv1.Recommendation{}, planned: map[string]string{},
		refused: map[string]refusal{}}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Runner) load() error {
	r.state = state{OffHoursChecked: map[string]time.Time{}, Windows: map[string]windowCount{},
		OffHoursPending: map[string]*pendingFiring{}, OffHoursStopped: map[string]map[string]stoppedInstance{}}
	b, err := os.ReadFile(filepath.Join(r.cfg.DataDir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the optimizer state: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("the optimizer state %s does not decode (remove it to start afresh: off-hours firings since then are skipped): %w", stateFile, err)
	}
	if st.OffHoursChecked != nil {
		r.state.OffHoursChecked = st.OffHoursChecked
	}
	if st.Windows != nil {
		r.state.Windows = st.Windows
	}
	for id, f := range st.OffHoursPending {
		if f == nil {
			continue
		}
		if f.Done == nil {
			f.Done = map[string]bool{}
		}
		if f.Attempts == nil {
			f.Attempts = map[string]int{}
		}
		r.state.OffHoursPending[id] = f
	}
	if st.OffHoursStopped != nil {
		r.state.OffHoursStopped = st.OffHoursStopped
	}
	return nil
}

// save writes the state; the caller holds r.mu.
func (r *Runner) save() error {
	b, err := json.Marshal(r.state)
	if err != nil {
		return fmt.Errorf("encoding the optimizer state: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(r.cfg.DataDir, stateFile), b, 0o600); err != nil {
		return fmt.Errorf("saving the optimizer state: %w", err)
	}
	return nil
}

// policiesKey fingerprints the policies by id and version.
func policiesKey(ps []*sirsiv1.OptimizationPolicy) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s@%d;", p.GetId(), p.GetVersion())
	}
	return b.String()
}

// Stale says whether the decisions were made for other policies (or none
// were made yet): then new decisions are needed before acting.
func (r *Runner) Stale(policies []*sirsiv1.OptimizationPolicy) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.decidedFor != policiesKey(policies)
}

// Decided takes the policies' reported recommendations (by policy id, with
// the control plane's ids; a policy whose report failed is absent and has
// nothing to act on) and saves the dry-run plan of every policy that runs
// on plans.
func (r *Runner) Decided(ctx context.Context, policies []*sirsiv1.OptimizationPolicy, decided map[string][]*sirsiv1.Recommendation) {
	for _, p := range policies {
		recs, ok := decided[p.GetId()]
		if ok && savesPlans(p) {
			r.savePlan(ctx, p, recs)
		}
	}
	r.mu.Lock()
	r.decided, r.decidedFor = decided, policiesKey(policies)
	r.mu.Unlock()
}

// DecidedTypes takes a report scoped to resourceTypes (the decisions
// that need no metrics, made after each discovery): each policy's
// recommendations of those types are replaced by decided's, the others
// stay as the last full decision left them. A policy whose report failed
// (absent from decided) keeps what it had. It does not make the decisions
// current for Stale: the utilisation-based ones were not made again.
func (r *Runner) DecidedTypes(ctx context.Context, policies []*sirsiv1.OptimizationPolicy, resourceTypes []string, decided map[string][]*sirsiv1.Recommendation) {
	merged := map[string][]*sirsiv1.Recommendation{}
	r.mu.Lock()
	for _, p := range policies {
		fresh, ok := decided[p.GetId()]
		if !ok {
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(r.decided[p.GetId()]), func(rec *sirsiv1.Recommendation) bool {
			return slices.Contains(resourceTypes, rec.GetResourceType())
		})
		merged[p.GetId()] = append(kept, fresh...)
	}
	for id, recs := range merged {
		r.decided[id] = recs
	}
	r.mu.Unlock()
	for _, p := range policies {
		if recs, ok := merged[p.GetId()]; ok && savesPlans(p) {
			r.savePlan(ctx, p, recs)
		}
	}
}

// savesPlans: approve mode acts on approved plans, and an auto policy in
// dry run shows what it would do as one.
func savesPlans(p *sirsiv1.OptimizationPolicy) bool {
	return p.GetMode() == sirsiv1.PolicyMode_POLICY_MODE_APPROVE || (p.GetMode() == sirsiv1.PolicyMode_POLICY_MODE_AUTO && p.GetDryRun())
}

// Resume, once per process, reports the actions that finished without
// their report reaching durable hands (a crash in between), then finishes
// the flows a crash interrupted, reporting each as it ends.
func (r *Runner) Resume(ctx context.Context) {
	r.resumeOnce.Do(func() {
		acts, err := r.cfg.Executor.Unreported()
		if err != nil {
			r.log.Error("reading the unreported actions", "error", err)
		}
		for _, act := range acts {
			r.report(act)
		}
		r.cfg.Executor.Resume(ctx, r.report)
	})
}

// Run runs every policy of the assignment as its mode says, at the
// clock's now.
func (r *Runner) Run(ctx context.Context, asg *sirsiv1.GetAssignmentResponse) error {
	now := r.cfg.Clock()
	var errs []error
	for _, p := range asg.GetPolicies() {
		if err := r.runPolicy(ctx, p, asg, now); err != nil {
			errs = append(errs, fmt.Errorf("policy %s: %w", p.GetName(), err))
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) runPolicy(ctx context.Context, p *sirsiv1.OptimizationPolicy, asg *sirsiv1.GetAssignmentResponse, now time.Time) error {
	var offErr error
	if p.GetMode() == sirsiv1.PolicyMode_POLICY_MODE_AUTO || p.GetMode() == sirsiv1.PolicyMode_POLICY_MODE_APPROVE {
		// A failed firing does not hold back the policy's other actions.
		offErr = r.offHours(ctx, p, now)
	}
	return errors.Join(offErr, r.runActions(ctx, p, asg, now))
}

// runActions carries out the policy's recommendations as its mode says.
func (r *Runner) runActions(ctx context.Context, p *sirsiv1.OptimizationPolicy, asg *sirsiv1.GetAssignmentResponse, now time.Time) error {
	switch p.GetMode() {
	case sirsiv1.PolicyMode_POLICY_MODE_AUTO:
		if p.GetDryRun() {
			return nil
		}
		open, firing, err := optimizer.InWindow(p, now)
		if err != nil || !open {
			return err
		}
		r.mu.Lock()
		recs := candidates(p, r.decided[p.GetId()])
		r.mu.Unlock()
		reqs := make([]actuator.Request, 0, len(recs))
		for _, rec := range recs {
			// Never in auto: what cannot be undone waits for a person.
			if !actuator.Irreversible(rec.GetResourceType(), rec.GetAction()) {
				reqs = append(reqs, requestFor(p, rec))
			}
		}
		return r.execute(ctx, p, firing, reqs)
	case sirsiv1.PolicyMode_POLICY_MODE_APPROVE:
		open, firing, err := optimizer.InWindow(p, now)
		if err != nil || !open {
			return err
		}
		return r.execute(ctx, p, firing, approvedRequests(p, asg))
	}
	return nil
}
