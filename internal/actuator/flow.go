package actuator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/stopguard"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// Phases. The names are the step names reported in ActionStep.name.
const (
	phaseCheck               = "check"
	phaseStop                = "stop"
	phaseWaitStopped         = "wait_stopped"
	phaseModify              = "modify"
	phaseStart               = "start"
	phaseWaitRunning         = "wait_running"
	phaseVerifyStatus        = "verify_status"
	phaseVerifyCPU           = "verify_cpu"
	phaseModifyVolume        = "modify_volume"
	phaseWaitVolume          = "wait_volume"
	phaseTag                 = "tag"
	phaseRollbackStop        = "rollback_stop"
	phaseRollbackWaitStopped = "rollback_wait_stopped"
	phaseRollbackModify      = "rollback_modify"
	phaseRollbackStart       = "rollback_start"
	phaseRollbackWaitRunning = "rollback_wait_running"
	// phaseRollbackVerifyStatus re-checks the instance at its original type:
	// an instance whose status checks still fail was not brought back, so
	// the action is failed, not rolled back.
	phaseRollbackVerifyStatus = "rollback_verify_status"
	phaseRescueStart          = "rescue_start"
	phaseTagError             = "tag_error"

	phaseSnapshot               = "snapshot"
	phaseWaitSnapshot           = "wait_snapshot"
	phaseDeleteVolume           = "delete_volume"
	phaseRollbackDeleteSnapshot = "rollback_delete_snapshot"
	phaseRelease                = "release"
	phaseModifyDB               = "modify_db"
	phaseWaitDB                 = "wait_db"
	phaseVerifyDB               = "verify_db"
	phaseRollbackModifyDB       = "rollback_modify_db"
	phaseRollbackWaitDB         = "rollback_wait_db"
	phaseUpdateMemory           = "update_memory"
	phaseWaitFunction           = "wait_function"
	phaseVerifyFunction         = "verify_function"
	phaseRollbackMemory         = "rollback_memory"
	phaseRollbackWaitFunction   = "rollback_wait_function"
)

type flowKey struct{ resourceType, action string }

// flowKind is one action the actuator carries out on one resource type.
type flowKind struct {
	// forward is the sequence of phases on the way to success.
	forward []string
	// rollback is the first phase undoing a failed flow ("" when there is
	// nothing to undo: the resource was left as it was).
	rollback string
	// irreversible actions run only when approved (Request.Approved).
	irreversible          bool
	needsRDS, needsLambda bool
}

var flowKinds = map[flowKey]flowKind{
	{ResourceEC2Instance, ActionResize}: {
		forward:  []string{phaseCheck, phaseStop, phaseWaitStopped, phaseModify, phaseStart, phaseWaitRunning, phaseVerifyStatus, phaseVerifyCPU, phaseTag},
		rollback: phaseRollbackStop,
	},
	{ResourceEC2Instance, ActionStop}:     {forward: []string{phaseCheck, phaseStop, phaseWaitStopped, phaseTag}},
	{ResourceEC2Instance, ActionStart}:    {forward: []string{phaseCheck, phaseStart, phaseWaitRunning, phaseTag}},
	{ResourceEBSVolume, ActionMigrateGP3}: {forward: []string{phaseCheck, phaseModifyVolume, phaseWaitVolume, phaseTag}},
	{ResourceEBSVolume, ActionSnapshotAndDelete}: {
		forward:  []string{phaseCheck, phaseSnapshot, phaseWaitSnapshot, phaseDeleteVolume},
		rollback: phaseRollbackDeleteSnapshot,
	},
	{ResourceEIP, ActionRelease}: {forward: []string{phaseCheck, phaseRelease}, irreversible: true},
	{ResourceRDSInstance, ActionResize}: {
		forward:  []string{phaseCheck, phaseModifyDB, phaseWaitDB, phaseVerifyDB, phaseTag},
		rollback: phaseRollbackModifyDB, needsRDS: true,
	},
	{ResourceLambdaFunction, ActionSetMemory}: {
		forward:  []string{phaseCheck, phaseUpdateMemory, phaseWaitFunction, phaseVerifyFunction, phaseTag},
		rollback: phaseRollbackMemory, needsLambda: true,
	},
}

