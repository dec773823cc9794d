package actuator

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// A DB instance class change: ModifyDBInstance with ApplyImmediately (the
// caller runs it inside the policy's window, so the change does not wait
// for the maintenance window), wait until available at the new class,
// verify, and modify back on failure. Multi-AZ: AWS modifies the standby,
// fails over, then modifies the old primary, so the waits are given twice
// the step timeout and verification checks Multi-AZ is still on.

func (f *flow) rds() RDSAPI { return f.a.cfg.RDS(f.rec.Req.Region) }

func (f *flow) describeDB(ctx context.Context) (rdstypes.DBInstance, error) {
	id := f.rec.Req.ResourceID
	out, err := f.rds().DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		return rdstypes.DBInstance{}, fmt.Errorf("describing DB instance %s: %w", id, err)
	}
	for _, db := range out.DBInstances {
		if aws.ToString(db.DBInstanceIdentifier) == id {
			return db, nil
		}
	}
	return rdstypes.DBInstance{}, fmt.Errorf("describing DB instance %s: not in the answer: %w", id, errGone)
}

// checkNotDeleting refuses to go on with a DB instance being deleted.
func checkNotDeleting(db rdstypes.DBInstance) error {
	if aws.ToString(db.DBInstanceStatus) == "deleting" {
		return fmt.Errorf("DB instance %s is deleting: %w", aws.ToString(db.DBInstanceIdentifier), errGone)
	}
	return nil
}

func rdsTags(tags []rdstypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (f *flow) checkDB(ctx context.Context) (string, string, error) {
	req := f.rec.Req
	db, err := f.describeDB(ctx)
	if err != nil {
		return "", "", err
	}
	if err := f.checkTags(rdsTags(db.TagList)); err != nil {
		return "", "", err
	}
	if st := aws.ToString(db.DBInstanceStatus); st != "available" {
		return "", "", fmt.Errorf("DB instance %s is %s: a class change needs it available", req.ResourceID, st)
	}
	if cls := aws.ToString(db.DBInstanceClass); cls != req.FromSize {
		return "", "", fmt.Errorf("DB instance %s is %s, not from_size %s: the recommendation is stale", req.ResourceID, cls, req.FromSize)
	}
	if db.PendingModifiedValues != nil && db.PendingModifiedValues.DBInstanceClass != nil {
		return "", "", fmt.Errorf("DB instance %s already has a pending change to %s", req.ResourceID, aws.ToString(db.PendingModifiedValues.DBInstanceClass))
	}
	f.rec.OrigType, f.rec.OrigState = req.FromSize, "available"
	f.rec.MultiAZ = aws.ToBool(db.MultiAZ)
	az := "single-AZ"
	if f.rec.MultiAZ {
		az = "Multi-AZ"
	}
	return phaseModifyDB, fmt.Sprintf("DB instance %s: %s, available, %s", req.ResourceID, req.FromSize, az), nil
}

// modifyDB asks for class to, applied now; nothing to do when the
// instance already has it or is changing to it.
func (f *flow) modifyDB(ctx context.Context, to string) (result, error) {
	id := f.rec.Req.ResourceID
	db, err := f.describeDB(ctx)
	if err != nil {
		return result{}, err
	}
	if err := checkNotDeleting(db); err != nil {
		return result{}, err
	}
	if aws.ToString(db.DBInstanceClass) == to {
		return result{skipped: true, detail: "already " + to}, nil
	}
	if p := db.PendingModifiedValues; p != nil && aws.ToString(p.DBInstanceClass) == to {
		return result{skipped: true, detail: "change to " + to + " already under way"}, nil
	}
	if st := aws.ToString(db.DBInstanceStatus); st != "available" {
		return result{}, fmt.Errorf("DB instance %s is %s: the class can only change while available", id, st)
	}
	_, err = f.rds().ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{
		DBInstanceIdentifier: aws.String(id), DBInstanceClass: aws.String(to), ApplyImmediately: aws.Bool(true),
	})
	if err != nil {
		return result{}, fmt.Errorf("changing DB instance %s from %s to %s: %w", id, aws.ToString(db.DBInstanceClass), to, err)
	}
	return result{detail: fmt.Sprintf("%s -> %s, applied immediately", aws.ToString(db.DBInstanceClass), to)}, nil
}

// waitDB waits until the instance is available at class want.
func (f *flow) waitDB(ctx context.Context, want, next string) (result, error) {
	timeout := f.a.cfg.StepTimeout
	if f.rec.MultiAZ {
		timeout *= 2
	}
	deadline := f.a.cfg.Now().Add(timeout)
	for {
		db, err := f.describeDB(ctx)
		if err != nil {
			return result{}, err
		}
		if err := checkNotDeleting(db); err != nil {
			return result{}, err
		}
		st, cls := aws.ToString(db.DBInstanceStatus), aws.ToString(db.DBInstanceClass)
		switch {
		case st == "available" && cls == want:
			f.rec.RunningSince = f.a.cfg.Now().UTC()
			return result{next: next, detail: "available as " + cls}, nil
		case st == "available" && (db.PendingModifiedValues == nil || db.PendingModifiedValues.DBInstanceClass == nil):
			return result{}, fmt.Errorf("DB instance %s is available as %s with no change pending: AWS did not apply %s", f.rec.Req.ResourceID, cls, want)
		case st == "failed" || st == "incompatible-parameters" || st == "storage-full":
			return result{}, fmt.Errorf("DB instance %s is %s while changing to %s", f.rec.Req.ResourceID, st, want)
		}
		if !f.a.cfg.Now().Before(deadline) {
			return result{}, fmt.Errorf("DB instance %s still %s as %s after %v waiting for %s", f.rec.Req.ResourceID, st, cls, timeout, want)
		}
		if err := f.a.cfg.Sleep(ctx, f.a.cfg.PollInterval); err != nil {
			return result{}, err
		}
	}
}

