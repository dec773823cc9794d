package optimizer

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func newOptimizer(t testing.TB) *Optimizer {
	t.Helper()
	cat, err := pricing.Embedded()
	if err != nil {
		t.Fatalf("loading catalogue: %v", err)
	}
	return New(cat)
}

// testPolicy is a right-sizing policy: p95, 14 days, 20 % headroom.
func testPolicy(mod ...func(*sirsiv1.OptimizationPolicy)) *sirsiv1.OptimizationPolicy {
	p := &sirsiv1.OptimizationPolicy{
		Id: "pol-1",
		Rightsizing: &sirsiv1.RightsizingSettings{
			Statistic: sirsiv1.Statistic_STATISTIC_P95, LookbackDays: 14, HeadroomPercent: 20,
		},
	}
	for _, m := range mod {
		m(p)
	}
	return p
}

func ec2(id, size string) *sirsiv1.Resource {
	return &sirsiv1.Resource{
		ResourceId: id, Region: "us-east-1", AccountId: "111122223333", Type: "aws_ec2_instance", Size: size, State: "running",
		Attributes: map[string]string{"architecture": "x86_64", "platform": "Linux/UNIX", "lifecycle": "on-demand", "tenancy": "default"},
		LaunchTime: timestamppb.New(now.Add(-60 * day)),
	}
}

// obs is a full-coverage 14-day observation.
func obs(v float64) Observation { return Observation{Value: v, Coverage: 1, Window: 14 * day} }

func cpu(stat string, v float64) map[Metric]Observation {
	return map[Metric]Observation{{"cpu_utilization", stat}: obs(v)}
}

