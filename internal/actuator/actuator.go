// Package actuator is the agent's executor: it carries out one action at a
// time on one AWS resource (resize, stop or start an EC2 instance, migrate
// an EBS volume to gp3) safely, and returns the Action record the agent
// reports.
//
// What to do, and whether it is allowed now (mode, approvals, windows,
// per-run and tenant caps), is the caller's decision. The actuator owns how:
// it re-checks the live resource before touching it (state, size, exclude
// tags, cool-down), runs the flow step by step with every step journaled
// and fsynced to DataDir/actions.db (bbolt) before the next one starts,
// verifies the result, rolls back what fails, and tags the resource.
//
// Every step is idempotent: it reads the live state and does only what is
// still missing. So a flow interrupted by a crash, a SIGKILL or a cancelled
// context is finished by Resume (or by Execute with the same id) from the
// step it was in, and an id that already reached a terminal state is never
// executed again.
//
// A resize never leaves an instance stopped that was running before: a
// failed resize is rolled back to the original type and state, and when
// the rollback itself fails the actuator keeps trying, within a bound, to
// start the instance at whatever type it has.
package actuator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// EC2API is the subset of *ec2.Client the actuator calls.
type EC2API interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error)
	StopInstances(ctx context.Context, in *ec2.StopInstancesInput, opts ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
	StartInstances(ctx context.Context, in *ec2.StartInstancesInput, opts ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error)
	ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, opts ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, opts ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
	ModifyVolume(ctx context.Context, in *ec2.ModifyVolumeInput, opts ...func(*ec2.Options)) (*ec2.ModifyVolumeOutput, error)
	DescribeVolumesModifications(ctx context.Context, in *ec2.DescribeVolumesModificationsInput, opts ...func(*ec2.Options)) (*ec2.DescribeVolumesModificationsOutput, error)
	CreateSnapshot(ctx context.Context, in *ec2.CreateSnapshotInput, opts ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error)
	DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, opts ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
	DeleteVolume(ctx context.Context, in *ec2.DeleteVolumeInput, opts ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error)
	DescribeAddresses(ctx context.Context, in *ec2.DescribeAddressesInput, opts ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error)
	ReleaseAddress(ctx context.Context, in *ec2.ReleaseAddressInput, opts ...func(*ec2.Options)) (*ec2.ReleaseAddressOutput, error)
}

// RDSAPI is the subset of *rds.Client the RDS instance class change calls.
type RDSAPI interface {
	DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, opts ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	ModifyDBInstance(ctx context.Context, in *rds.ModifyDBInstanceInput, opts ...func(*rds.Options)) (*rds.ModifyDBInstanceOutput, error)
	AddTagsToResource(ctx context.Context, in *rds.AddTagsToResourceInput, opts ...func(*rds.Options)) (*rds.AddTagsToResourceOutput, error)
}

// LambdaAPI is the subset of *lambda.Client the memory change calls.
type LambdaAPI interface {
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	TagResource(ctx context.Context, in *lambda.TagResourceInput, opts ...func(*lambda.Options)) (*lambda.TagResourceOutput, error)
}

// CloudWatchAPI is the subset of *cloudwatch.Client used to verify CPU.
type CloudWatchAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Config configures an Actuator.
type Config struct {
	// DataDir holds the journal, DataDir/actions.db. Required.
	DataDir string
	// EC2 and CloudWatch return the clients for a region. Required.
	EC2        func(region string) EC2API
	CloudWatch func(region string) CloudWatchAPI
	// RDS and Lambda return those clients; nil refuses the RDS class and
	// Lambda memory changes.
	RDS        func(region string) RDSAPI
	Lambda     func(region string) LambdaAPI
	Log        hclog.Logger          // nil = null logger
	Registerer prometheus.Registerer // nil = no metrics
	Now        func() time.Time      // default time.Now
	// Sleep waits d or until ctx ends; tests pass one that advances a
	// manual clock.
	Sleep        func(ctx context.Context, d time.Duration) error
	PollInterval time.Duration // default 5s
	StepTimeout  time.Duration // default 15m per wait step
	// Journaled, when set, is called after every journal write (each step
	// of a flow, and MarkReported): crash tests kill the process there, at
	// each step boundary in turn.
	Journaled func()
}

