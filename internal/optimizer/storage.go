package optimizer

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// gp3's included performance, and gp2's baseline of 3 IOPS per GiB.
const (
	gp3BaselineIOPS       = 3000
	gp3BaselineThroughput = 125
	gp2IOPSPerGiB         = 3
	// gp2's baseline is capped at 16,000 IOPS, gp3's provisioned IOPS too.
	gp2MaxIOPS = 16000
)

// decideEBS recommends, in this order: snapshot and delete a volume
// unattached (state available) for at least the idle lookback since its
// creation; migrate a gp2 volume to gp3 at the same size.
func (o *Optimizer) decideEBS(p *sirsiv1.OptimizationPolicy, in Input, now time.Time) (*sirsiv1.Recommendation, skip) {
	r := in.Resource
	vt, sizeText, ok := strings.Cut(r.GetSize(), ":")
	gib, err := strconv.Atoi(sizeText)
	if !ok || err != nil || gib <= 0 {
		return nil, skipf("volume size %q is not type:GiB", r.GetSize())
	}
	a := r.GetAttributes()
	iops, _ := strconv.Atoi(a["iops"])
	tput, _ := strconv.Atoi(a["throughput"])
	current, err := o.cat.EBSMonthly(r.GetRegion(), vt, gib, iops, tput)
	if err != nil {
		return nil, skipf("no price: %v", err)
	}
	days := idleLookbackDays(p)
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
			age.Hours()/24, days, Cents(current), Cents(snap), gib, snapGB)
		// No evidence: the control plane takes only utilisation metrics
		// there, and the age is in the reason.
		return newRec(p, r, ActionSnapshotAndDelete, r.GetSize(), "", current, snap, 0.9, reason), skip{}
	}
	if vt != "gp2" {
		return nil, skipf("%s; not gp2, nothing to migrate", deleteWhy)
	}
	gp3IOPS := min(max(gp2IOPSPerGiB*gib, gp3BaselineIOPS), gp2MaxIOPS)
	proposed, err := o.cat.EBSMonthly(r.GetRegion(), "gp3", gib, gp3IOPS, gp3BaselineThroughput)
	if err != nil {
		return nil, skipf("no gp3 price: %v", err)
	}
	iopsNote := fmt.Sprintf("gp3's included %d IOPS cover gp2's %d baseline", gp3BaselineIOPS, min(gp2IOPSPerGiB*gib, gp2MaxIOPS))
	if gp3IOPS > gp3BaselineIOPS {
		iopsNote = fmt.Sprintf("gp2's baseline of %d IOPS is kept by provisioning it on gp3, and priced", gp3IOPS)
	}
	reason := fmt.Sprintf("gp2 to gp3 at the same %d GiB: $%.2f to $%.2f a month; %s, throughput %d MiB/s. The change is online (Elastic Volumes). Confidence 0.95: the price difference is certain, gp3 matches gp2's baseline performance.",
		gib, Cents(current), Cents(proposed), iopsNote, gp3BaselineThroughput)
	return newRec(p, r, ActionMigrateGP3, r.GetSize(), "gp3:"+sizeText, current, proposed, 0.95, reason), skip{}
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
		hourly, Cents(monthly))
	return newRec(p, r, ActionRelease, r.GetSize(), "", monthly, 0, 0.9, reason), skip{}
}