func TestDecideEC2(t *testing.T) {
	o := newOptimizer(t)
	type want struct {
		action, to        string
		current, proposed float64
		saving            float64
		confidence        float64
		skipped           string
		// skipReason and skipDetail: a recommendation the agent will not
		// carry out, its skip_reason and a part of its skip_detail.
		skipReason sirsiv1.SkipReason
		skipDetail string
	}
	cases := []struct {
		name string
		p    *sirsiv1.OptimizationPolicy
		in   Input
		want want
	}{
		{
			// m5.xlarge $0.192/h = $140.16/month, 4 vCPU 16 GiB. p95 20 %:
			// load 0.8 vCPU × 1.2 = 0.96 → 1 vCPU; memory ≥ 16 × 0.2 × 1.2
			// = 3.84 GiB. m5.large and m6i.large both $0.096/h ($70.08);
			// the tie goes to the current family. Load with headroom uses
			// 0.96/2 = 48 % of m5.large, so confidence = coverage = 1.
			name: "over-provisioned m5.xlarge to m5.large",
			p:    testPolicy(),
			in:   Input{ec2("i-1", "m5.xlarge"), cpu("p95", 20)},
			want: want{action: "resize", to: "m5.large", current: 140.16, proposed: 70.08, saving: 70.08, confidence: 1},
		},
		{
			// As above with coverage 0.95 and p95 30 %: 1.2 × 1.2 = 1.44 →
			// 2 vCPU, memory 5.76 GiB → m5.large; 72 % of its 2 vCPU used,
			// slack 0.28: 0.95 × (0.5 + 0.5 × 0.56) = 0.741 → 0.74.
			name: "confidence from coverage and fit",
			p:    testPolicy(),
			in:   Input{ec2("i-1", "m5.xlarge"), map[Metric]Observation{{"cpu_utilization", "p95"}: {Value: 30, Coverage: 0.95, Window: 14 * day}}},
			want: want{action: "resize", to: "m5.large", current: 140.16, proposed: 70.08, saving: 70.08, confidence: 0.74},
		},
		{
			// Graviton stays arm64: m6g.xlarge $0.154/h = $112.42 → m6g.large
			// $0.077/h = $56.21 (m7g.large is $0.0816/h).
			name: "Graviton m6g stays arm64",
			p:    testPolicy(),
			in: Input{func() *sirsiv1.Resource {
				r := ec2("i-g", "m6g.xlarge")
				r.Attributes["architecture"] = "arm64"
				return r
			}(), cpu("p95", 20)},
			want: want{action: "resize", to: "m6g.large", current: 112.42, proposed: 56.21, saving: 56.21, confidence: 1},
		},
		{
			// t3.xlarge $0.1664/h = $121.47, 4 vCPU 16 GiB. p95 10 %: load
			// 0.4 × 1.2 = 0.48 vCPU, memory ≥ 1.92 GiB. t3(a).small and
			// .medium sustain 2 × 20 % = 0.4 vCPU < 0.48: refused. t3a.large
			// sustains 2 × 30 % = 0.6: $0.0752/h = $54.90. 0.48/0.6 = 80 %
			// used, slack 0.2: 0.5 + 0.5 × 0.4 = 0.7.
			name: "burstable t3 respects the baseline",
			p:    testPolicy(),
			in:   Input{ec2("i-t", "t3.xlarge"), cpu("p95", 10)},
			want: want{action: "resize", to: "t3a.large", current: 121.47, proposed: 54.9, saving: 66.57, confidence: 0.7},
		},
		{
			// t3.medium $0.0416/h = $30.37, 2 vCPU 4 GiB, p95 2 %: load
			// 0.04 × 1.2 = 0.048 vCPU, so CPU alone would allow t3a.nano
			// (0.5 GiB); memory keeps at least half of 4 GiB, so the
			// cheapest fit is t3a.small (2 GiB, baseline 2 × 20 % = 0.4
			// vCPU): $0.0188/h = $13.72, saving 30.37 − 13.72 = $16.65. 0.048/0.4 = 12 %
			// used: confidence 1.
			name: "memory steps down at most by half",
			p:    testPolicy(),
			in:   Input{ec2("i-m", "t3.medium"), cpu("p95", 2)},
			want: want{action: "resize", to: "t3a.small", current: 30.37, proposed: 13.72, saving: 16.65, confidence: 1},
		},
		{
			// Spiky: p95 10 % but Maximum 90 %; sizing on MAX needs 3.6 ×
			// 1.2 = 4.32 → 5 vCPU, m5.2xlarge, which costs more.
			name: "spiky with MAX statistic",
			p: testPolicy(func(p *sirsiv1.OptimizationPolicy) {
				p.Rightsizing.Statistic = sirsiv1.Statistic_STATISTIC_MAX
			}),
			in:   Input{ec2("i-s", "m5.xlarge"), map[Metric]Observation{{"cpu_utilization", "p95"}: obs(10), {"cpu_utilization", "Maximum"}: obs(90)}},
			want: want{skipped: "would not save money"},
		},
		{
			// m5.large at p95 40 %: 0.8 × 1.2 = 0.96 → 1 vCPU, 3.84 GiB:
			// m5.large itself is the cheapest fitting type.
			name: "no cheaper type",
			p:    testPolicy(),
			in:   Input{ec2("i-n", "m5.large"), cpu("p95", 40)},
			want: want{skipped: "already the cheapest"},
		},
		{
			// m5.large at p95 90 %: 1.8 × 1.2 = 2.16 → 3 vCPU: only larger,
			// costlier types fit, which downsize_only refuses.
			name: "downsize only refuses a bigger type",
			p: testPolicy(func(p *sirsiv1.OptimizationPolicy) {
				p.Rightsizing.DownsizeOnly = true
			}),
			in:   Input{ec2("i-d", "m5.large"), cpu("p95", 90)},
			want: want{skipped: "downsize_only"},
		},
		{
			// The $70.08 saving of the first case is below $100.
			name: "saving below minimum",
			p: testPolicy(func(p *sirsiv1.OptimizationPolicy) {
				p.Rightsizing.MinMonthlySavings = money.USDFromFloat(100)
			}),
			in:   Input{ec2("i-1", "m5.xlarge"), cpu("p95", 20)},
			want: want{skipped: "below the policy's minimum of $100.00"},
		},
		{
			name: "no data",
			p:    testPolicy(),
			in:   Input{ec2("i-1", "m5.xlarge"), nil},
			want: want{skipped: "no cpu_utilization p95 data"},
		},
		{
			name: "partial coverage",
			p:    testPolicy(),
			in:   Input{ec2("i-1", "m5.xlarge"), map[Metric]Observation{{"cpu_utilization", "p95"}: {Value: 20, Coverage: 0.85, Window: 14 * day}}},
			want: want{skipped: "85% of the window, below the 90%"},
		},
		{
			name: "window shorter than lookback",
			p:    testPolicy(),
			in:   Input{ec2("i-1", "m5.xlarge"), map[Metric]Observation{{"cpu_utilization", "p95"}: {Value: 20, Coverage: 1, Window: 7 * day}}},
			want: want{skipped: "7.0-day window, shorter than the 14-day lookback"},
		},
		{
			// Idle: Maximum 2 % < 5 % and (1e6 + 1e6) / 14 = 142,857
			// bytes/day < 1e6: stop, saving all of m5.xlarge's $140.16.
			name: "idle instance is stopped, before right-sizing",
			p: testPolicy(func(p *sirsiv1.OptimizationPolicy) {
				p.Idle = &sirsiv1.IdleSettings{CpuBelowPercent: 5, NetworkBelowBytesPerDay: 1e6, LookbackDays: 7}
			}),
			in: Input{ec2("i-idle", "m5.xlarge"), map[Metric]Observation{
				{"cpu_utilization", "p95"}: obs(1), {"cpu_utilization", "Maximum"}: obs(2),
				{"network_in_bytes", "Sum"}: obs(1e6), {"network_out_bytes", "Sum"}: obs(1e6),
			}},
			want: want{action: "stop", current: 140.16, proposed: 0, saving: 140.16, confidence: 1},
		},
		{
			// Same, but 20 MB a day of traffic: not idle, right-sized.
			name: "busy network is not idle",
			p: testPolicy(func(p *sirsiv1.OptimizationPolicy) {
				p.Idle = &sirsiv1.IdleSettings{CpuBelowPercent: 5, NetworkBelowBytesPerDay: 1e6, LookbackDays: 7}
			}),
			in: Input{ec2("i-net", "m5.xlarge"), map[Metric]Observation{
				{"cpu_utilization", "p95"}: obs(1), {"cpu_utilization", "Maximum"}: obs(2),
				{"network_in_bytes", "Sum"}: obs(140e6), {"network_out_bytes", "Sum"}: obs(140e6),
			}},
			want: want{action: "resize", to: "m5.large", current: 140.16, proposed: 70.08, saving: 70.08, confidence: 1},
		},
		{
			// Over-provisioned, so recommended a smaller type, but the
			// group would replace a stopped member: the recommendation says
			// the agent leaves it alone.
			name: "Auto Scaling group member",
			p:    testPolicy(),
			in: Input{func() *sirsiv1.Resource {
				r := ec2("i-asg", "m5.xlarge")
				r.Tags = map[string]string{"aws:autoscaling:groupName": "web"}
				return r
			}(), cpu("p95", 1)},
			want: want{skipReason: sirsiv1.SkipReason_SKIP_REASON_AUTO_SCALING_GROUP, skipDetail: "never stopped or resized by the agent: a member of Auto Scaling group web"},
		},
		{
			name: "instance-store root",
			p:    testPolicy(),
			in: Input{func() *sirsiv1.Resource {
				r := ec2("i-is", "m5.xlarge")
				r.Attributes = map[string]string{"root_device_type": "instance-store"}
				return r
			}(), cpu("p95", 1)},
			want: want{skipReason: sirsiv1.SkipReason_SKIP_REASON_INSTANCE_STORE_ROOT, skipDetail: "its root device is instance store"},
		},
		{
			// A person's exclusion outranks the group's guard.
			name: "excluded Auto Scaling group member",
			p: testPolicy(func(p *sirsiv1.OptimizationPolicy) {
				p.Selector = &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": "*"}}
			}),
			in: Input{func() *sirsiv1.Resource {
				r := ec2("i-ex", "m5.xlarge")
				r.Tags = map[string]string{"aws:autoscaling:groupName": "web", "team": "payments"}
				return r
			}(), cpu("p95", 1)},
			want: want{skipReason: sirsiv1.SkipReason_SKIP_REASON_EXCLUDED, skipDetail: "excluded: carries the policy's exclude tag team=payments"},
		},
		{
			name: "stopped instance",
			p:    testPolicy(),
			in: Input{func() *sirsiv1.Resource {
				r := ec2("i-x", "m5.xlarge")
				r.State = "stopped"
				return r
			}(), cpu("p95", 20)},
			want: want{skipped: "not running"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, skipped := o.Explain(c.p, c.in, now)
			if c.want.skipped != "" {
				if rec != nil {
					t.Fatalf("got %s to %q (%s), want skipped with %q", rec.Action, rec.ProposedSize, rec.Reason, c.want.skipped)
				}
				if !strings.Contains(skipped, c.want.skipped) {
					t.Fatalf("skipped %q, want it to say %q", skipped, c.want.skipped)
				}
				return
			}
			if rec == nil {
				t.Fatalf("skipped: %s", skipped)
			}
			if rec.SkipReason != c.want.skipReason || !strings.Contains(rec.SkipDetail, c.want.skipDetail) || (c.want.skipDetail == "") != (rec.SkipDetail == "") {
				t.Fatalf("%s to %s with skip_reason %v %q, want %v %q", rec.Action, rec.ProposedSize, rec.SkipReason, rec.SkipDetail, c.want.skipReason, c.want.skipDetail)
			}
			if c.want.skipReason != sirsiv1.SkipReason_SKIP_REASON_UNSPECIFIED {
				return
			}
			checkRec(t, rec, c.want.action, c.want.to, c.want.current, c.want.proposed, c.want.saving, c.want.confidence)
		})
	}
}

