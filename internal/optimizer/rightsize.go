package optimizer

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// Right-sizing rules, shared by EC2 instances and RDS classes.
//
// CPU: the load is current vCPU × observed % / 100, the required vCPU
// ceil(load × (1 + headroom/100)), at least 1.
//
// Memory: EC2 publishes no memory metric without the CloudWatch agent, so
// nothing says how much of it is used. The rule is the conservative
// reading of "it scales with the work": never less than current memory ×
// observed CPU fraction × (1 + headroom), and never less than half the
// current memory (minMemoryFraction): one action takes at most one
// memory step down, and the cool-down and a later decision can take the
// next one once this one has run without trouble. Applications whose
// memory does not follow CPU (caches, JVM heaps) should carry an exclude
// tag or an allowed_families list of memory-heavy families. RDS adds its
// own floors (rds.go).
//
// Candidates: the allowed families (empty: every family of the current
// family's class letter, m → m5, m6i, m7i...), the current architecture
// only, a generation no older than the current one, a network class no
// lower, enough vCPU and memory; of these the cheapest in the region,
// ties going to the current family, then to the newer generation. With
// downsize_only a candidate may cost no more and have no more vCPU than
// the current type. A burstable candidate must also carry the load with
// headroom within its baseline (burstable.go), else it would spend CPU
// credits all day.

// minMemoryFraction is the least share of its memory a right-sized
// instance keeps (see above).
const minMemoryFraction = 0.5

// candidate is one priceable type of a candidate list.
type candidate struct {
	spec pricing.InstanceSpec
	// name is what the resource's Size says: "m5.large" or "db.m5.large".
	name   string
	hourly float64
}

type candidateKey struct {
	region, engine, arch, families string
}

// candidateList returns the priced types of these families and this
// architecture in region, cheapest first. engine "" means EC2, otherwise
// the RDS engine the classes are priced for. Lists are built once per key.
func (o *Optimizer) candidateList(region, engine, arch string, families []string) []candidate {
	k := candidateKey{region: region, engine: engine, arch: arch, families: strings.Join(families, ",")}
	o.mu.RLock()
	l, ok := o.candidates[k]
	o.mu.RUnlock()
	if ok {
		return l
	}
	for _, t := range o.types {
		if t.Architecture != arch || !familyAllowed(families, t.Family) {
			continue
		}
		c := candidate{spec: t, name: t.Name}
		var err error
		if engine == "" {
			c.hourly, err = o.cat.EC2Hourly(region, t.Name)
		} else {
			c.name = "db." + t.Name
			c.hourly, err = o.cat.RDSHourly(region, c.name, engine)
		}
		if err == nil {
			l = append(l, c)
		}
	}
	slices.SortStableFunc(l, func(a, b candidate) int {
		if a.hourly != b.hourly {
			if a.hourly < b.hourly {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	o.mu.Lock()
	o.candidates[k] = l
	o.mu.Unlock()
	return l
}

// familyAllowed matches a family against a list of families; an entry
// ending in "*" matches by prefix ("m7*").
func familyAllowed(families []string, family string) bool {
	for _, f := range families {
		if f == family || (strings.HasSuffix(f, "*") && strings.HasPrefix(family, strings.TrimSuffix(f, "*"))) {
			return true
		}
	}
	return false
}

// familyClass is a family's class letters: "m" for m5 and m6g, "t" for t3a.
func familyClass(family string) string {
	i := strings.IndexFunc(family, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return family
	}
	return family[:i]
}

// families is the candidate family set: the policy's allowed families
// ("db." prefixes dropped, sorted for a stable cache key) or the current
// class's families in the catalogue.
func (o *Optimizer) families(allowed []string, current pricing.InstanceSpec) []string {
	if len(allowed) == 0 {
		return o.classFamilies[current.Architecture+"/"+familyClass(current.Family)]
	}
	out := make([]string, 0, len(allowed))
	for _, f := range allowed {
		out = append(out, strings.TrimPrefix(strings.TrimSpace(f), "db."))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// need is what a candidate must provide.
type need struct {
	// load is the observed busy vCPU (current vCPU × observed %), before
	// headroom.
	load     float64
	headroom float64
	vcpu     int
	memGiB   float64
	// downsizeOnly also bounds price and vCPU by the current type's.
	downsizeOnly bool
	curVCPU      int
	curHourly    float64
}

// requiredVCPU is ceil(load × headroom), at least 1. The product is
// rounded to 1e-9 first so that 4 × 25 % × 1.0 is 1 vCPU and not 2
// because of binary fractions.
func requiredVCPU(load, headroom float64) int {
	x := math.Round(load*headroom*1e9) / 1e9
	return max(1, int(math.Ceil(x)))
}

// fits says whether c satisfies n.
func (n need) fits(c candidate, cur pricing.InstanceSpec) bool {
	s := c.spec
	if s.Generation < cur.Generation {
		return false
	}
	if s.NetworkRank < cur.NetworkRank || s.VCPU < n.vcpu || s.MemoryGiB < n.memGiB {
		return false
	}
	if n.downsizeOnly && (c.hourly > n.curHourly || s.VCPU > n.curVCPU) {
		return false
	}
	if s.Burstable {
		base, ok := baselinePercent(s.Name)
		if !ok || n.load*n.headroom > float64(s.VCPU)*base/100 {
			return false
		}
	}
	return true
}

// pick returns the cheapest candidate fitting n, ties to cur's family and
// then to the newer generation.
func pick(cands []candidate, n need, cur pricing.InstanceSpec) (candidate, bool) {
	var best candidate
	found := false
	for _, c := range cands {
		if found && c.hourly > best.hourly {
			break
		}
		if !n.fits(c, cur) {
			continue
		}
		if !found || better(c, best, cur) {
			best, found = c, true
		}
	}
	return best, found
}

// better breaks a price tie between a and b.
func better(a, b candidate, cur pricing.InstanceSpec) bool {
	if (a.spec.Family == cur.Family) != (b.spec.Family == cur.Family) {
		return a.spec.Family == cur.Family
	}
	return a.spec.Generation > b.spec.Generation
}

// capacity is the vCPU a type can sustain: all of them, or for a
// burstable type its baseline share.
func capacity(s pricing.InstanceSpec) float64 {
	if s.Burstable {
		if base, ok := baselinePercent(s.Name); ok {
			return float64(s.VCPU) * base / 100
		}
	}
	return float64(s.VCPU)
}

// fitConfidence is coverage scaled by how much room the proposed type
// leaves: the load with headroom filling the whole capacity halves the
// confidence, filling half of it or less leaves it at coverage.
func fitConfidence(coverage, loadWithHeadroom, capacity float64) (float64, float64) {
	used := 1.0
	if capacity > 0 {
		used = loadWithHeadroom / capacity
	}
	slack := clamp01(1 - used)
	return clamp01(coverage) * (0.5 + 0.5*math.Min(1, slack/0.5)), used
}

func describe(s pricing.InstanceSpec, name string) string {
	return fmt.Sprintf("%s (%d vCPU, %g GiB)", name, s.VCPU, s.MemoryGiB)
}
