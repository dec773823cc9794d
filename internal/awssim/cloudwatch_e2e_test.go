package awssim

import (
	"archive/zip"
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
)

// An instance launched through the EC2 API in a simulator with 30 days of
// backfill shows 30 days of CPU in CloudWatch and 30 days of instance-hours
// in Cost Explorer; stopping it ends both.
func TestBackfilledInstanceHasMetricsAndCost(t *testing.T) {
	clock := NewManualClock(harnessEpoch)
	sim, err := New(Options{Seed: 11, Clock: clock, Backfill: 30 * 24 * time.Hour, Throttle: ThrottleOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg := sdkConfig(srv.URL, "us-east-1", &awstest.RecordingTransport{})
	ctx := context.Background()
	run, err := ec2.NewFromConfig(cfg).RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String(ProfileTag), Value: aws.String(string(ProfileIdle))}}}},
	})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	launched := harnessEpoch.Add(-30 * 24 * time.Hour)

	out, err := cloudwatch.NewFromConfig(cfg).GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(harnessEpoch.Add(-40 * 24 * time.Hour)), EndTime: aws.Time(harnessEpoch),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("count"), MetricStat: metricStat("AWS/EC2", "CPUUtilization", "SampleCount", 40*86400, "InstanceId", id)},
			{Id: aws.String("p99"), MetricStat: metricStat("AWS/EC2", "CPUUtilization", "p99", 40*86400, "InstanceId", id)},
		},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	// 30 days of 5-minute points: 30 × 288.
	if v := out.MetricDataResults[0].Values; len(v) != 1 || v[0] != 30*288 {
		t.Errorf("SampleCount = %v, want [%d]", v, 30*288)
	}
	if v := out.MetricDataResults[1].Values; len(v) != 1 || v[0] < 1 || v[0] > 3 {
		t.Errorf("idle p99 = %v, want within 1-3 %%", v)
	}

	ce := costexplorer.NewFromConfig(cfg)
	cost := func() float64 {
		t.Helper()
		res, err := ce.GetCostAndUsage(ctx, &costexplorer.GetCostAndUsageInput{
			TimePeriod:  &cetypes.DateInterval{Start: aws.String(launched.AddDate(0, 0, -1).Format(time.DateOnly)), End: aws.String(harnessEpoch.AddDate(0, 0, 2).Format(time.DateOnly))},
			Granularity: cetypes.GranularityMonthly, Metrics: []string{"UnblendedCost"},
			Filter: &cetypes.Expression{Dimensions: &cetypes.DimensionValues{Key: cetypes.DimensionService, Values: []string{ceServiceEC2Compute}}},
		})
		if err != nil {
			t.Fatalf("GetCostAndUsage: %v", err)
		}
		var sum float64
		for _, r := range res.ResultsByTime {
			v, _ := strconv.ParseFloat(aws.ToString(r.Total["UnblendedCost"].Amount), 64)
			sum += v
		}
		return sum
	}
	// t3.micro in us-east-1: $0.0104/h for 720 hours.
	if got, want := cost(), 720*0.0104; !near6(got, want) {
		t.Errorf("30 days of t3.micro = %v, want %v", got, want)
	}
	if _, err := ec2.NewFromConfig(cfg).StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("StopInstances: %v", err)
	}
	clock.Advance(24 * time.Hour)
	if got, want := cost(), 720*0.0104; !near6(got, want) {
		t.Errorf("a day after stopping: %v, want still %v", got, want)
	}
}