func checkRec(t *testing.T, rec *sirsiv1.Recommendation, action, to string, current, proposed, saving, confidence float64) {
	t.Helper()
	if rec.Action != action || rec.ProposedSize != to {
		t.Errorf("got %s to %q, want %s to %q", rec.Action, rec.ProposedSize, action, to)
	}
	if money.FloatOr(rec.CurrentMonthlyCost, math.NaN()) != current || money.FloatOr(rec.ProposedMonthlyCost, math.NaN()) != proposed || money.FloatOr(rec.EstimatedMonthlySavings, math.NaN()) != saving {
		t.Errorf("costs %s → %s saving %s, want %.2f → %.2f saving %.2f",
			money.Format(rec.CurrentMonthlyCost), money.Format(rec.ProposedMonthlyCost), money.Format(rec.EstimatedMonthlySavings), current, proposed, saving)
	}
	if rec.Confidence != confidence {
		t.Errorf("confidence %.2f, want %.2f (%s)", rec.Confidence, confidence, rec.Reason)
	}
	if rec.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN || rec.PolicyId != "pol-1" || rec.CloudAccountId != "" || rec.Reason == "" {
		t.Errorf("status %v policy %q account %q reason %q", rec.Status, rec.PolicyId, rec.CloudAccountId, rec.Reason)
	}
}

