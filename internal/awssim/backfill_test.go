package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// With Options.Backfill an RDS instance created through the API has existed
// (and been available) for the backfill: its create time is in the past
// and CloudWatch has its CPU for the whole period, as for EC2.
func TestBackfillCoversRDS(t *testing.T) {
	const backfill = 48 * time.Hour
	h := newHarnessWith(t, Options{StateDelay: time.Minute, Backfill: backfill})
	c := rds.NewFromConfig(h.cfg)
	db := createDB(t, h, c, "old-db", "db.m5.large", "postgres")
	if got := aws.ToTime(db.InstanceCreateTime); !got.Equal(harnessEpoch.Add(-backfill)) {
		t.Fatalf("create time %v, want %v", got, harnessEpoch.Add(-backfill))
	}
	if got := describeDB(t, h, c, "old-db"); aws.ToString(got.DBInstanceStatus) != "available" {
		t.Fatalf("status %q, want available", aws.ToString(got.DBInstanceStatus))
	}
	out, err := cwClient(h).GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(harnessEpoch.Add(-24 * time.Hour)), EndTime: aws.Time(harnessEpoch),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("n"),
			MetricStat: metricStat("AWS/RDS", "CPUUtilization", "SampleCount", 86400, "DBInstanceIdentifier", "old-db")}},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	if v := out.MetricDataResults[0].Values; len(v) != 1 || v[0] != 24*60 {
		t.Fatalf("CPU samples over the last day = %v, want [1440]", v)
	}
}