func (r *record) kind() flowKind { return flowKinds[flowKey{r.Req.ResourceType, r.Req.Action}] }

// rollsBack says whether a failure of this flow is undone.
func (r *record) rollsBack() bool { return r.kind().rollback != "" && r.Req.RollbackOnFailure }

// isInstanceResize: the EC2 resize, whose failures always bring the
// instance back up (rescue), rolled back or not.
func (r *record) isInstanceResize() bool {
	return r.Req.Action == ActionResize && r.Req.ResourceType == ResourceEC2Instance
}

// result is what a phase did. next "" means the following phase of the
// action's forward sequence.
type result struct {
	next    string
	detail  string
	skipped bool
}

// done ends a flow; it is never a phase anyone runs.
const done = "done"

type flow struct {
	a   *Actuator
	rec *record
	ec2 EC2API
}

func (a *Actuator) newFlow(rec *record) *flow {
	return &flow{a: a, rec: rec, ec2: a.cfg.EC2(rec.Req.Region)}
}

// run drives rec until it is terminal or ctx ends, journaling every step.
// A span covers the run and one child span each step, the step's AWS
// calls beneath it.
func (a *Actuator) run(ctx context.Context, rec *record) {
	ctx, span := tracer.Start(ctx, "actuator.action", trace.WithAttributes(
		attribute.String("sirsi.action.id", rec.Req.ID), attribute.String("sirsi.action.kind", rec.Req.Action),
		attribute.String("sirsi.resource.id", rec.Req.ResourceID), attribute.String("sirsi.resource.type", rec.Req.ResourceType),
		attribute.String("cloud.region", rec.Req.Region)))
	defer func() {
		span.SetAttributes(attribute.String("sirsi.action.outcome", rec.Outcome))
		span.End()
	}()
	f := a.newFlow(rec)
	for !rec.terminal() && ctx.Err() == nil {
		phase := rec.Phase
		t0 := a.cfg.Now()
		sctx, step := tracer.Start(ctx, "actuator.step", trace.WithAttributes(attribute.String("sirsi.action.step", phase)))
		res, err := f.runPhase(sctx, phase)
		step.SetAttributes(attribute.Bool("sirsi.action.step.skipped", res.skipped))
		tracing.End(step, err)
		now := a.cfg.Now()
		a.m.step(phase, now.Sub(t0))
		if err != nil && ctx.Err() != nil {
			return // interrupted, not failed: the journal still says phase
		}
		if err != nil {
			rec.addStep(phase, statusFailed, now, err.Error())
			f.failed(ctx, phase, err)
		} else {
			status := statusSucceeded
			if res.skipped {
				status = statusSkipped
			}
			rec.addStep(phase, status, now, res.detail)
			next := res.next
			if next == "" {
				next = following(rec, phase)
			}
			if phase == phaseCheck {
				// Journaled with the move to the first mutating phase, so a
				// crash after it still counts for cool-down.
				rec.Acted = true
			}
			rec.Phase = next
		}
		if rec.Phase == done && !rec.terminal() {
			f.finish(now)
		}
		if a.beforeJournal != nil {
			a.beforeJournal(phase)
		}
		if err := a.j.put(rec); err != nil {
			// Going on is safer for the resource than stopping halfway;
			// only resumability after a crash is lost.
			a.log.Error("journaling an action step failed; continuing the flow", "id", rec.Req.ID, "phase", phase, "error", err)
		}
		a.journaled()
		if rec.terminal() {
			outcome := rec.Outcome
			if !rec.Acted {
				outcome = "refused"
			}
			a.m.outcome(rec.Req.Action, outcome)
			a.log.Info("action finished", "id", rec.Req.ID, "action", rec.Req.Action, "resource", rec.Req.ResourceID, "outcome", rec.Outcome, "error", rec.Error)
		}
	}
}