func TestDecideOtherTypes(t *testing.T) {
	o := newOptimizer(t)
	vol := func(id, size, state string, age time.Duration) *sirsiv1.Resource {
		return &sirsiv1.Resource{ResourceId: id, Region: "us-east-1", Type: "aws_ebs_volume", Size: size, State: state,
			LaunchTime: timestamppb.New(now.Add(-age)), Attributes: map[string]string{}}
	}
	cases := []struct {
		name                                  string
		in                                    Input
		action, to                            string
		current, proposed, saving, confidence float64
		skipped                               string
	}{
		{
			// gp2 100 GiB × $0.10 = $10.00; snapshot ≤ 100 × $0.05 = $5.00.
			name: "unattached old volume", in: Input{Resource: vol("vol-1", "gp2:100", "available", 30*day)},
			action: "snapshot_and_delete", current: 10, proposed: 5, saving: 5, confidence: 0.9,
		},
		{
			// Unattached for 3 days only (idle lookback 7): gp3 instead.
			// gp2 ≤ 170 GiB delivers 128 MiB/s and bursts to 3000 IOPS:
			// 100 × $0.08 + (128 − 125) MiB/s × $0.04 = $8.12.
			name: "young unattached gp2 volume", in: Input{Resource: vol("vol-2", "gp2:100", "available", 3*day)},
			action: "migrate_gp3", to: "gp3:100", current: 10, proposed: 8.12, saving: 1.88, confidence: 0.95,
		},
		{
			// gp2 2000 GiB: $200.00 with a 6000 IOPS baseline and 250 MiB/s.
			// gp3 keeps both: 2000 × $0.08 + (6000 − 3000) × $0.005 +
			// (250 − 125) × $0.04 = $180.00.
			name: "large gp2 keeps its IOPS and throughput on gp3", in: Input{Resource: vol("vol-3", "gp2:2000", "in-use", 300*day)},
			action: "migrate_gp3", to: "gp3:2000", current: 200, proposed: 180, saving: 20, confidence: 0.95,
		},
		{
			// gp2 200 GiB: $20.00 with 250 MiB/s. gp3 at 250 MiB/s:
			// 200 × $0.08 + 125 × $0.04 = $21.00, dearer: no recommendation.
			name: "gp2 over 170 GiB whose throughput makes gp3 dearer", in: Input{Resource: vol("vol-5", "gp2:200", "in-use", 300*day)},
			skipped: "would not save money",
		},
		{
			// 1 GiB: $0.10 on gp2, $0.08 + 3 × $0.04 = $0.20 on gp3.
			name: "tiny gp2 volume", in: Input{Resource: vol("vol-6", "gp2:1", "in-use", 300*day)},
			skipped: "would not save money",
		},
		{
			name: "attached gp3 volume", in: Input{Resource: vol("vol-4", "gp3:100", "in-use", 300*day)},
			skipped: "not gp2",
		},
		{
			// 100 GiB × $0.05 = $5.00 a month of snapshot storage at most.
			name: "year-old snapshot",
			in: Input{Resource: &sirsiv1.Resource{ResourceId: "snap-1", Region: "us-east-1", Type: "aws_ebs_snapshot", Size: "100", State: "completed",
				LaunchTime: timestamppb.New(now.Add(-400 * day)), Attributes: map[string]string{"size_gib": "100"}}},
			action: "delete_snapshot", current: 5, proposed: 0, saving: 5, confidence: 0.5,
		},
		{
			name: "recent snapshot",
			in: Input{Resource: &sirsiv1.Resource{ResourceId: "snap-2", Region: "us-east-1", Type: "aws_ebs_snapshot", Size: "100", State: "completed",
				LaunchTime: timestamppb.New(now.Add(-30 * day)), Attributes: map[string]string{"size_gib": "100"}}},
			skipped: "younger than 365 days",
		},
		{
			// $0.005/h × 730 = $3.65.
			name:   "unassociated EIP",
			in:     Input{Resource: &sirsiv1.Resource{ResourceId: "eipalloc-1", Region: "us-east-1", Type: "aws_eip", State: "unassociated"}},
			action: "release", current: 3.65, proposed: 0, saving: 3.65, confidence: 0.9,
		},
		{
			name:    "associated EIP",
			in:      Input{Resource: &sirsiv1.Resource{ResourceId: "eipalloc-2", Region: "us-east-1", Type: "aws_eip", State: "associated"}},
			skipped: "address is associated",
		},
		{
			// db.m5.xlarge PostgreSQL $0.356/h, Multi-AZ × 2: $519.76. CPU
			// p95 15 %: 0.6 × 1.2 = 0.72 → 1 vCPU. Memory floors: CPU rule
			// 16 × 0.15 × 1.2 = 2.88 GiB; 40 connections × 1.2 × 9531392 B
			// = 0.43 GiB; used 16 − 10 = 6 GiB × 1.2 = 7.2 GiB. db.m5.large
			// (8 GiB, $0.178/h, ties db.m6i.large): × 2 × 730 = $259.88.
			// 0.72 of 2 vCPU used: slack 0.64, confidence 1.
			name: "RDS Multi-AZ class right-size",
			in: Input{&sirsiv1.Resource{ResourceId: "db-1", Region: "us-east-1", Type: "aws_rds_instance", Size: "db.m5.xlarge", State: "available",
				Attributes: map[string]string{"engine": "postgres", "multi_az": "true"}},
				map[Metric]Observation{{"cpu_utilization", "p95"}: obs(15), {"database_connections", "Maximum"}: obs(40), {"freeable_memory_bytes", "Minimum"}: obs(10 << 30)}},
			action: "resize", to: "db.m5.large", current: 519.76, proposed: 259.88, saving: 259.88, confidence: 1,
		},
		{
			// As above but 4 GiB free at the lowest: 12 GiB used × 1.2 =
			// 14.4 GiB does not fit any smaller class.
			name: "RDS memory in use keeps the class",
			in: Input{&sirsiv1.Resource{ResourceId: "db-2", Region: "us-east-1", Type: "aws_rds_instance", Size: "db.m5.xlarge", State: "available",
				Attributes: map[string]string{"engine": "postgres", "multi_az": "false"}},
				map[Metric]Observation{{"cpu_utilization", "p95"}: obs(15), {"database_connections", "Maximum"}: obs(40), {"freeable_memory_bytes", "Minimum"}: obs(4 << 30)}},
			skipped: "already the cheapest",
		},
		{
			// 1024 MB, peak 25 % = 256 MB × 1.2 = 307.2 → 384 MB. 1e6
			// invocations of 200 ms in 14 days (336 h), scaled by 730/336:
			// now (200,000 GB-s × $0.0000166667 + 1e6 × $0.0000002) × 730/336
			// = $7.68; at 384 MB (75,000 GB-s) $3.15. Confidence 1 × 0.6.
			name: "Lambda memory",
			in: Input{&sirsiv1.Resource{ResourceId: "fn", Region: "us-east-1", Type: "aws_lambda_function", Size: "1024", Attributes: map[string]string{"architecture": "x86_64"}},
				map[Metric]Observation{{"memory_utilization", "Maximum"}: obs(25), {"duration_ms", "Average"}: obs(200), {"invocations", "Sum"}: obs(1e6)}},
			action: "set_memory", to: "384", current: 7.68, proposed: 3.15, saving: 4.53, confidence: 0.6,
		},
		{
			name: "Lambda without Insights data",
			in: Input{&sirsiv1.Resource{ResourceId: "fn2", Region: "us-east-1", Type: "aws_lambda_function", Size: "1024"},
				map[Metric]Observation{{"duration_ms", "Average"}: obs(200), {"invocations", "Sum"}: obs(1e6)}},
			skipped: "no memory_utilization Maximum data",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, skipped := o.Explain(testPolicy(), c.in, now)
			if c.skipped != "" {
				if rec != nil || !strings.Contains(skipped, c.skipped) {
					t.Fatalf("got %v, skipped %q; want skipped with %q", rec, skipped, c.skipped)
				}
				return
			}
			if rec == nil {
				t.Fatalf("skipped: %s", skipped)
			}
			checkRec(t, rec, c.action, c.to, c.current, c.proposed, c.saving, c.confidence)
		})
	}
}