// verifyDB: after VerifyWait at the new class the instance is available,
// still Multi-AZ if it was, its CPU is not pinned, and it still has
// connections if it had any in as long a window before the change.
func (f *flow) verifyDB(ctx context.Context) (result, error) {
	req := f.rec.Req
	// The instance is judged as it is at the end of the wait: one deleted
	// meanwhile is not a success.
	if err := f.waitVerify(ctx); err != nil {
		return result{}, err
	}
	db, err := f.describeDB(ctx)
	if err != nil {
		return result{}, err
	}
	if err := checkNotDeleting(db); err != nil {
		return result{}, err
	}
	if st := aws.ToString(db.DBInstanceStatus); st != "available" {
		return result{}, fmt.Errorf("DB instance %s is %s after the change", req.ResourceID, st)
	}
	if f.rec.MultiAZ && !aws.ToBool(db.MultiAZ) {
		return result{}, fmt.Errorf("DB instance %s is no longer Multi-AZ after the change", req.ResourceID)
	}
	if req.VerifyWait <= 0 {
		return result{skipped: true, detail: "available; verify wait is 0: CPU and connections not checked"}, nil
	}
	from, to, ok := f.verifyWindow()
	if !ok {
		return result{skipped: true, detail: "available; no complete 5-minute period since the change: CPU and connections not checked"}, nil
	}
	dim := map[string]string{"DBInstanceIdentifier": req.ResourceID}
	cpu, n, err := f.metricMean(ctx, "AWS/RDS", "CPUUtilization", dim, "Average", from, to)
	if err != nil {
		return result{}, err
	}
	if n > 0 && cpu >= PinnedCPUPercent {
		return result{}, fmt.Errorf("DB instance %s CPU pinned at %s: average %.1f%% over %d datapoints (limit %.0f%%)", req.ResourceID, req.ToSize, cpu, n, PinnedCPUPercent)
	}
	conn, cn, err := f.metricMean(ctx, "AWS/RDS", "DatabaseConnections", dim, "Maximum", from, to)
	if err != nil {
		return result{}, err
	}
	bFrom, bTo := f.beforeWindow(to.Sub(from))
	before, bn, err := f.metricMean(ctx, "AWS/RDS", "DatabaseConnections", dim, "Maximum", bFrom, bTo)
	if err != nil {
		return result{}, err
	}
	if bn > 0 && before > 0 && cn > 0 && conn == 0 {
		return result{}, fmt.Errorf("DB instance %s has had no connections since the change (%.1f at most before)", req.ResourceID, before)
	}
	return result{detail: fmt.Sprintf("available; CPU average %.1f%% over %d datapoints; connections %.1f (before %.1f)", cpu, n, conn, before)}, nil
}

func (f *flow) tagDB(ctx context.Context, tags map[string]string) error {
	db, err := f.describeDB(ctx)
	if err != nil {
		return err
	}
	var list []rdstypes.Tag
	for _, k := range sortedKeys(tags) {
		list = append(list, rdstypes.Tag{Key: aws.String(k), Value: aws.String(truncateTag(tags[k]))})
	}
	if _, err := f.rds().AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: db.DBInstanceArn, Tags: list}); err != nil {
		return fmt.Errorf("tagging DB instance %s: %w", f.rec.Req.ResourceID, err)
	}
	return nil
}

// waitVerify sleeps until VerifyWait after the change took effect (not
// at all when VerifyWait is 0).
func (f *flow) waitVerify(ctx context.Context) error {
	if f.rec.Req.VerifyWait <= 0 {
		return nil
	}
	if wait := f.rec.RunningSince.Add(f.rec.Req.VerifyWait).Sub(f.a.cfg.Now()); wait > 0 {
		return f.a.cfg.Sleep(ctx, wait)
	}
	return nil
}

// verifyWindow is the whole 5-minute periods since the change took
// effect: a period that began before it would mix in the old size.
func (f *flow) verifyWindow() (from, to time.Time, ok bool) {
	from = f.rec.RunningSince.Truncate(cpuPeriod)
	if from.Before(f.rec.RunningSince) {
		from = from.Add(cpuPeriod)
	}
	to = f.a.cfg.Now().Truncate(cpuPeriod)
	return from, to, to.After(from)
}

// beforeWindow is as long a span of whole 5-minute periods ending before
// the flow started: the old size's baseline. Ending it where the verify
// window begins would mix in the minutes after the change, which hides a
// regression behind itself.
func (f *flow) beforeWindow(span time.Duration) (from, to time.Time) {
	to = f.rec.Start.Truncate(cpuPeriod)
	return to.Add(-span), to
}
