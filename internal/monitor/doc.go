// Package monitor is the agent's view of what resources use and cost:
// utilisation summaries from CloudWatch GetMetricData, daily costs from Cost
// Explorer, cost anomalies found in those costs, and per-resource monthly
// cost estimates from the price catalogue.
//
// # Utilisation
//
// [Utilization.Sweep] asks CloudWatch for each series' statistic over the
// whole lookback window as one datapoint, so the raw data stays in AWS: a
// policy that sizes on p95 over 14 days gets one number per resource and
// metric. Queries are batched 500 to a GetMetricData call (AWS's limit) per
// region, every page is followed, and a throttled batch is retried with
// backoff after the SDK's own retries, so throttling slows a sweep down but
// never fails it.
//
// Coverage says how much of the window had data: one SampleCount query per
// resource on its primary metric (CPUUtilization for EC2 and RDS,
// Invocations for Lambda) over the same window, divided by the datapoints
// basic monitoring publishes in it (EC2 one per 300 s, RDS one per 60 s),
// capped at 1 (detailed monitoring publishes more). Lambda publishes only
// for minutes with invocations, so its coverage is the fraction of minutes
// in the window that saw at least one invocation: low coverage there means a
// rarely used function, not missing monitoring. A series without data in the
// window is still reported, with coverage 0 and value 0 (the value then
// means nothing): the optimizer must be able to tell "idle" from "unknown".
//
// # Costs
//
// [Costs.Pull] reads daily UnblendedCost from Cost Explorer per linked
// account, service and region, plus one cut per cost-allocation tag key.
// Every GetCostAndUsage request is billed, so the last answer is cached on
// disk and reused while it is younger than MinInterval, across restarts.
// Cost Explorer groups by at most two keys, so the three-way split takes one
// call listing the linked accounts and one call per account (filtered to it)
// grouped by SERVICE and REGION; each tag key adds one call grouped by
// LINKED_ACCOUNT and the tag. A pull covers the last `days` complete UTC
// days (today's partial, estimated figure would look like a drop).
//
// # Anomalies
//
// [DetectAnomalies] is a pure function over cost records: a robust z-score
// of each day against its trailing window, per account and service.
//
// # Estimates
//
// [Estimator.MonthlyCost] prices one discovered resource from the catalogue
// (730-hour month); [Estimator.Refresh] overlays live prices and specs from
// the Pricing API and EC2 DescribeInstanceTypes.
package monitor