func TestSelects(t *testing.T) {
	cases := []struct {
		name              string
		p                 *sirsiv1.OptimizationPolicy
		tags              map[string]string
		applies, excluded bool
	}{
		{"every type", &sirsiv1.OptimizationPolicy{}, nil, true, false},
		{"other type", &sirsiv1.OptimizationPolicy{ResourceTypes: []string{"aws_ebs_volume"}}, nil, false, false},
		{"region", &sirsiv1.OptimizationPolicy{Selector: &sirsiv1.PolicySelector{Regions: []string{"eu-west-1"}}}, nil, false, false},
		{"account", &sirsiv1.OptimizationPolicy{Selector: &sirsiv1.PolicySelector{AccountIds: []string{"111122223333"}}}, nil, true, false},
		{"tag match", &sirsiv1.OptimizationPolicy{Selector: &sirsiv1.PolicySelector{Tags: map[string]string{"env": "prod"}}}, nil, true, false},
		{"tag mismatch", &sirsiv1.OptimizationPolicy{Selector: &sirsiv1.PolicySelector{Tags: map[string]string{"env": "dev"}}}, nil, false, false},
		{"exclude any value", &sirsiv1.OptimizationPolicy{Selector: &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": "*"}}}, nil, true, true},
		{"exclude exact", &sirsiv1.OptimizationPolicy{Selector: &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": "web"}}}, nil, true, true},
		{"exclude other value", &sirsiv1.OptimizationPolicy{Selector: &sirsiv1.PolicySelector{ExcludeTags: map[string]string{"team": "db"}}}, nil, true, false},
		{"sirsi:optimize=false", &sirsiv1.OptimizationPolicy{}, map[string]string{"sirsi:optimize": "false"}, true, true},
		{"sirsi:optimize=true", &sirsiv1.OptimizationPolicy{}, map[string]string{"sirsi:optimize": "true"}, true, false},
	}
	o := newOptimizer(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := ec2("i-1", "m5.xlarge")
			x.Tags = map[string]string{"env": "prod", "team": "web"}
			for k, v := range c.tags {
				x.Tags[k] = v
			}
			applies, excluded := Selects(c.p, x)
			if applies != c.applies || excluded != c.excluded {
				t.Fatalf("Selects = %v, %v; want %v, %v", applies, excluded, c.applies, c.excluded)
			}
			p := testPolicy()
			p.ResourceTypes, p.Selector = c.p.ResourceTypes, c.p.Selector
			// An excluded resource is recommended all the same, marked.
			recs := o.Decide(p, []Input{{x, cpu("p95", 20)}}, now)
			if (len(recs) > 0) != c.applies {
				t.Fatalf("Decide returned %d recommendations, want any: %v", len(recs), c.applies)
			}
			for _, r := range recs {
				if excl := r.GetSkipReason() == sirsiv1.SkipReason_SKIP_REASON_EXCLUDED; excl != c.excluded {
					t.Fatalf("skip_reason %v, want excluded: %v", r.GetSkipReason(), c.excluded)
				}
			}
		})
	}
}

func TestInputs(t *testing.T) {
	a, b := ec2("i-a", "m5.large"), ec2("i-b", "m5.large")
	b.Region = "eu-west-1"
	sum := func(id, region, stat string, v float64, end time.Time) *sirsiv1.UtilizationSummary {
		return &sirsiv1.UtilizationSummary{ResourceId: id, Region: region, Metric: "cpu_utilization", Statistic: stat, Value: v,
			WindowStart: timestamppb.New(end.Add(-14 * day)), WindowEnd: timestamppb.New(end), Coverage: 0.97}
	}
	in := Inputs([]*sirsiv1.Resource{a, b}, []*sirsiv1.UtilizationSummary{
		sum("i-a", "us-east-1", "p95", 30, now),
		sum("i-a", "us-east-1", "p95", 10, now.Add(-day)), // older: ignored
		sum("i-b", "us-east-1", "p95", 99, now),           // other region
		sum("i-b", "eu-west-1", "Maximum", 50, now),
	})
	if len(in) != 2 || in[0].Resource != a || in[1].Resource != b {
		t.Fatalf("inputs not in resource order: %+v", in)
	}
	if got := in[0].Metrics[Metric{"cpu_utilization", "p95"}]; got != (Observation{Value: 30, Coverage: 0.97, Window: 14 * day}) {
		t.Errorf("i-a p95 = %+v", got)
	}
	if len(in[1].Metrics) != 1 || in[1].Metrics[Metric{"cpu_utilization", "Maximum"}].Value != 50 {
		t.Errorf("i-b metrics = %+v", in[1].Metrics)
	}
}

func TestDecideOrderAndCommitment(t *testing.T) {
	o := newOptimizer(t)
	p := testPolicy()
	// Two m5.xlarge right-sized to m5.large and one m5.large that stays:
	// the baseline after the resizes is 3 × $0.096/h = $0.288/h, steady
	// for 14 days. A 27 % discount saves 0.288 × 0.27 × 730 = $56.76 a
	// month on a $0.21024/h commitment.
	in := []Input{
		{ec2("i-c", "m5.xlarge"), cpu("p95", 20)},
		{ec2("i-a", "m5.xlarge"), cpu("p95", 20)},
		{ec2("i-b", "m5.large"), cpu("p95", 40)},
	}
	recs := o.Decide(p, in, now)
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ResourceId)
	}
	if got, want := strings.Join(ids, ","), "compute-savings-plan:us-east-1,i-a,i-c"; got != want {
		t.Fatalf("recommendations for %s, want %s", got, want)
	}
	sp := recs[0]
	if sp.Action != "commit_savings_plan" || money.FloatOr(sp.EstimatedMonthlySavings, math.NaN()) != 56.76 || sp.ProposedSize != "0.21024/h" || sp.ResourceType != "aws_ec2_instance" {
		t.Fatalf("savings plan %s %q saving %s type %s", sp.Action, sp.ProposedSize, money.Format(sp.EstimatedMonthlySavings), sp.ResourceType)
	}
	if !strings.HasPrefix(sp.Reason, "Fallback estimate, not a Cost Explorer recommendation") {
		t.Errorf("the synthetic suggestion is not labelled a fallback estimate: %s", sp.Reason)
	}
	// Below $100 the resizes go, and the savings plan on the unchanged
	// $0.48/h saves 0.48 × 0.27 × 730 = $94.61: gone too.
	p.Rightsizing.MinMonthlySavings = money.USDFromFloat(100)
	for _, r := range o.Decide(p, in, now) {
		t.Errorf("min saving $100: unexpected %s for %s saving %s", r.Action, r.ResourceId, money.Format(r.EstimatedMonthlySavings))
	}
}