func following(rec *record, phase string) string {
	seq := rec.kind().forward
	i := slices.Index(seq, phase)
	if i < 0 || i+1 >= len(seq) {
		return done
	}
	return seq[i+1]
}

func (f *flow) runPhase(ctx context.Context, phase string) (result, error) {
	switch phase {
	case phaseCheck:
		next, detail, err := f.check(ctx)
		return result{next: next, detail: detail}, err
	case phaseStop:
		return f.stop(ctx)
	case phaseWaitStopped:
		_, err := f.waitState(ctx, "stopped")
		return result{}, err
	case phaseRollbackWaitStopped:
		_, err := f.waitState(ctx, "stopped")
		return result{next: phaseRollbackModify}, err
	case phaseModify:
		return f.modify(ctx, f.rec.Req.ToSize)
	case phaseStart:
		return f.start(ctx)
	case phaseWaitRunning:
		return f.waitRunning(ctx)
	case phaseVerifyStatus:
		return f.verifyStatus(ctx)
	case phaseVerifyCPU:
		return f.verifyCPU(ctx)
	case phaseModifyVolume:
		return f.modifyVolume(ctx)
	case phaseWaitVolume:
		return f.waitVolume(ctx)
	case phaseTag:
		return f.tagSuccess(ctx), nil
	case phaseRollbackStop:
		return f.rollbackStop(ctx)
	case phaseRollbackModify:
		res, err := f.modify(ctx, f.rec.OrigType)
		res.next = phaseRollbackStart
		return res, err
	case phaseRollbackStart:
		return f.restart(ctx, phaseRollbackWaitRunning)
	case phaseRollbackWaitRunning:
		_, err := f.waitState(ctx, "running")
		return result{next: phaseRollbackVerifyStatus}, err
	case phaseRollbackVerifyStatus:
		res, err := f.verifyStatus(ctx)
		res.next = phaseTagError
		return res, err
	case phaseRescueStart:
		return f.rescue(ctx)
	case phaseTagError:
		return f.tagFailure(ctx), nil
	case phaseSnapshot:
		return f.snapshot(ctx)
	case phaseWaitSnapshot:
		return f.waitSnapshot(ctx)
	case phaseDeleteVolume:
		return f.deleteVolume(ctx)
	case phaseRollbackDeleteSnapshot:
		return f.deleteSnapshot(ctx)
	case phaseRelease:
		return f.release(ctx)
	case phaseModifyDB:
		return f.modifyDB(ctx, f.rec.Req.ToSize)
	case phaseWaitDB:
		return f.waitDB(ctx, f.rec.Req.ToSize, "")
	case phaseVerifyDB:
		return f.verifyDB(ctx)
	case phaseRollbackModifyDB:
		res, err := f.modifyDB(ctx, f.rec.OrigType)
		res.next = phaseRollbackWaitDB
		return res, err
	case phaseRollbackWaitDB:
		return f.waitDB(ctx, f.rec.OrigType, phaseTagError)
	case phaseUpdateMemory:
		return f.updateMemory(ctx, f.rec.Req.ToSize)
	case phaseWaitFunction:
		return f.waitFunction(ctx, f.rec.Req.ToSize, "")
	case phaseVerifyFunction:
		return f.verifyFunction(ctx)
	case phaseRollbackMemory:
		res, err := f.updateMemory(ctx, f.rec.OrigType)
		res.next = phaseRollbackWaitFunction
		return res, err
	case phaseRollbackWaitFunction:
		return f.waitFunction(ctx, f.rec.OrigType, phaseTagError)
	}
	return result{}, fmt.Errorf("unknown phase %q in the journal", phase)
}