// Request is one action the caller has decided to take.
type Request struct {
	// ID (a UUID) is the journal key: Execute twice with one ID never acts
	// twice.
	ID                         string
	PolicyID, RecommendationID string
	PlanID                     string
	ResourceID, ResourceType   string
	Region                     string
	Action                     string // resize | stop | start | migrate_gp3
	FromSize, ToSize           string // resize: instance types; migrate_gp3: "gp2:100" -> "gp3:100"
	// EstimatedMonthlySavings is reported as the action's realised saving
	// when it succeeds; nil when unknown.
	EstimatedMonthlySavings *sirsiv1.Money
	// HourlyCostBefore and HourlyCostAfter are the resource's hourly cost
	// before and after the change as the caller priced it when it asked;
	// they go with the action report and open its savings ledger entry.
	// Nil when the caller did not price it (the control plane then uses
	// the recommendation's estimates).
	HourlyCostBefore *sirsiv1.Money `json:",omitempty"`
	HourlyCostAfter  *sirsiv1.Money `json:",omitempty"`
	// VerifyWait is policy verify.wait_minutes; 0 skips the CPU check.
	VerifyWait time.Duration
	// RollbackOnFailure is policy verify.rollback_on_failure, resolved by
	// the caller (unset means true).
	RollbackOnFailure bool
	// Cooldown refuses a resource acted on (by tag or journal) less than
	// this long ago; off-hours stop/start pass 0.
	Cooldown time.Duration
	// ExcludeTags refuse a resource carrying any of them ("*" matches any
	// value); sirsi:optimize=false always refuses.
	ExcludeTags map[string]string
	// OffHours marks a stop or start of an off-hours schedule: its stop
	// tags the instance sirsi:offhours=stopped, and its start refuses an
	// instance without that tag or started by anyone since StoppedAt (the
	// end of the off-hours stop), so that it starts only what off-hours
	// stopped and nobody touched since.
	OffHours  bool      `json:",omitempty"`
	StoppedAt time.Time `json:",omitzero"`
	// Approved says a person approved this action (an approved
	// recommendation or plan). Irreversible actions (release) are refused
	// without it, whatever the caller's mode.
	Approved bool `json:",omitempty"`
	// Hibernate asks a stop to hibernate the instance when it was enabled
	// for hibernation at launch (policy hibernate); any other instance is
	// stopped. A resize's stop never hibernates.
	Hibernate bool `json:",omitempty"`
}

// Action names: the optimizer's (internal/optimizer) for what it
// recommends, and start, which only off-hours asks for.
const (
	ActionResize            = optimizer.ActionResize
	ActionStop              = optimizer.ActionStop
	ActionStart             = optimizer.ActionStart
	ActionMigrateGP3        = optimizer.ActionMigrateGP3
	ActionSnapshotAndDelete = optimizer.ActionSnapshotAndDelete
	ActionRelease           = optimizer.ActionRelease
	ActionSetMemory         = optimizer.ActionSetMemory
)

// Resource types.
const (
	ResourceEC2Instance    = validation.ResourceEC2Instance
	ResourceEBSVolume      = validation.ResourceEBSVolume
	ResourceEIP            = validation.ResourceEIP
	ResourceRDSInstance    = validation.ResourceRDSInstance
	ResourceLambdaFunction = validation.ResourceLambdaFunction
)

// Carries says whether the actuator carries out action on resourceType;
// every other recommendation is advice only.
func Carries(resourceType, action string) bool {
	_, ok := flowKinds[flowKey{resourceType, action}]
	return ok
}

// Irreversible says whether action cannot be undone once done, so that it
// runs only when a person approved it (Request.Approved), never in auto.
func Irreversible(resourceType, action string) bool {
	return flowKinds[flowKey{resourceType, action}].irreversible
}

