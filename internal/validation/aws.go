package validation

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// AccountID checks a 12-digit AWS account id.
func AccountID(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	if !accountIDRE.MatchString(s) {
		return fmt.Errorf("%q is not a 12-digit AWS account id", s)
	}
	return nil
}

// regions are the AWS regions of the aws, aws-cn and aws-us-gov partitions.
var regions = map[string]bool{
	"af-south-1":     true,
	"ap-east-1":      true,
	"ap-east-2":      true,
	"ap-northeast-1": true,
	"ap-northeast-2": true,
	"ap-northeast-3": true,
	"ap-south-1":     true,
	"ap-south-2":     true,
	"ap-southeast-1": true,
	"ap-southeast-2": true,
	"ap-southeast-3": true,
	"ap-southeast-4": true,
	"ap-southeast-5": true,
	"ap-southeast-6": true,
	"ap-southeast-7": true,
	"ca-central-1":   true,
	"ca-west-1":      true,
	"eu-central-1":   true,
	"eu-central-2":   true,
	"eu-north-1":     true,
	"eu-south-1":     true,
	"eu-south-2":     true,
	"eu-west-1":      true,
	"eu-west-2":      true,
	"eu-west-3":      true,
	"il-central-1":   true,
	"me-central-1":   true,
	"me-south-1":     true,
	"mx-central-1":   true,
	"sa-east-1":      true,
	"us-east-1":      true,
	"us-east-2":      true,
	"us-west-1":      true,
	"us-west-2":      true,
	"cn-north-1":     true,
	"cn-northwest-1": true,
	"us-gov-east-1":  true,
	"us-gov-west-1":  true,
}

// Regions returns the known region names, sorted.
func Regions() []string {
	out := make([]string, 0, len(regions))
	for r := range regions {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Region checks an AWS region name against the known regions.
func Region(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	if !regions[s] {
		return fmt.Errorf("%q is not a known AWS region", s)
	}
	return nil
}

// RegionList checks a list of regions: each known, none repeated. Empty is
// the caller's decision.
func RegionList(list []string) error {
	seen := make(map[string]bool, len(list))
	for i, r := range list {
		if err := Region(r); err != nil {
			return FieldError{Field: fmt.Sprintf("[%d]", i), Reason: err.Error()}
		}
		if seen[r] {
			return FieldError{Field: fmt.Sprintf("[%d]", i), Reason: fmt.Sprintf("%q is listed twice", r)}
		}
		seen[r] = true
	}
	return nil
}

// AccountIDList checks a list of account ids: each valid, none repeated.
func AccountIDList(list []string) error {
	seen := make(map[string]bool, len(list))
	for i, a := range list {
		if err := AccountID(a); err != nil {
			return FieldError{Field: fmt.Sprintf("[%d]", i), Reason: err.Error()}
		}
		if seen[a] {
			return FieldError{Field: fmt.Sprintf("[%d]", i), Reason: fmt.Sprintf("%q is listed twice", a)}
		}
		seen[a] = true
	}
	return nil
}

// IAM role ARN: partition, empty region, 12-digit account, then role/ with
// an optional path (/-delimited, printable ASCII) and a name of IAM's
// character set, at most 64 characters.
var roleARNRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):role/((?:[\x21-\x7e]+/)?)([\w+=,.@-]{1,64})$`)

// RoleARN checks an IAM role ARN and returns the account id in it.
func RoleARN(s string) (accountID string, err error) {
	if s == "" {
		return "", errors.New("is required")
	}
	m := roleARNRE.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("%q is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)", s)
	}
	if len(m[3]) > 511 {
		return "", fmt.Errorf("role path is %d characters long, at most 512 are allowed", len(m[3])+1)
	}
	return m[2], nil
}

var externalIDRE = regexp.MustCompile(`^[\w+=,.@:/-]+$`)

// ExternalID checks an sts:ExternalId: 2..1224 characters of letters,
// digits and + = , . @ : / - _.
func ExternalID(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	if len(s) < 2 || len(s) > 1224 {
		return fmt.Errorf("is %d characters long, 2..1224 are allowed", len(s))
	}
	if !externalIDRE.MatchString(s) {
		return errors.New("may contain only letters, digits and + = , . @ : / - _")
	}
	return nil
}

// Resource types the agent discovers.
const (
	ResourceEC2Instance    = "aws_ec2_instance"
	ResourceEBSVolume      = "aws_ebs_volume"
	ResourceEBSSnapshot    = "aws_ebs_snapshot"
	ResourceEIP            = "aws_eip"
	ResourceRDSInstance    = "aws_rds_instance"
	ResourceS3Bucket       = "aws_s3_bucket"
	ResourceLambdaFunction = "aws_lambda_function"
)

// ResourceTypes lists every resource type, sorted.
var ResourceTypes = []string{
	ResourceEBSSnapshot, ResourceEBSVolume, ResourceEC2Instance, ResourceEIP,
	ResourceLambdaFunction, ResourceRDSInstance, ResourceS3Bucket,
}

// RightsizedResourceTypes are the types whose size the optimizer proposes
// (instance type, DB class, function memory), sorted: the types
// sirsi_recommended_size answers for and a policy's execution setting
// applies to.
var RightsizedResourceTypes = []string{ResourceEC2Instance, ResourceLambdaFunction, ResourceRDSInstance}

// Lambda's memory bounds, MB (AWS's CreateFunction limits).
const (
	LambdaMinMemoryMB = 128
	LambdaMaxMemoryMB = 10240
)

// ResourceType checks a resource type name.
func ResourceType(s string) error {
	for _, t := range ResourceTypes {
		if s == t {
			return nil
		}
	}
	return fmt.Errorf("%q is not a resource type (one of %s)", s, strings.Join(ResourceTypes, ", "))
}

// ResourceTypeList checks a list of resource types: each known, none
// repeated.
func ResourceTypeList(list []string) error {
	seen := make(map[string]bool, len(list))
	for i, t := range list {
		if err := ResourceType(t); err != nil {
			return FieldError{Field: fmt.Sprintf("[%d]", i), Reason: err.Error()}
		}
		if seen[t] {
			return FieldError{Field: fmt.Sprintf("[%d]", i), Reason: fmt.Sprintf("%q is listed twice", t)}
		}
		seen[t] = true
	}
	return nil
}

// An instance or DB-class family: "m5", "t4g", "db.r6g", "c7gn".
var familyRE = regexp.MustCompile(`^(db\.)?[a-z][a-z0-9-]{0,15}$`)

// InstanceFamily checks a family name used in allowed_families.
func InstanceFamily(s string) error {
	if !familyRE.MatchString(s) || !strings.ContainsAny(s, "0123456789") {
		return fmt.Errorf("%q is not an instance family (like m5, t4g or db.r6g)", s)
	}
	return nil
}

// MetricBucketSizeBytes is an S3 bucket's Standard storage in bytes
// (CloudWatch AWS/S3 BucketSizeBytes), what its cost is estimated from.
const MetricBucketSizeBytes = "bucket_size_bytes"

// Metrics are the utilisation metrics the agent summarises.
var Metrics = []string{
	MetricBucketSizeBytes, "commitment_utilization", "cpu_utilization", "database_connections", "duration_ms",
	"freeable_memory_bytes", "invocations", "memory_utilization",
	"network_in_bytes", "network_out_bytes",
}

// Metric checks a utilisation metric name.
func Metric(s string) error {
	for _, m := range Metrics {
		if s == m {
			return nil
		}
	}
	return fmt.Errorf("%q is not a metric (one of %s)", s, strings.Join(Metrics, ", "))
}