// failed decides where a flow goes after phase failed with err.
func (f *flow) failed(ctx context.Context, phase string, err error) {
	rec := f.rec
	now := f.a.cfg.Now().UTC()
	gone := rec.goneReason(err)
	switch {
	case phase == phaseCheck:
		rec.Outcome, rec.Error, rec.End = outcomeFailed, err.Error(), now
		rec.FailureCode = awsCode(err)
		rec.Phase = done
	case gone != "" && phase != phaseTag && phase != phaseTagError:
		// Nothing to roll back, rescue or tag: the flow ends here.
		rec.Gone = gone
		if rec.Failure == "" {
			rec.Failure, rec.FailureCode = err.Error(), awsCode(err)
		}
		rec.Phase = done
	case phase == phaseRescueStart:
		rec.RescueErr = err.Error()
		rec.RescueTries++
		if rec.RescueTries >= rescueAttempts {
			rec.Phase = phaseTagError
			return
		}
		_ = f.a.cfg.Sleep(ctx, f.a.cfg.PollInterval)
	case phase == phaseRollbackVerifyStatus:
		// Running at its original type, so nothing to rescue; the action
		// failed and says why.
		rec.RollbackErr = "status checks after the rollback: " + err.Error()
		rec.Phase = phaseTagError
	case strings.HasPrefix(phase, "rollback_"):
		rec.RollbackErr = err.Error()
		rec.Phase = phaseTagError
		if rec.isInstanceResize() {
			rec.Phase = phaseRescueStart
		}
	case phase == phaseTag || phase == phaseTagError:
		// Tagging never fails a flow (see tagSuccess); defensive only.
		rec.Phase = done
	default:
		rec.Failure, rec.FailureCode = err.Error(), awsCode(err)
		switch {
		case rec.rollsBack():
			rec.Phase = rec.kind().rollback
		case rec.isInstanceResize():
			rec.Phase = phaseRescueStart
		default:
			rec.Phase = phaseTagError
		}
	}
}

// finish sets the outcome of a flow that reached done without an outcome.
func (f *flow) finish(now time.Time) {
	rec := f.rec
	rec.End = now.UTC()
	switch {
	case rec.Gone != "":
		rec.Outcome, rec.Error = outcomeFailed, rec.goneError()
	case rec.Failure == "":
		rec.Outcome = outcomeSucceeded
	case rec.RollbackErr != "" || rec.RescueErr != "":
		rec.Outcome = outcomeFailed
		msg := rec.Req.Action + " failed: " + rec.Failure
		if rec.RollbackErr != "" {
			msg += "; rollback failed: " + rec.RollbackErr
		}
		if rec.RescueErr != "" {
			msg += fmt.Sprintf("; starting the instance again failed %d times, last: %s", rec.RescueTries, rec.RescueErr)
		}
		rec.Error = msg
	case rec.rollsBack():
		rec.Outcome = outcomeRolledBack
		rec.Error = rec.Failure
	default:
		rec.Outcome = outcomeFailed
		rec.Error = rec.Failure
	}
}

// describeInstance returns the live instance.
func (f *flow) describeInstance(ctx context.Context) (ec2types.Instance, error) {
	id := f.rec.Req.ResourceID
	out, err := f.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return ec2types.Instance{}, fmt.Errorf("describing instance %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.InstanceId) == id {
				return in, nil
			}
		}
	}
	return ec2types.Instance{}, fmt.Errorf("describing instance %s: not found", id)
}

func stateOf(in ec2types.Instance) string {
	if in.State == nil {
		return ""
	}
	return string(in.State.Name)
}