// Tags the actuator reads and writes.
const (
	// TagLastAction is "<action> <details...> <RFC3339 time>"; the time is
	// always the last field, so cool-down parsing ignores the details.
	TagLastAction = "sirsi:last-action"
	TagError      = "sirsi:error"
	// TagActionID and TagRecommendationID mark what an action created (the
	// snapshot of a deleted volume), so a resumed flow finds it again.
	TagActionID         = "sirsi:action-id"
	TagRecommendationID = "sirsi:recommendation-id"
	// TagOptimize = "false" excludes a resource from every action.
	TagOptimize = "sirsi:optimize"
	// TagOffHours is "stopped" on an instance an off-hours schedule
	// stopped, "started" once it started it again.
	TagOffHours = "sirsi:offhours"
	// maxTagValue is AWS's limit on tag values, in characters.
	maxTagValue = 256
)

// PinnedCPUPercent is the verification threshold: an instance whose
// average CPUUtilization over the verify window (at least one datapoint)
// is at or above it is saturated at its new size, so the resize is rolled
// back. 90% leaves room for the ordinary peaks of a right-sized machine
// while catching one that has no headroom left.
const PinnedCPUPercent = 90.0

const (
	defaultPollInterval = 5 * time.Second
	defaultStepTimeout  = 15 * time.Minute
	// rescueAttempts bounds how often a failed rollback retries starting an
	// instance that was running before.
	rescueAttempts = 5
	// cpuPeriod is EC2 basic monitoring's resolution.
	cpuPeriod = 5 * time.Minute
)

// Actuator executes requests. It is safe for concurrent use; two flows on
// one resource never run at once.
type Actuator struct {
	cfg Config
	log hclog.Logger
	j   *journal
	m   *metrics

	// beforeJournal, set only by the crash tests, is called when a step
	// has run and before it is journaled (Config.Journaled comes after): a
	// kill there leaves a step done in AWS that the journal does not know.
	beforeJournal func(phase string)

	mu       sync.Mutex
	running  map[string]bool   // action ids in progress
	resource map[string]string // resource id -> action id in progress
}

// New opens (or creates) the journal, quarantining corrupt records and
// pruning terminal flows older than 30 days.
func New(cfg Config) (*Actuator, error) {
	switch {
	case cfg.DataDir == "":
		return nil, errors.New("actuator: Config.DataDir: required")
	case cfg.EC2 == nil:
		return nil, errors.New("actuator: Config.EC2: required")
	case cfg.CloudWatch == nil:
		return nil, errors.New("actuator: Config.CloudWatch: required")
	case cfg.PollInterval < 0:
		return nil, fmt.Errorf("actuator: Config.PollInterval %v: must not be negative", cfg.PollInterval)
	case cfg.StepTimeout < 0:
		return nil, fmt.Errorf("actuator: Config.StepTimeout %v: must not be negative", cfg.StepTimeout)
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = realSleep
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = defaultPollInterval
	}
	if cfg.StepTimeout == 0 {
		cfg.StepTimeout = defaultStepTimeout
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("actuator: %w", err)
	}
	log := cfg.Log.Named("actuator")
	j, err := openJournal(cfg.DataDir, log, cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("actuator: %w", err)
	}
	return &Actuator{cfg: cfg, log: log, j: j, m: m, running: map[string]bool{}, resource: map[string]string{}}, nil
}

func realSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close closes the journal.
func (a *Actuator) Close() error { return a.j.close() }

