// Package awsquota is AWS's published API request-rate quotas as token
// buckets, in one table: the simulated account enforces them and the agent's
// client-side limiter stays inside them, so the two cannot drift apart.
package awsquota

import "strings"

// Bucket is one token bucket: Capacity tokens at most, Refill tokens per
// second. Name groups the actions sharing a bucket (AWS's "API category");
// buckets are per account and region (Cost Explorer: per account).
type Bucket struct {
	Name     string
	Capacity float64
	Refill   float64
}

// Default serves services that publish no rate of their own.
var Default = Bucket{Name: "default", Capacity: 100, Refill: 20}

// EC2 request throttling, from "Request throttling for the Amazon EC2 API"
// (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html):
// request-rate buckets by API category, plus resource-rate buckets for the
// instance lifecycle actions, counted per instance.
var (
	EC2NonMutating           = Bucket{Name: "non-mutating", Capacity: 100, Refill: 20}
	EC2UnfilteredNonMutating = Bucket{Name: "unfiltered-unpaginated-non-mutating", Capacity: 50, Refill: 10}
	EC2Mutating              = Bucket{Name: "mutating", Capacity: 200, Refill: 5}
	EC2Uncategorized         = Bucket{Name: "uncategorized", Capacity: 50, Refill: 10}

	ec2ResourceBuckets = map[string]Bucket{
		"RunInstances":       {Name: "resource:RunInstances", Capacity: 1000, Refill: 2},
		"StartInstances":     {Name: "resource:StartInstances", Capacity: 1000, Refill: 2},
		"StopInstances":      {Name: "resource:StopInstances", Capacity: 1000, Refill: 20},
		"TerminateInstances": {Name: "resource:TerminateInstances", Capacity: 1000, Refill: 20},
	}
)

// EC2Unfilterable lists the inventory Describe actions the EC2 throttling
// guide puts in the stricter "unfiltered and unpaginated" class when called
// with neither filters, ids nor pagination.
var EC2Unfilterable = map[string]bool{
	"DescribeInstances": true, "DescribeInstanceStatus": true, "DescribeVolumes": true, "DescribeSnapshots": true,
}

// EC2 classifies an EC2 call the way the throttling guide does; unfiltered
// says the call carries no filter, id or pagination parameter.
func EC2(action string, unfiltered bool) Bucket {
	switch {
	case strings.HasPrefix(action, "Describe"):
		if unfiltered && EC2Unfilterable[action] {
			return EC2UnfilteredNonMutating
		}
		return EC2NonMutating
	case strings.HasPrefix(action, "Create"), strings.HasPrefix(action, "Delete"), strings.HasPrefix(action, "Modify"),
		strings.HasPrefix(action, "Attach"), strings.HasPrefix(action, "Associate"), strings.HasPrefix(action, "Allocate"),
		strings.HasPrefix(action, "Release"), strings.HasSuffix(action, "Instances"):
		return EC2Mutating
	}
	return EC2Uncategorized
}

// EC2Resource is the per-instance resource-rate bucket of an instance
// lifecycle action, if it has one.
func EC2Resource(action string) (Bucket, bool) {
	b, ok := ec2ResourceBuckets[action]
	return b, ok
}

// CloudWatch uses the published per account-region TPS quotas:
// GetMetricData 50, PutMetricData 500 (bucket = one second).
func CloudWatch(action string) Bucket {
	switch action {
	case "GetMetricData":
		return Bucket{Name: "GetMetricData", Capacity: 50, Refill: 50}
	case "PutMetricData":
		return Bucket{Name: "PutMetricData", Capacity: 500, Refill: 500}
	}
	return Default
}

// CostExplorer is Cost Explorer's per-account rate (5 requests a second).
var CostExplorer = Bucket{Name: "CostExplorer", Capacity: 5, Refill: 5}

// Lambda follows the published control-plane quotas: 15 requests per
// second per API, except GetFunction at 100 ("Lambda quotas", API requests).
func Lambda(action string) Bucket {
	if action == "GetFunction" {
		return Bucket{Name: "lambda-GetFunction", Capacity: 100, Refill: 100}
	}
	return Bucket{Name: "lambda-" + action, Capacity: 15, Refill: 15}
}

// S3 follows the published request rates (3,500 PUT/COPY/POST/DELETE and
// 5,500 GET/HEAD requests per second per prefix; "Best practices design
// patterns: optimizing Amazon S3 performance").
func S3(action string) Bucket {
	if strings.HasPrefix(action, "Get") || strings.HasPrefix(action, "List") || strings.HasPrefix(action, "Head") {
		return Bucket{Name: "s3-read", Capacity: 5500, Refill: 5500}
	}
	return Bucket{Name: "s3-write", Capacity: 3500, Refill: 3500}
}

// For returns the bucket of a call to service (the sim's and the SDK's
// lower-case service name: ec2, monitoring/cloudwatch, ce/costexplorer,
// lambda, s3, ...). unfiltered only matters for EC2.
func For(service, action string, unfiltered bool) Bucket {
	switch strings.ToLower(service) {
	case "ec2":
		return EC2(action, unfiltered)
	case "cloudwatch", "monitoring":
		return CloudWatch(action)
	case "ce", "costexplorer", "cost explorer":
		return CostExplorer
	case "lambda":
		return Lambda(action)
	case "s3":
		return S3(action)
	}
	return Default
}