// TestMetricFreeDecisionIgnoresInstances: the decision after a discovery
// takes volumes, addresses and snapshots as they are, passes over
// instances (which need metrics) and suggests no Savings Plan.
func TestMetricFreeDecisionIgnoresInstances(t *testing.T) {
	o := newOptimizer(t)
	d := o.StartMetricFree(testPolicy(), now)
	if got := d.ResourceTypes(); !slices.Equal(got, []string{"aws_ebs_snapshot", "aws_ebs_volume", "aws_eip"}) {
		t.Fatalf("scope %v", got)
	}
	d.Add([]Input{
		{ec2("i-a", "m5.xlarge"), cpu("p95", 20)},
		{Resource: &sirsiv1.Resource{ResourceId: "vol-1", Region: "us-east-1", Type: "aws_ebs_volume", Size: "gp2:500", State: "in-use",
			LaunchTime: timestamppb.New(now.Add(-300 * day))}},
		{Resource: &sirsiv1.Resource{ResourceId: "eipalloc-1", Region: "us-east-1", Type: "aws_eip", State: "unassociated"}},
	})
	var got []string
	for _, r := range d.Finish() {
		got = append(got, r.ResourceId+":"+r.Action)
	}
	if want := []string{"eipalloc-1:release", "vol-1:migrate_gp3"}; !slices.Equal(got, want) {
		t.Fatalf("metric-free decisions %v, want %v", got, want)
	}
}