func tagsOf(tags []ec2types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// check runs the live checks before the first mutation and records the
// original state. It returns the first mutating phase.
func (f *flow) check(ctx context.Context) (string, string, error) {
	req := f.rec.Req
	switch req.ResourceType {
	case ResourceEBSVolume:
		if req.Action == ActionSnapshotAndDelete {
			return f.checkUnattachedVolume(ctx)
		}
		return f.checkVolume(ctx)
	case ResourceEIP:
		return f.checkAddress(ctx)
	case ResourceRDSInstance:
		return f.checkDB(ctx)
	case ResourceLambdaFunction:
		return f.checkFunction(ctx)
	}
	in, err := f.describeInstance(ctx)
	if err != nil {
		return "", "", err
	}
	state, typ := stateOf(in), string(in.InstanceType)
	if err := f.checkTags(tagsOf(in.Tags)); err != nil {
		return "", "", err
	}
	if req.Action == ActionResize || req.Action == ActionStop {
		guard := stopguard.Instance{Tags: tagsOf(in.Tags), RootDeviceType: string(in.RootDeviceType), Lifecycle: string(in.InstanceLifecycle)}
		if why := stopguard.Reason(guard); why.Applies() {
			return "", "", fmt.Errorf("instance %s is never stopped: %s", req.ResourceID, why.Detail)
		}
	}
	switch req.Action {
	case ActionResize:
		if state != "running" && state != "stopped" {
			return "", "", fmt.Errorf("instance %s is %s: resize needs it running or stopped", req.ResourceID, state)
		}
		if typ != req.FromSize {
			return "", "", fmt.Errorf("instance %s is %s, not from_size %s: the recommendation is stale", req.ResourceID, typ, req.FromSize)
		}
	case ActionStop:
		if state != "running" {
			return "", "", fmt.Errorf("instance %s is %s: stop needs it running", req.ResourceID, state)
		}
	case ActionStart:
		if state != "stopped" {
			return "", "", fmt.Errorf("instance %s is %s: start needs it stopped", req.ResourceID, state)
		}
		if req.OffHours {
			if err := stoppedByOffHours(in, req); err != nil {
				return "", "", err
			}
		}
	}
	f.rec.OrigType, f.rec.OrigState = typ, state
	return following(f.rec, phaseCheck), fmt.Sprintf("instance %s: %s, %s", req.ResourceID, typ, state), nil
}

// stoppedByOffHours refuses to start an instance that off-hours did not
// stop, or that someone started (and stopped again) since: EC2 reports
// the latest start as the launch time.
func stoppedByOffHours(in ec2types.Instance, req Request) error {
	if v := tagsOf(in.Tags)[TagOffHours]; v != "stopped" {
		return fmt.Errorf("instance %s does not carry %s=stopped (it carries %q): off-hours did not stop it, so it stays as it is", req.ResourceID, TagOffHours, v)
	}
	if in.LaunchTime != nil && in.LaunchTime.After(req.StoppedAt) {
		return fmt.Errorf("instance %s was started at %s, after off-hours stopped it at %s: someone stopped it since, so it stays stopped",
			req.ResourceID, in.LaunchTime.UTC().Format(time.RFC3339), req.StoppedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkTags refuses excluded resources and those inside their cool-down,
// by the live tag and by the journal.
func (f *flow) checkTags(tags map[string]string) error {
	req := f.rec.Req
	if strings.EqualFold(tags[TagOptimize], "false") {
		return fmt.Errorf("%s carries %s=false: excluded from optimization", req.ResourceID, TagOptimize)
	}
	for _, k := range sortedKeys(req.ExcludeTags) {
		want := req.ExcludeTags[k]
		if v, ok := tags[k]; ok && (want == "*" || want == v) {
			return fmt.Errorf("%s carries the exclude tag %s=%s", req.ResourceID, k, v)
		}
	}
	if req.Cooldown <= 0 {
		return nil
	}
	now := f.a.cfg.Now()
	if v, ok := tags[TagLastAction]; ok {
		fields := strings.Fields(v)
		if len(fields) > 0 {
			if t, err := time.Parse(time.RFC3339, fields[len(fields)-1]); err == nil && now.Sub(t) < req.Cooldown {
				return fmt.Errorf("%s was acted on at %s (tag %s): inside the %v cool-down", req.ResourceID, t.Format(time.RFC3339), TagLastAction, req.Cooldown)
			}
		}
	}
	last, ok, err := f.a.lastAction(req.ResourceID, req.ID)
	if err != nil {
		return err
	}
	if ok && now.Sub(last) < req.Cooldown {
		return fmt.Errorf("%s was acted on at %s (journal): inside the %v cool-down", req.ResourceID, last.UTC().Format(time.RFC3339), req.Cooldown)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (f *flow) stop(ctx context.Context) (result, error) {
	in, err := f.describeInstance(ctx)
	if err != nil {
		return result{}, err
	}
	switch st := stateOf(in); st {
	case "stopping", "stopped":
		return result{skipped: true, detail: "already " + st}, nil
	case "running", "pending":
		req := f.rec.Req
		// Only an instance enabled at launch may hibernate: EC2 refuses
		// the others (UnsupportedHibernationConfiguration), so they stop.
		hibernate := req.Action == ActionStop && req.Hibernate && in.HibernationOptions != nil && aws.ToBool(in.HibernationOptions.Configured)
		stopIn := &ec2.StopInstancesInput{InstanceIds: []string{req.ResourceID}}
		if hibernate {
			stopIn.Hibernate = aws.Bool(true)
		}
		if _, err := f.ec2.StopInstances(ctx, stopIn); err != nil {
			if hibernate {
				return result{}, fmt.Errorf("hibernating instance %s: %w", req.ResourceID, err)
			}
			return result{}, fmt.Errorf("stopping instance %s: %w", req.ResourceID, err)
		}
		if hibernate {
			return result{detail: "hibernated (enabled for hibernation at launch)"}, nil
		}
		return result{}, nil
	default:
		if err := instanceGoing(f.rec.Req.ResourceID, st, "stop"); err != nil {
			return result{}, err
		}
		return result{}, fmt.Errorf("instance %s is %s: cannot stop it", f.rec.Req.ResourceID, st)
	}
}

// waitState polls until the instance is in want.
func (f *flow) waitState(ctx context.Context, want string) (ec2types.Instance, error) {
	deadline := f.a.cfg.Now().Add(f.a.cfg.StepTimeout)
	for {
		in, err := f.describeInstance(ctx)
		if err != nil {
			return in, err
		}
		st := stateOf(in)
		if st == want {
			return in, nil
		}
		if err := instanceGoing(f.rec.Req.ResourceID, st, "wait until "+want+" for"); err != nil {
			return in, err
		}
		if !f.a.cfg.Now().Before(deadline) {
			return in, fmt.Errorf("instance %s still %s after %v waiting for %s", f.rec.Req.ResourceID, st, f.a.cfg.StepTimeout, want)
		}
		if err := f.a.cfg.Sleep(ctx, f.a.cfg.PollInterval); err != nil {
			return in, err
		}
	}
}

func (f *flow) modify(ctx context.Context, to string) (result, error) {
	id := f.rec.Req.ResourceID
	in, err := f.describeInstance(ctx)
	if err != nil {
		return result{}, err
	}
	if string(in.InstanceType) == to {
		return result{skipped: true, detail: "already " + to}, nil
	}
	if st := stateOf(in); st != "stopped" {
		return result{}, fmt.Errorf("instance %s is %s: the type can only change while stopped", id, st)
	}
	_, err = f.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId:   aws.String(id),
		InstanceType: &ec2types.AttributeValue{Value: aws.String(to)},
	})
	if err != nil {
		return result{}, fmt.Errorf("changing instance %s from %s to %s: %w", id, in.InstanceType, to, err)
	}
	return result{detail: fmt.Sprintf("%s -> %s", in.InstanceType, to)}, nil
}

// start starts the instance: always for the start action, for a resize
// only when it was running before.
func (f *flow) start(ctx context.Context) (result, error) {
	if f.rec.Req.Action == ActionResize && f.rec.OrigState != "running" {
		return result{next: phaseTag, skipped: true, detail: "instance was stopped before the resize; left stopped"}, nil
	}
	return f.restart(ctx, "")
}

// restart starts the instance if it was running before the flow, then
// continues with next.
func (f *flow) restart(ctx context.Context, next string) (result, error) {
	id := f.rec.Req.ResourceID
	if f.rec.Req.Action == ActionResize && f.rec.OrigState != "running" {
		return result{next: phaseTagError, skipped: true, detail: "instance was stopped before; left stopped"}, nil
	}
	in, err := f.describeInstance(ctx)
	if err != nil {
		return result{}, err
	}
	switch st := stateOf(in); st {
	case "pending", "running":
		return result{next: next, skipped: true, detail: "already " + st}, nil
	case "stopping":
		if _, err := f.waitState(ctx, "stopped"); err != nil {
			return result{}, err
		}
	case "stopped":
	default:
		if err := instanceGoing(id, st, "start"); err != nil {
			return result{}, err
		}
		return result{}, fmt.Errorf("instance %s is %s: cannot start it", id, st)
	}
	if _, err := f.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		return result{}, fmt.Errorf("starting instance %s: %w", id, err)
	}
	return result{next: next}, nil
}

func (f *flow) waitRunning(ctx context.Context) (result, error) {
	in, err := f.waitState(ctx, "running")
	if err != nil {
		return result{}, err
	}
	f.rec.RunningSince = f.a.cfg.Now().UTC()
	if in.LaunchTime != nil {
		// EC2 reports the latest start as the launch time: exact even when
		// this step ran long after the start, as after a restart.
		f.rec.RunningSince = in.LaunchTime.UTC()
	}
	return result{detail: fmt.Sprintf("running as %s since %s", in.InstanceType, f.rec.RunningSince.Format(time.RFC3339))}, nil
}

func (f *flow) verifyStatus(ctx context.Context) (result, error) {
	id := f.rec.Req.ResourceID
	deadline := f.a.cfg.Now().Add(f.a.cfg.StepTimeout)
	for {
		out, err := f.ec2.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{
			InstanceIds: []string{id}, IncludeAllInstances: aws.Bool(true),
		})
		if err != nil {
			return result{}, fmt.Errorf("reading the status checks of instance %s: %w", id, err)
		}
		inst, sys := "", ""
		for _, s := range out.InstanceStatuses {
			if aws.ToString(s.InstanceId) != id {
				continue
			}
			if s.InstanceState != nil && s.InstanceState.Name != ec2types.InstanceStateNameRunning {
				return result{}, fmt.Errorf("instance %s is %s during its status checks", id, s.InstanceState.Name)
			}
			if s.InstanceStatus != nil {
				inst = string(s.InstanceStatus.Status)
			}
			if s.SystemStatus != nil {
				sys = string(s.SystemStatus.Status)
			}
		}
		if inst == "impaired" || sys == "impaired" {
			return result{}, fmt.Errorf("instance %s status checks impaired (instance %s, system %s)", id, inst, sys)
		}
		if inst == "ok" && sys == "ok" {
			return result{detail: "instance and system status checks ok"}, nil
		}
		if !f.a.cfg.Now().Before(deadline) {
			return result{}, fmt.Errorf("instance %s status checks not ok after %v (instance %q, system %q)", id, f.a.cfg.StepTimeout, inst, sys)
		}
		if err := f.a.cfg.Sleep(ctx, f.a.cfg.PollInterval); err != nil {
			return result{}, err
		}
	}
}

// rollbackStop starts the rollback: nothing to undo when the instance
// still has its original type.
func (f *flow) rollbackStop(ctx context.Context) (result, error) {
	in, err := f.describeInstance(ctx)
	if err != nil {
		return result{}, err
	}
	if string(in.InstanceType) == f.rec.OrigType {
		return result{next: phaseRollbackStart, skipped: true, detail: "type is still " + f.rec.OrigType}, nil
	}
	res, err := f.stop(ctx)
	res.next = phaseRollbackWaitStopped
	return res, err
}

// rescue keeps trying to bring back an instance that was running before,
// at whatever type it has, after a failed rollback.
func (f *flow) rescue(ctx context.Context) (result, error) {
	res, err := f.restart(ctx, "")
	if err != nil {
		return res, err
	}
	if res.next == phaseTagError {
		return res, nil
	}
	if _, err := f.waitState(ctx, "running"); err != nil {
		return result{}, err
	}
	return result{next: phaseTagError, detail: "instance running again"}, nil
}

// createTags tags the flow's resource through its service's API; a
// resource the flow deleted (volume, address) has nothing to tag.
func (f *flow) createTags(ctx context.Context, tags map[string]string) error {
	switch f.rec.Req.ResourceType {
	case ResourceRDSInstance:
		return f.tagDB(ctx, tags)
	case ResourceLambdaFunction:
		return f.tagFunction(ctx, tags)
	case ResourceEIP:
		return errNothingToTag
	}
	if f.rec.Req.Action == ActionSnapshotAndDelete && f.rec.Deleted {
		return errNothingToTag
	}
	var list []ec2types.Tag
	for _, k := range sortedKeys(tags) {
		list = append(list, ec2types.Tag{Key: aws.String(k), Value: aws.String(truncateTag(tags[k]))})
	}
	_, err := f.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{f.rec.Req.ResourceID}, Tags: list})
	if err != nil {
		return fmt.Errorf("tagging %s: %w", f.rec.Req.ResourceID, err)
	}
	return nil
}

