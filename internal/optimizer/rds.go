package optimizer

import (
	"fmt"
	"strings"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// Default max_connections is derived from the class memory
// (DBInstanceClassMemory, bytes): MySQL {DBInstanceClassMemory/12582880},
// PostgreSQL LEAST({DBInstanceClassMemory/9531392}, 5000). A smaller
// class would refuse connections the database had at its peak, so the
// memory floor is peak connections × headroom × these bytes. Source:
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections
var bytesPerConnection = map[string]float64{
	pricing.EngineMySQL:      12582880,
	pricing.EnginePostgreSQL: 9531392,
}

// decideRDS right-sizes a DB instance class like an EC2 type (same
// engine, same architecture), with two more memory floors: the peak
// connections' default max_connections and the memory in use at the
// lowest freeable memory, both with headroom. Multi-AZ instances cost
// twice the single-AZ price.
func (o *Optimizer) decideRDS(p *sirsiv1.OptimizationPolicy, in Input) (*sirsiv1.Recommendation, skip) {
	r := in.Resource
	if r.GetState() != "available" {
		return nil, skipf("DB instance is %s, not available", orDash(r.GetState()))
	}
	if p.GetRightsizing() == nil {
		return nil, skipf("the policy has no rightsizing settings")
	}
	engine, err := pricing.NormaliseEngine(r.GetAttributes()["engine"])
	if err != nil {
		return nil, skipf("engine %q is not priced by the catalogue: %v", r.GetAttributes()["engine"], err)
	}
	spec, ok := o.cat.InstanceType(r.GetSize())
	if !ok {
		return nil, skipf("DB instance class %q is not in the catalogue", r.GetSize())
	}
	// Candidates are EC2 specs; compare like with like.
	spec.Name, spec.Family = strings.TrimPrefix(spec.Name, "db."), strings.TrimPrefix(spec.Family, "db.")
	hourly, err := o.cat.RDSHourly(r.GetRegion(), r.GetSize(), engine)
	if err != nil {
		return nil, skipf("no price: %v", err)
	}
	days := policy.LookbackDays(p)
	conn, why := usable(in, metricConnMax, days, MinCoverage)
	if why.isSet() {
		return nil, why
	}
	h := headroom(p)
	const gib = 1 << 30
	floors := []float64{conn.Value * h * bytesPerConnection[engine] / gib}
	ev := []*sirsiv1.Evidence{evidence(metricConnMax, conn)}
	usedNote := "no freeable memory data"
	if free, why := usable(in, metricFreeMin, days, MinCoverage); !why.isSet() {
		used := max(0, spec.MemoryGiB-free.Value/gib)
		floors = append(floors, used*h)
		ev = append(ev, evidence(metricFreeMin, free))
		usedNote = fmt.Sprintf("%.2f GiB in use at the lowest freeable memory", used)
	}
	factor, azNote := 1.0, "single-AZ"
	if r.GetAttributes()["multi_az"] == "true" {
		factor, azNote = 2, "Multi-AZ, priced at twice the single-AZ rate"
	}
	return o.rightsize(p, in, spec, hourly, engine, func(c candidate, cur, prop, conf float64, reason string, cpuEv []*sirsiv1.Evidence) *sirsiv1.Recommendation {
		reason = fmt.Sprintf("%s Memory floor: %.0f peak connections need %.2f GiB for %s's default max_connections; %s. %s, %s.",
			reason, conn.Value, floors[0], engine, usedNote, engine, azNote)
		return newRec(p, r, ActionResize, r.GetSize(), c.name, cur, prop, conf, reason, append(cpuEv, ev...)...)
	}, factor, floors...)
}
