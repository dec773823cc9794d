package awsquota

import "testing"

func TestClassification(t *testing.T) {
	for _, c := range []struct {
		service, action string
		unfiltered      bool
		want            Bucket
	}{
		{"ec2", "DescribeInstances", false, EC2NonMutating},
		{"ec2", "DescribeInstances", true, EC2UnfilteredNonMutating},
		{"ec2", "DescribeAddresses", true, EC2NonMutating},
		{"EC2", "ModifyInstanceAttribute", false, EC2Mutating},
		{"ec2", "StopInstances", false, EC2Mutating},
		{"ec2", "GetConsoleOutput", false, EC2Uncategorized},
		{"monitoring", "GetMetricData", false, Bucket{"GetMetricData", 50, 50}},
		{"CloudWatch", "ListMetrics", false, Default},
		{"Cost Explorer", "GetCostAndUsage", false, CostExplorer},
		{"lambda", "GetFunction", false, Bucket{"lambda-GetFunction", 100, 100}},
		{"lambda", "ListFunctions", false, Bucket{"lambda-ListFunctions", 15, 15}},
		{"s3", "ListBuckets", false, Bucket{"s3-read", 5500, 5500}},
		{"s3", "HeadBucket", false, Bucket{"s3-read", 5500, 5500}},
		{"s3", "PutBucketTagging", false, Bucket{"s3-write", 3500, 3500}},
		{"rds", "DescribeDBInstances", false, Default},
	} {
		if got := For(c.service, c.action, c.unfiltered); got != c.want {
			t.Errorf("For(%q, %q, %v) = %+v, want %+v", c.service, c.action, c.unfiltered, got, c.want)
		}
	}
	if b, ok := EC2Resource("StartInstances"); !ok || b.Refill != 2 {
		t.Errorf("StartInstances resource bucket = %+v, %v", b, ok)
	}
	if _, ok := EC2Resource("DescribeInstances"); ok {
		t.Error("DescribeInstances has a resource bucket")
	}
}
