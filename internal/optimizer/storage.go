package optimizer

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/resourceattr"
)

// decideEBS recommends, in this order: snapshot and delete a volume
// unattached (state available) for at least the idle lookback since its
// creation; migrate a gp2 volume to gp3 at the same size.
func (o *Optimizer) decideEBS(p *sirsiv1.OptimizationPolicy, in Input, now time.Time) (*sirsiv1.Recommendation, skip) {
	r := in.Resource
	vt, gib, err := resourceattr.VolumeSize(r.GetSize())
	if err != nil || gib <= 0 {
		return nil, skipf("volume size %q is not type:GiB", r.GetSize())
	}
	a := r.GetAttributes()
	iops, _ := strconv.Atoi(a[resourceattr.IOPS])
	tput, _ := strconv.Atoi(a[resourceattr.Throughput])
	current, err := o.cat.EBSMonthly(r.GetRegion(), vt, gib, iops, tput)
	if err != nil {
		return nil, skipf("no price: %v", err)
	}
	days := policy.IdleLookbackDays(p)
	var deleteWhy skip
	switch {
	case r.GetState() != "available":
		deleteWhy = skipf("volume is %s", orDash(r.GetState()))
	case r.GetLaunchTime() == nil:
		deleteWhy = skipf("volume creation time unknown")
	default:
		age := now.Sub(r.GetLaunchTime().AsTime())
		if age < time.Duration(days)*24*time.Hour {
			deleteWhy = skipf("unattached volume is %.1f days old, younger than %d days", age.Hours()/24, days)
			break
		}
		snapGB, err := pricing.EBSSnapshotGBMonth(r.GetRegion())
		if err != nil {
			return nil, skipf("no snapshot price: %v", err)
		}
		// A snapshot stores only the blocks written; the full size is the
		// upper bound, so the saving is a lower bound.
		snap := snapGB * float64(gib)
		reason := fmt.Sprintf("Unattached (available) and created %.0f days ago, at least the %d-day idle lookback. Snapshot then delete: the volume's $%.2f a month becomes at most $%.2f of snapshot storage (%d GiB at $%.3f/GB-month; snapshots keep only written blocks, so usually less). Confidence 0.9: nothing has used the volume, but only its owner knows whether it is still wanted.",
			age.Hours()/24, days, money.RoundCents(current), money.RoundCents(snap), gib, snapGB)
		// No evidence: the control plane takes only utilisation metrics
		// there, and the age is in the reason.
		return newRec(p, r, ActionSnapshotAndDelete, r.GetSize(), "", current, snap, 0.9, reason), skip{}
	}
	if vt != "gp2" {
		return nil, skipf("%s; not gp2, nothing to migrate", deleteWhy)
	}
	gp2IOPS, gp2Tput := pricing.GP2Performance(gib)
	gp3IOPS, gp3Tput := pricing.GP3ForGP2(gib)
	proposed, err := o.cat.EBSMonthly(r.GetRegion(), "gp3", gib, gp3IOPS, gp3Tput)
	if err != nil {
		return nil, skipf("no gp3 price: %v", err)
	}
	var extra []string
	if gp3IOPS > pricing.GP3BaselineIOPS {
		extra = append(extra, fmt.Sprintf("%d IOPS", gp3IOPS))
	}
	if gp3Tput > pricing.GP3BaselineThroughputMiBps {
		extra = append(extra, fmt.Sprintf("%d MiB/s", gp3Tput))
	}
	perfNote := "gp3's included 3000 IOPS and 125 MiB/s cover it"
	if len(extra) > 0 {
		perfNote = "gp3 is provisioned with " + strings.Join(extra, " and ") + " to keep it, priced into the gp3 cost"
	}
	reason := fmt.Sprintf("gp2 to gp3 at the same %d GiB: $%.2f to $%.2f a month. The gp2 volume delivers up to %d IOPS and %d MiB/s; %s. The change is online (Elastic Volumes). Confidence 0.95: the price difference is certain and the volume is never slower.",
		gib, money.RoundCents(current), money.RoundCents(proposed), gp2IOPS, gp2Tput, perfNote)
	return newRec(p, r, ActionMigrateGP3, r.GetSize(), resourceattr.FormatVolumeSize("gp3", gib), current, proposed, 0.95, reason), skip{}
}

// decideEIP recommends releasing an unassociated Elastic IP, billed as an
// idle public IPv4 address.
func (o *Optimizer) decideEIP(p *sirsiv1.OptimizationPolicy, in Input) (*sirsiv1.Recommendation, skip) {
	r := in.Resource
	if r.GetState() != "unassociated" {
		return nil, skipf("address is %s", orDash(r.GetState()))
	}
	hourly, err := o.cat.EIPHourly(r.GetRegion())
	if err != nil {
		return nil, skipf("no price: %v", err)
	}
	monthly := pricing.MonthlyFromHourly(hourly)
	reason := fmt.Sprintf("Not associated with any instance or network interface: an idle public IPv4 address at $%.3f/h, $%.2f a month. Confidence 0.9: a released address cannot be got back, so check nothing (DNS, allow lists) refers to it.",
		hourly, money.RoundCents(monthly))
	return newRec(p, r, ActionRelease, r.GetSize(), "", monthly, 0, 0.9, reason), skip{}
}

// decideSnapshot suggests deleting a completed snapshot older than
// SnapshotMaxAgeDays. Its storage (the source volume's size at the
// snapshot rate) is an upper bound: snapshots share unchanged blocks, so
// deleting one may free less.
func (o *Optimizer) decideSnapshot(p *sirsiv1.OptimizationPolicy, in Input, now time.Time) (*sirsiv1.Recommendation, skip) {
	r := in.Resource
	if r.GetState() != "completed" {
		return nil, skipf("snapshot is %s", orDash(r.GetState()))
	}
	if r.GetLaunchTime() == nil {
		return nil, skipf("snapshot start time unknown")
	}
	age := now.Sub(r.GetLaunchTime().AsTime())
	if age < SnapshotMaxAgeDays*24*time.Hour {
		return nil, skipf("snapshot is %.0f days old, younger than %d days", age.Hours()/24, SnapshotMaxAgeDays)
	}
	gib, err := strconv.Atoi(r.GetAttributes()[resourceattr.SizeGiB])
	if err != nil || gib <= 0 {
		return nil, skipf("snapshot size %q unknown", r.GetAttributes()[resourceattr.SizeGiB])
	}
	gbMonth, err := pricing.EBSSnapshotGBMonth(r.GetRegion())
	if err != nil {
		return nil, skipf("no snapshot price: %v", err)
	}
	current := float64(gib) * gbMonth
	reason := fmt.Sprintf("Taken %.0f days ago, older than %d days. Deleting it saves up to $%.2f a month (%d GiB at $%.3f/GB-month; snapshots share unchanged blocks, so possibly less). Confidence 0.5: only its owner knows whether a retention rule keeps it. Advice only.",
		age.Hours()/24, SnapshotMaxAgeDays, money.RoundCents(current), gib, gbMonth)
	return newRec(p, r, ActionDeleteSnapshot, r.GetSize(), "", current, 0, 0.5, reason), skip{}
}