// A DB instance created through the RDS API publishes AWS/RDS metrics from
// its profile once available, with FreeableMemory bounded by its class's
// memory from the price catalogue.
func TestRDSInstanceMetrics(t *testing.T) {
	h := newHarness(t, 0)
	ctx := context.Background()
	_, err := rds.NewFromConfig(h.cfg).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("orders"), DBInstanceClass: aws.String("db.m5.large"), Engine: aws.String("postgres"),
		AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("secret-password"),
		Tags: []rdstypes.Tag{{Key: aws.String(ProfileTag), Value: aws.String(string(ProfileRightSized))}},
	})
	if err != nil {
		t.Fatalf("CreateDBInstance: %v", err)
	}
	h.clock.Advance(2 * time.Hour)
	out, err := cwClient(h).GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(harnessEpoch), EndTime: aws.Time(harnessEpoch.Add(2 * time.Hour)),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("cpu"), MetricStat: metricStat("AWS/RDS", "CPUUtilization", "Average", 3600, "DBInstanceIdentifier", "orders")},
			{Id: aws.String("mem"), MetricStat: metricStat("AWS/RDS", "FreeableMemory", "Maximum", 7200, "DBInstanceIdentifier", "orders")},
			{Id: aws.String("n"), MetricStat: metricStat("AWS/RDS", "DatabaseConnections", "SampleCount", 7200, "DBInstanceIdentifier", "orders")},
		},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	h.checkLast(t, "cloudwatch", "GetMetricData")
	res := map[string][]float64{}
	for _, r := range out.MetricDataResults {
		res[aws.ToString(r.Id)] = r.Values
	}
	if cpu := res["cpu"]; len(cpu) != 2 || cpu[0] < 40 || cpu[0] > 70 {
		t.Errorf("right-sized RDS CPU %v, want two hourly values within 40-70", cpu)
	}
	// db.m5.large has 8 GiB; free memory stays below three quarters of it.
	if mem := res["mem"]; len(mem) != 1 || mem[0] <= 0 || mem[0] > 0.75*8*(1<<30) {
		t.Errorf("FreeableMemory %v", mem)
	}
	// One-minute resolution: 120 points in two hours.
	if n := res["n"]; len(n) != 1 || n[0] != 120 {
		t.Errorf("DatabaseConnections SampleCount %v, want [120]", n)
	}
}

// A function created through the Lambda API publishes AWS/Lambda
// Invocations and Duration, and Cost Explorer bills those same invocations.
func TestLambdaMetricsAndCost(t *testing.T) {
	h := newHarness(t, 0)
	ctx := context.Background()
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("index.py")
	_, _ = w.Write([]byte("def handler(e, c):\n    return 1\n"))
	_ = zw.Close()
	_, err := lambda.NewFromConfig(h.cfg).CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("thumbs"), Runtime: lambdatypes.RuntimePython312, Handler: aws.String("index.handler"),
		Role: aws.String("arn:aws:iam::123456789012:role/lambda"), Code: &lambdatypes.FunctionCode{ZipFile: zipped.Bytes()},
		MemorySize: aws.Int32(512), Tags: map[string]string{ProfileTag: string(ProfileIdle)},
	})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	h.clock.Advance(time.Hour)
	out, err := cwClient(h).GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(harnessEpoch), EndTime: aws.Time(harnessEpoch.Add(time.Hour)),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("inv"), MetricStat: metricStat("AWS/Lambda", "Invocations", "Sum", 3600, "FunctionName", "thumbs")},
			{Id: aws.String("dur"), MetricStat: metricStat("AWS/Lambda", "Duration", "Average", 3600, "FunctionName", "thumbs")},
		},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	inv, dur := out.MetricDataResults[0].Values, out.MetricDataResults[1].Values
	// Idle: 1-3 % load, 2 invocations per minute per %: 120-360 an hour.
	if len(inv) != 1 || inv[0] < 120 || inv[0] > 360 || len(dur) != 1 || dur[0] < 23 || dur[0] > 29 {
		t.Fatalf("invocations %v, duration %v", inv, dur)
	}
	res, err := ceClient(h).GetCostAndUsage(ctx, &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String("2026-03-04"), End: aws.String("2026-03-05")},
		Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"},
		Filter: &cetypes.Expression{Dimensions: &cetypes.DimensionValues{Key: cetypes.DimensionService, Values: []string{ceServiceLambda}}},
	})
	if err != nil {
		t.Fatalf("GetCostAndUsage: %v", err)
	}
	got, _ := strconv.ParseFloat(aws.ToString(res.ResultsByTime[0].Total["UnblendedCost"].Amount), 64)
	// Requests at $0.20 per million plus GB-seconds at $0.0000166667, with
	// the mean duration bounding the per-minute durations.
	lo := inv[0]*0.0000002 + inv[0]*23/1000*0.5*0.0000166667
	hi := inv[0]*0.0000002 + inv[0]*29/1000*0.5*0.0000166667
	if got < lo || got > hi {
		t.Errorf("Lambda cost %v, want within [%v, %v]", got, lo, hi)
	}
}