func TestSuggestCommitment(t *testing.T) {
	cases := []struct {
		name     string
		hourly   []float64
		discount float64
		want     Commitment
	}{
		// Steady $1/h: commit 0.73/h, saves 0.27 × 730 = $197.10.
		{"steady", []float64{1, 1, 1, 1}, 0.27, Commitment{Hourly: 0.73, OnDemandCovered: 1, Coverage: 1, Utilization: 1, MonthlySaving: 197.10}},
		// One spike to $3: covering it would cost 4 × 3 × 0.73 = 8.76 for
		// 6 of spend; covering $1/h saves 4 − 2.92 = 1.08 per 4 h.
		{"spike not covered", []float64{1, 3, 1, 1}, 0.27, Commitment{Hourly: 0.73, OnDemandCovered: 1, Coverage: 4.0 / 6, Utilization: 1, MonthlySaving: 197.10}},
		// On half the hours: e = 2 saves 4 − 4 × 2 × 0.73 = −1.84; nothing.
		{"intermittent", []float64{0, 2, 0, 2}, 0.27, Commitment{}},
		// Half the hours at $2, half at $1 with a 60 % discount: e = 2
		// saves 6 − 4 × 2 × 0.4 = 2.8 per 4 h (e = 1: 4 − 1.6 = 2.4).
		{"deep discount covers more", []float64{1, 2, 1, 2}, 0.6, Commitment{Hourly: 0.8, OnDemandCovered: 2, Coverage: 1, Utilization: 0.75, MonthlySaving: 511}},
		{"empty", nil, 0.27, Commitment{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := SuggestCommitment(c.hourly, c.discount); got != c.want {
				t.Fatalf("SuggestCommitment = %+v, want %+v", got, c.want)
			}
		})
	}
}