// Execute runs req to a terminal state (SUCCEEDED, FAILED, ROLLED_BACK) and
// returns the Action with every step. A refused request (excluded tag on
// the live resource, cool-down, resource no longer in FromSize or the
// expected state, invalid request) is FAILED without any AWS mutation. If
// ctx ends mid-flow the Action is returned RUNNING and the journal keeps
// the flow for Resume.
func (a *Actuator) Execute(ctx context.Context, req Request) *sirsiv1.Action {
	if err := a.validate(req); err != nil {
		return a.rejected(req, err, false)
	}
	if err := a.claim(req); err != nil {
		return a.rejected(req, err, false)
	}
	defer a.release(req)
	rec, err := a.j.get(req.ID)
	if err != nil {
		return a.rejected(req, err, false)
	}
	switch {
	case rec == nil:
		rec = &record{Req: req, Phase: phaseCheck, Start: a.cfg.Now().UTC()}
		if err := a.j.put(rec); err != nil {
			return a.rejected(req, err, false)
		}
		a.journaled()
	case rec.Req.ResourceID != req.ResourceID || rec.Req.Action != req.Action:
		return a.rejected(req, fmt.Errorf("request.id %s: already used for %s of %s", req.ID, rec.Req.Action, rec.Req.ResourceID), false)
	case rec.terminal():
		return toAction(rec)
	}
	a.run(ctx, rec)
	return toAction(rec)
}

// Resume finishes or rolls back every journaled flow that did not reach a
// terminal state, handing each Action to done as soon as its flow ends
// (a flow still running when ctx ends is not handed over).
func (a *Actuator) Resume(ctx context.Context, done func(*sirsiv1.Action)) {
	recs, err := a.j.all()
	if err != nil {
		a.log.Error("cannot resume journaled actions", "error", err)
		return
	}
	for _, rec := range recs {
		if rec.terminal() {
			continue
		}
		if err := a.claim(rec.Req); err != nil {
			continue // Execute is running it right now
		}
		a.log.Info("resuming an interrupted action", "id", rec.Req.ID, "action", rec.Req.Action, "resource", rec.Req.ResourceID, "phase", rec.Phase)
		a.run(ctx, rec)
		a.release(rec.Req)
		if rec.terminal() {
			done(toAction(rec))
		}
	}
}

// Unreported returns the finished flows not yet marked reported.
func (a *Actuator) Unreported() ([]*sirsiv1.Action, error) {
	recs, err := a.j.all()
	if err != nil {
		return nil, err
	}
	var out []*sirsiv1.Action
	for _, rec := range recs {
		if rec.terminal() && !rec.Reported {
			out = append(out, toAction(rec))
		}
	}
	return out, nil
}

// MarkReported records that the finished flow id's report is in durable
// hands; an id the journal does not hold (a refused request) is ignored.
func (a *Actuator) MarkReported(id string) error {
	err := a.j.update(id, func(r *record) { r.Reported = true })
	a.journaled()
	return err
}

func (a *Actuator) journaled() {
	if a.cfg.Journaled != nil {
		a.cfg.Journaled()
	}
}

// LastAction returns when the journal last acted on a resource; refused
// requests do not count.
func (a *Actuator) LastAction(resourceID string) (time.Time, bool) {
	t, ok, err := a.lastAction(resourceID, "")
	if err != nil {
		a.log.Error("reading the action journal", "error", err)
	}
	return t, ok
}

func (a *Actuator) lastAction(resourceID, exceptID string) (time.Time, bool, error) {
	recs, err := a.j.all()
	if err != nil {
		return time.Time{}, false, err
	}
	var last time.Time
	for _, r := range recs {
		if r.Req.ResourceID == resourceID && r.Req.ID != exceptID && r.Acted && r.lastActed().After(last) {
			last = r.lastActed()
		}
	}
	return last, !last.IsZero(), nil
}

// DryRun returns the Action Execute would run (status PLANNED, dry_run set,
// steps listed as planned) after the same live checks, without mutating
// anything or journaling.
func (a *Actuator) DryRun(ctx context.Context, req Request) *sirsiv1.Action {
	if err := a.validate(req); err != nil {
		return a.rejected(req, err, true)
	}
	rec := &record{Req: req, Phase: phaseCheck, Start: a.cfg.Now().UTC()}
	f := a.newFlow(rec)
	t0 := a.cfg.Now()
	next, detail, err := f.check(ctx)
	a.m.step(phaseCheck, a.cfg.Now().Sub(t0))
	if err != nil {
		return a.rejected(req, err, true)
	}
	rec.addStep(phaseCheck, statusSucceeded, a.cfg.Now(), detail)
	for _, p := range plannedSteps(rec, next) {
		rec.addStep(p, statusPlanned, a.cfg.Now(), "")
	}
	act := toAction(rec)
	act.Status = sirsiv1.ActionStatus_ACTION_STATUS_PLANNED
	act.DryRun = true
	return act
}

