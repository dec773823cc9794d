package optimizer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// randomFleet makes n resources with utilisation: EC2 instances of every
// catalogue type (70 %), EBS volumes, Elastic IPs, RDS instances and
// Lambda functions, some carrying exclude tags.
func randomFleet(o *Optimizer, rng *rand.Rand, n int) []Input {
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"}
	full := func(v float64) Observation {
		return Observation{Value: v, Coverage: 0.85 + 0.15*rng.Float64(), Window: 14 * day}
	}
	out := make([]Input, 0, n)
	for i := range n {
		r := &sirsiv1.Resource{ResourceId: fmt.Sprintf("r-%07d", i), Region: regions[rng.IntN(len(regions))], AccountId: "111122223333",
			LaunchTime: timestamppb.New(now.Add(-time.Duration(rng.IntN(90)) * day)), Tags: map[string]string{}, Attributes: map[string]string{}}
		switch rng.IntN(20) {
		case 0:
			r.Tags["keep"] = "yes"
		case 1:
			r.Tags["sirsi:optimize"] = "false"
		case 2:
			r.Tags["team"] = "db"
		}
		m := map[Metric]Observation{}
		switch k := rng.IntN(100); {
		case k < 70:
			t := o.types[rng.IntN(len(o.types))]
			r.Type, r.Size, r.State = "aws_ec2_instance", t.Name, "running"
			r.Attributes["architecture"] = t.Architecture
			p95 := 100 * math.Pow(rng.Float64(), 2)
			m[Metric{"cpu_utilization", "p95"}] = full(p95)
			m[Metric{"cpu_utilization", "p99"}] = full(math.Min(100, p95*1.2))
			m[Metric{"cpu_utilization", "Maximum"}] = full(math.Min(100, p95*(1+2*rng.Float64())))
			m[Metric{"network_in_bytes", "Sum"}] = full(rng.Float64() * 1e9)
			m[Metric{"network_out_bytes", "Sum"}] = full(rng.Float64() * 1e9)
		case k < 80:
			r.Type, r.Size = "aws_ebs_volume", fmt.Sprintf("%s:%d", []string{"gp2", "gp3", "io1", "st1"}[rng.IntN(4)], 1+rng.IntN(4000))
			r.State = []string{"available", "in-use"}[rng.IntN(2)]
		case k < 85:
			r.Type, r.State = "aws_eip", []string{"associated", "unassociated"}[rng.IntN(2)]
		case k < 95:
			t := o.types[rng.IntN(len(o.types))]
			r.Type, r.Size, r.State = "aws_rds_instance", "db."+t.Name, "available"
			r.Attributes["engine"] = []string{"mysql", "postgres"}[rng.IntN(2)]
			r.Attributes["multi_az"] = fmt.Sprint(rng.IntN(2) == 0)
			m[Metric{"cpu_utilization", "p95"}] = full(100 * rng.Float64())
			m[Metric{"database_connections", "Maximum"}] = full(float64(rng.IntN(500)))
			if spec, ok := o.cat.InstanceType(r.Size); ok {
				m[Metric{"freeable_memory_bytes", "Minimum"}] = full(spec.MemoryGiB * (1 << 30) * rng.Float64())
			}
		default:
			r.Type, r.Size = "aws_lambda_function", fmt.Sprint(128*(1+rng.IntN(40)))
			r.Attributes["architecture"] = []string{"x86_64", "arm64"}[rng.IntN(2)]
			m[Metric{"memory_utilization", "Maximum"}] = full(100 * rng.Float64())
			m[Metric{"duration_ms", "Average"}] = full(1 + 2000*rng.Float64())
			m[Metric{"invocations", "Sum"}] = full(float64(rng.IntN(10_000_000)))
		}
		out = append(out, Input{Resource: r, Metrics: m})
	}
	return out
}

func randomPolicy(rng *rand.Rand) *sirsiv1.OptimizationPolicy {
	p := testPolicy(func(p *sirsiv1.OptimizationPolicy) {
		p.Rightsizing.Statistic = []sirsiv1.Statistic{sirsiv1.Statistic_STATISTIC_P95, sirsiv1.Statistic_STATISTIC_P99, sirsiv1.Statistic_STATISTIC_MAX}[rng.IntN(3)]
		p.Rightsizing.HeadroomPercent = int32(rng.IntN(60))
		p.Rightsizing.DownsizeOnly = rng.IntN(2) == 0
		p.Selector = &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"keep": "*", "team": "db"}}
	})
	if rng.IntN(3) == 0 {
		p.Rightsizing.AllowedFamilies = [][]string{{"m5", "m6i", "c5"}, {"t3", "t3a", "m5"}, {"m6g", "m7g", "t4g"}, {"r*", "m7i"}}[rng.IntN(4)]
	}
	return p
}