// errNothingToTag: the flow's resource no longer exists (a deleted
// volume, a released address).
var errNothingToTag = errors.New("the resource is gone: nothing to tag")

// lastActionValue is the sirsi:last-action tag: the time is always last.
func (f *flow) lastActionValue(note string) string {
	req := f.rec.Req
	parts := []string{req.Action}
	if req.FromSize != "" || req.ToSize != "" {
		parts = append(parts, req.FromSize+"->"+req.ToSize)
	}
	if note != "" {
		parts = append(parts, note)
	}
	return strings.Join(append(parts, f.a.cfg.Now().UTC().Format(time.RFC3339)), " ")
}

// tagSuccess marks the resource; a tagging failure does not undo a
// successful action (the journal still holds the cool-down).
func (f *flow) tagSuccess(ctx context.Context) result {
	v := f.lastActionValue("")
	tags := map[string]string{TagLastAction: v}
	if f.rec.Req.OffHours {
		tags[TagOffHours] = map[string]string{ActionStop: "stopped", ActionStart: "started"}[f.rec.Req.Action]
	}
	err := f.createTags(ctx, tags)
	if errors.Is(err, errNothingToTag) || f.rec.goneReason(err) != "" {
		return result{next: done, skipped: true, detail: err.Error()}
	}
	if err != nil {
		f.a.log.Warn("tagging after a successful action failed", "id", f.rec.Req.ID, "error", err)
		return result{next: done, detail: err.Error()}
	}
	return result{next: done, detail: TagLastAction + "=" + v}
}

func (f *flow) tagFailure(ctx context.Context) result {
	note := "failed"
	if f.rec.rollsBack() && f.rec.RollbackErr == "" && f.rec.RescueErr == "" {
		note = "rolled-back"
	}
	msg := f.rec.Failure
	if f.rec.RollbackErr != "" {
		msg += "; rollback: " + f.rec.RollbackErr
	}
	err := f.createTags(ctx, map[string]string{TagLastAction: f.lastActionValue(note), TagError: msg})
	if errors.Is(err, errNothingToTag) || f.rec.goneReason(err) != "" {
		return result{next: done, skipped: true, detail: err.Error()}
	}
	if err != nil {
		f.a.log.Warn("tagging after a failed action failed", "id", f.rec.Req.ID, "error", err)
		return result{next: done, detail: err.Error()}
	}
	return result{next: done, detail: TagError + " set"}
}

// tracer names the actuator's spans' instrumentation scope.
var tracer = otel.Tracer("github.com/sirsinexus/terraform-provider-sirsi/internal/actuator")