// plannedSteps lists the forward steps from next, skipping the start and
// verification of an instance that was stopped and stays stopped.
func plannedSteps(rec *record, next string) []string {
	seq := rec.kind().forward
	i := slices.Index(seq, next)
	if i < 0 {
		return nil
	}
	var out []string
	for _, p := range seq[i:] {
		if rec.isInstanceResize() && rec.OrigState == "stopped" &&
			(p == phaseStart || p == phaseWaitRunning || p == phaseVerifyStatus || p == phaseVerifyCPU) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// rejected is the Action of a request refused before any flow started.
func (a *Actuator) rejected(req Request, err error, dryRun bool) *sirsiv1.Action {
	now := a.cfg.Now().UTC()
	a.log.Warn("action refused", "id", req.ID, "action", req.Action, "resource", req.ResourceID, "error", err)
	if !dryRun {
		a.m.outcome(req.Action, "refused")
	}
	rec := &record{Req: req, Start: now, End: now, Outcome: outcomeFailed, Error: err.Error()}
	rec.addStep(phaseCheck, statusFailed, now, err.Error())
	act := toAction(rec)
	act.DryRun = dryRun
	return act
}

func (a *Actuator) claim(req Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running[req.ID] {
		return fmt.Errorf("request.id %s: this action is already running", req.ID)
	}
	if other, busy := a.resource[req.ResourceID]; busy {
		return fmt.Errorf("request.resource_id %s: action %s is already running on it", req.ResourceID, other)
	}
	a.running[req.ID] = true
	a.resource[req.ResourceID] = req.ID
	return nil
}

func (a *Actuator) release(req Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.running, req.ID)
	if a.resource[req.ResourceID] == req.ID {
		delete(a.resource, req.ResourceID)
	}
}

func (a *Actuator) validate(req Request) error {
	if _, err := uuid.Parse(req.ID); err != nil {
		return fmt.Errorf("request.id %q: must be a UUID", req.ID)
	}
	if req.ResourceID == "" {
		return errors.New("request.resource_id: required")
	}
	if req.Region == "" {
		return errors.New("request.region: required")
	}
	if req.VerifyWait < 0 {
		return fmt.Errorf("request.verify_wait %v: must not be negative", req.VerifyWait)
	}
	if req.Cooldown < 0 {
		return fmt.Errorf("request.cooldown %v: must not be negative", req.Cooldown)
	}
	kind, ok := flowKinds[flowKey{req.ResourceType, req.Action}]
	if !ok {
		return fmt.Errorf("request.action %q on request.resource_type %q: not an action the actuator carries out", req.Action, req.ResourceType)
	}
	if kind.irreversible && !req.Approved {
		return fmt.Errorf("request.approved: %s of %s cannot be undone, so it runs only on an approved recommendation or plan", req.Action, req.ResourceType)
	}
	switch req.Action {
	case ActionResize:
		if req.FromSize == "" || req.ToSize == "" {
			return errors.New("request.from_size, request.to_size: both required for resize")
		}
		if req.FromSize == req.ToSize {
			return fmt.Errorf("request.to_size %q: same as from_size", req.ToSize)
		}
	case ActionSetMemory:
		from, err1 := strconv.Atoi(req.FromSize)
		to, err2 := strconv.Atoi(req.ToSize)
		if err1 != nil || err2 != nil || to < 128 || to > 10240 || from == to {
			return fmt.Errorf("request.from_size %q, request.to_size %q: must be two different memory sizes in MB (128 to 10240)", req.FromSize, req.ToSize)
		}
	case ActionMigrateGP3:
		from, fromSize, err := parseVolumeSize(req.FromSize)
		if err != nil || from != "gp2" {
			return fmt.Errorf("request.from_size %q: must be gp2:<GiB>", req.FromSize)
		}
		to, toSize, err := parseVolumeSize(req.ToSize)
		if err != nil || to != "gp3" || toSize != fromSize {
			return fmt.Errorf("request.to_size %q: must be gp3:%d (a migration keeps the size)", req.ToSize, fromSize)
		}
	}
	if (kind.needsRDS && a.cfg.RDS == nil) || (kind.needsLambda && a.cfg.Lambda == nil) {
		return fmt.Errorf("request.action %q on %s: the actuator has no client for that service", req.Action, req.ResourceType)
	}
	return nil
}

// parseVolumeSize splits "gp2:100".
func parseVolumeSize(s string) (string, int, error) {
	typ, size, ok := strings.Cut(s, ":")
	if !ok {
		return "", 0, fmt.Errorf("%q: want <type>:<GiB>", s)
	}
	n, err := strconv.Atoi(size)
	if err != nil || n < 1 {
		return "", 0, fmt.Errorf("%q: size must be a positive number of GiB", s)
	}
	return typ, n, nil
}

// Step statuses as reported in ActionStep.status.
const (
	statusSucceeded = "succeeded"
	statusFailed    = "failed"
	statusSkipped   = "skipped"
	statusPlanned   = "planned"
)

func (r *record) addStep(name, status string, at time.Time, detail string) {
	r.Steps = append(r.Steps, step{Name: name, Status: status, Time: at.UTC(), Detail: detail})
}

// Refused reports whether act ended at its live check, before any
// mutation (an exclude tag or guard on the live resource, a cool-down, a
// stale size, a resource gone or not readable): the resource is as it
// was.
func Refused(act *sirsiv1.Action) bool {
	steps := act.GetSteps()
	return act.GetStatus() == sirsiv1.ActionStatus_ACTION_STATUS_FAILED && len(steps) > 0 &&
		steps[len(steps)-1].GetName() == phaseCheck && steps[len(steps)-1].GetStatus() == statusFailed
}

func toAction(r *record) *sirsiv1.Action {
	act := &sirsiv1.Action{
		Id: r.Req.ID, PolicyId: r.Req.PolicyID, RecommendationId: r.Req.RecommendationID, PlanId: r.Req.PlanID,
		ResourceId: r.Req.ResourceID, ResourceType: r.Req.ResourceType, Region: r.Req.Region,
		Action: r.Req.Action, FromSize: r.Req.FromSize, ToSize: r.Req.ToSize,
		Error: r.Error, StartTime: timestamppb.New(r.Start),
		HourlyCostBefore: r.Req.HourlyCostBefore, HourlyCostAfter: r.Req.HourlyCostAfter,
	}
	switch r.Outcome {
	case outcomeSucceeded:
		act.Status = sirsiv1.ActionStatus_ACTION_STATUS_SUCCEEDED
		act.RealizedMonthlySavings = r.Req.EstimatedMonthlySavings
	case outcomeFailed:
		act.Status, act.ErrorCode = sirsiv1.ActionStatus_ACTION_STATUS_FAILED, r.FailureCode
	case outcomeRolledBack:
		act.Status, act.ErrorCode = sirsiv1.ActionStatus_ACTION_STATUS_ROLLED_BACK, r.FailureCode
	default:
		act.Status = sirsiv1.ActionStatus_ACTION_STATUS_RUNNING
	}
	if !r.End.IsZero() {
		act.EndTime = timestamppb.New(r.End)
	}
	for _, s := range r.Steps {
		act.Steps = append(act.Steps, &sirsiv1.ActionStep{Name: s.Name, Status: s.Status, Time: timestamppb.New(s.Time), Detail: s.Detail})
	}
	return act
}

// truncateTag keeps a tag value within AWS's limit without splitting a
// character.
func truncateTag(s string) string {
	r := []rune(s)
	if len(r) <= maxTagValue {
		return s
	}
	return string(r[:maxTagValue-1]) + "…"
}
