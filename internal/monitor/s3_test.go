package monitor

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// A bucket's monthly cost is its BucketSizeBytes, as the simulator holds
// it, in GB of 2^30 bytes times the region's S3 Standard list price; a
// bucket without a datapoint (empty, or created since the last midnight)
// stays unknown.
func TestSweepPricesBucketsFromBucketSizeBytes(t *testing.T) {
	clock := awssim.NewManualClock(epoch)
	sim, url := startSim(t, awssim.Options{Seed: 13, Clock: clock, Throttle: awssim.ThrottleOptions{Disabled: true}})
	cfg, _ := loadConfig(t, url, awsclient.Options{})
	ctx := context.Background()
	man, err := awssim.GenerateFleet(ctx, cfg, awssim.FleetSpec{N: 3, Regions: []string{"us-east-1", "eu-central-1"}, Seed: 5,
		Mix: awssim.FleetMix{Buckets: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if man.Count("bucket") != 3 {
		t.Fatalf("fleet %+v: want 3 buckets", man)
	}
	buckets := man.Resources
	// One set by hand, one emptied; the third keeps its seeded size.
	const set = 3*(1<<40) + 123456789
	if err := sim.SetBucketSize(buckets[0].ID, set); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetBucketSize(buckets[1].ID, 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(72 * time.Hour)
	fresh := "fresh-since-midnight"
	if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.Region = "us-east-1"; o.UsePathStyle = true }).
		CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(fresh)}); err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int64{}
	for _, b := range sim.Buckets(sim.AccountID()) {
		sizes[b.Name] = b.SizeBytes
	}
	if sizes[buckets[0].ID] != set || sizes[buckets[2].ID] <= 0 || sizes[fresh] <= 0 {
		t.Fatalf("simulator sizes %v", sizes)
	}

	all := slices.Concat(buckets, []awssim.FleetResource{{Kind: "bucket", ID: fresh, Region: "us-east-1"}})
	series := make([]Series, len(all))
	for i, b := range all {
		series[i] = Series{validation.ResourceS3Bucket, b.ID, b.Region, validation.MetricBucketSizeBytes, "Average"}
	}
	sums, err := newUtil(t, cfg, nil).Sweep(ctx, series, 14*24*time.Hour, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := NewEstimator(embedded(t))
	e.ObserveUsage(sums)
	// The list prices of data/prices.json, by hand.
	price := map[string]float64{"us-east-1": 0.023, "eu-central-1": 0.0245}
	for i, b := range all {
		usd, err := e.MonthlyCost(&sirsiv1.Resource{Type: validation.ResourceS3Bucket, ResourceId: b.ID, Region: b.Region})
		switch i {
		case 1, 3:
			if !errors.Is(err, ErrUnknownCost) {
				t.Errorf("bucket %s (no datapoint): %v, %v; want unknown", b.ID, usd, err)
			}
		default:
			want := float64(sizes[b.ID]) / (1 << 30) * price[b.Region]
			if err != nil || math.Abs(usd-want) > 0.005 {
				t.Errorf("bucket %s in %s: %v, %v; want %.2f", b.ID, b.Region, usd, err, want)
			}
		}
	}
}
