package agent

import (
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/monitor"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// measured lists, per resource type, the metric statistics every sweep
// asks for: what the optimizer's right-sizing (p95, p99, max), idle rules
// (average CPU, network totals) and RDS/Lambda sizing read. Asking for
// all of them always costs a few queries per resource and spares a sweep
// per policy.
var measured = map[string][]struct{ metric, stat string }{
	"aws_ec2_instance": {
		{"cpu_utilization", "Average"}, {"cpu_utilization", "Maximum"}, {"cpu_utilization", "p95"}, {"cpu_utilization", "p99"},
		{"network_in_bytes", "Sum"}, {"network_out_bytes", "Sum"},
	},
	"aws_rds_instance": {
		{"cpu_utilization", "Average"}, {"cpu_utilization", "Maximum"}, {"cpu_utilization", "p95"}, {"cpu_utilization", "p99"},
		{"database_connections", "Average"}, {"database_connections", "Maximum"}, {"freeable_memory_bytes", "Minimum"},
	},
	"aws_lambda_function": {
		{"duration_ms", "Average"}, {"duration_ms", "p95"}, {"duration_ms", "Maximum"}, {"invocations", "Sum"},
		{"memory_utilization", "Maximum"},
	},
	// What the estimator prices a bucket at.
	"aws_s3_bucket": {{validation.MetricBucketSizeBytes, "Average"}},
}

// appendPlan appends the series a utilisation sweep measures of r. Stopped
// instances are measured too: their history is what an idle rule looks at.
func appendPlan(dst []monitor.Series, r *sirsiv1.Resource) []monitor.Series {
	for _, m := range measured[r.GetType()] {
		dst = append(dst, monitor.Series{ResourceType: r.GetType(), ResourceID: r.GetResourceId(), Region: r.GetRegion(), Metric: m.metric, Statistic: m.stat})
	}
	return dst
}

// defaultLookback applies when no policy names one: two weeks, AWS
// Compute Optimizer's default.
const defaultLookback = 14 * 24 * time.Hour

// lookback is the longest window any policy's right-sizing or idle rule
// reads; CloudWatch keeps 5-minute data for 63 days, so it is capped there.
func lookback(policies []*sirsiv1.OptimizationPolicy) time.Duration {
	d := defaultLookback
	for _, p := range policies {
		for _, days := range []int32{p.GetRightsizing().GetLookbackDays(), p.GetIdle().GetLookbackDays()} {
			d = max(d, time.Duration(days)*24*time.Hour)
		}
	}
	return min(d, 63*24*time.Hour)
}