// TestDecideProperties checks, over 10,000 random resources and policies:
// a proposed type never has fewer vCPU than required (nor less sustained
// CPU than the observed load with headroom, nor less memory than the
// floor), never another architecture, never costs more or has more vCPU
// in downsize-only mode; excluded resources' recommendations, and only
// theirs, carry skip_reason EXCLUDED.
func TestDecideProperties(t *testing.T) {
	o := newOptimizer(t)
	rng := rand.New(rand.NewPCG(1, 2))
	in := randomFleet(o, rng, 10_000)
	resized := 0
	for _, x := range in {
		p := randomPolicy(rng)
		rec, _ := o.Explain(p, x, now)
		if rec == nil {
			continue
		}
		r := x.Resource
		if _, excluded := Selects(p, r); excluded != (rec.SkipReason == sirsiv1.SkipReason_SKIP_REASON_EXCLUDED) {
			t.Fatalf("%s: excluded %v (tags %v) but %s has skip_reason %v", r.ResourceId, excluded, r.Tags, rec.Action, rec.SkipReason)
		}
		if money.FloatOr(rec.EstimatedMonthlySavings, math.NaN()) <= 0 || rec.Confidence < 0 || rec.Confidence > 1 {
			t.Fatalf("%s: saving %s confidence %.2f", r.ResourceId, money.Format(rec.EstimatedMonthlySavings), rec.Confidence)
		}
		if rec.Action != ActionResize {
			continue
		}
		resized++
		cur, _ := o.cat.InstanceType(r.Size)
		prop, ok := o.cat.InstanceType(rec.ProposedSize)
		if !ok {
			t.Fatalf("%s: proposed %q is not in the catalogue", r.ResourceId, rec.ProposedSize)
		}
		observed := x.Metrics[Metric{"cpu_utilization", statistic(p)}].Value
		h := 1 + float64(p.Rightsizing.HeadroomPercent)/100
		load := float64(cur.VCPU) * observed / 100 * h
		if prop.VCPU < int(math.Ceil(load-1e-9)) || capacity(prop) < load-1e-9 {
			t.Fatalf("%s: %s (%d vCPU, sustains %.2f) for %.1f%% of %s with %.0f%% headroom = %.2f vCPU",
				r.ResourceId, rec.ProposedSize, prop.VCPU, capacity(prop), observed, r.Size, h*100-100, load)
		}
		if prop.MemoryGiB < max(cur.MemoryGiB*observed/100*h, cur.MemoryGiB*minMemoryFraction)-1e-9 {
			t.Fatalf("%s: %s has %.1f GiB, below the floor for %s at %.1f%%", r.ResourceId, rec.ProposedSize, prop.MemoryGiB, r.Size, observed)
		}
		if prop.Architecture != cur.Architecture {
			t.Fatalf("%s: %s (%s) to %s (%s)", r.ResourceId, r.Size, cur.Architecture, rec.ProposedSize, prop.Architecture)
		}
		if p.Rightsizing.DownsizeOnly && (rec.ProposedMonthlyCost.GetMicros() > rec.CurrentMonthlyCost.GetMicros() || prop.VCPU > cur.VCPU) {
			t.Fatalf("%s: downsize_only but %s (%s, %d vCPU) to %s (%s, %d vCPU)", r.ResourceId,
				r.Size, money.Format(rec.CurrentMonthlyCost), cur.VCPU, rec.ProposedSize, money.Format(rec.ProposedMonthlyCost), prop.VCPU)
		}
	}
	// What the control plane accepts from the agent (agent_validate.go).
	for _, rec := range o.Decide(randomPolicy(rng), in, now) {
		if len(rec.Reason) > 1024 || validation.ResourceType(rec.ResourceType) != nil || validation.ID(rec.ResourceId) != nil {
			t.Fatalf("%s %s: type %q, reason of %d characters", rec.ResourceId, rec.Action, rec.ResourceType, len(rec.Reason))
		}
	}
	// The properties mean little if nothing was resized.
	if resized < 500 {
		t.Fatalf("only %d of 10,000 random resources were resized", resized)
	}
}

// BenchmarkDecide100k decides for 100,000 mixed resources under one
// policy. Run with GOMAXPROCS=1: the goal is ≤ 1 s on one core.
func BenchmarkDecide100k(b *testing.B) {
	o := newOptimizer(b)
	rng := rand.New(rand.NewPCG(3, 4))
	in := randomFleet(o, rng, 100_000)
	p := testPolicy(func(p *sirsiv1.OptimizationPolicy) {
		p.Idle = &sirsiv1.IdleSettings{CpuBelowPercent: 3, NetworkBelowBytesPerDay: 5e6, LookbackDays: 7}
		p.Selector = &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"keep": "*"}}
	})
	var recs int
	b.ResetTimer()
	start := time.Now()
	cpu0, cpuOK := processCPU()
	for range b.N {
		recs = len(o.Decide(p, in, now))
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/100k")
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-s/100k")
	}
	b.ReportMetric(float64(recs), "recommendations")
}

// TestDecisionInParts: deciding a fleet in parts (as the agent does,
// chunk by chunk) gives exactly what one Decide over the whole fleet gives,
// Savings Plans suggestions included.
func TestDecisionInParts(t *testing.T) {
	o := newOptimizer(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		fleet := randomFleet(o, rng, 500)
		p := randomPolicy(rng)
		want := o.Decide(p, fleet, now)
		d := o.Start(p, now)
		for lo := 0; lo < len(fleet); {
			hi := min(len(fleet), lo+1+rng.IntN(120))
			d.Add(fleet[lo:hi])
			lo = hi
		}
		got := d.Finish()
		if len(got) != len(want) {
			t.Fatalf("in parts: %d recommendations, whole: %d", len(got), len(want))
		}
		for i := range want {
			if !proto.Equal(got[i], want[i]) {
				t.Fatalf("recommendation %d differs:\nparts %v\nwhole %v", i, got[i], want[i])
			}
		}
	}
}
