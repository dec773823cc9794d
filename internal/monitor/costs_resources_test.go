package monitor

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// TestPullResourcesMatchesTheBill: every instance of both accounts, on
// each of the last ResourceCostDays complete days (the fleet has run ten
// of them), costs 24 h x its list price; nothing else is billed per
// resource.
func TestPullResourcesMatchesTheBill(t *testing.T) {
	clock := awssim.NewManualClock(epoch)
	sim, url := startSim(t, awssim.Options{Clock: clock, Backfill: 10 * 24 * time.Hour, Throttle: awssim.ThrottleOptions{Disabled: true}})
	cat, err := pricing.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	today := epoch.Truncate(24 * time.Hour)
	want := map[string]float64{}
	for acct, spec := range map[string]awssim.FleetSpec{
		sim.AccountID(): {N: 10, Regions: []string{"us-east-1", "eu-west-1"}, Seed: 21, Mix: awssim.FleetMix{Instances: 3, Addresses: 2}},
		otherAcct:       {N: 3, Regions: []string{"us-west-2"}, Seed: 22, Mix: awssim.FleetMix{Instances: 1}},
	} {
		man, err := sim.SeedFleet(acct, spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range man.Resources {
			if r.Kind != "instance" {
				continue
			}
			hourly, err := cat.EC2Hourly(r.Region, r.Type)
			if err != nil {
				t.Fatal(err)
			}
			// Backfilled ten days before epoch (12:00): the tenth day back
			// is a half day.
			for d := 1; d <= 10; d++ {
				h := 24.0
				if d == 10 {
					h = 12
				}
				want[acct+"|"+r.ID+"|"+today.AddDate(0, 0, -d).Format(time.DateOnly)] = h * hourly
			}
		}
	}
	cfg, counted := loadConfig(t, url, awsclient.Options{})
	got, err := newCosts(t, CostOptions{Config: cfg, CacheDir: t.TempDir(), Clock: clock.Now}).PullResources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := counted.count("GetCostAndUsageWithResources"); n != 1 {
		t.Errorf("%d GetCostAndUsageWithResources calls, want 1", n)
	}
	if len(got) != len(want) {
		t.Errorf("%d resource-days, want %d", len(got), len(want))
	}
	for i, rc := range got {
		k := rc.AccountId + "|" + rc.ResourceId + "|" + rc.Day
		if rc.ResourceType != "aws_ec2_instance" || rc.Amount.GetCurrencyCode() != money.USD || math.Abs(money.FloatOr(rc.Amount, math.NaN())-want[k]) > 1e-6 {
			t.Errorf("%s: %s %v, want aws_ec2_instance %v USD", k, rc.ResourceType, rc.Amount, want[k])
		}
		if i > 0 && got[i-1].AccountId+got[i-1].ResourceId+got[i-1].Day >= rc.AccountId+rc.ResourceId+rc.Day {
			t.Errorf("not sorted by account, resource and day at %d", i)
		}
	}
}

// TestPullResourcesWithoutResourceLevelData: an account that has not opted
// in answers DataUnavailableException, which the pull returns, named.
func TestPullResourcesWithoutResourceLevelData(t *testing.T) {
	clock := awssim.NewManualClock(epoch)
	sim, url := startSim(t, awssim.Options{Clock: clock, Backfill: 10 * 24 * time.Hour, Throttle: awssim.ThrottleOptions{Disabled: true}, NoResourceLevelCosts: true})
	billFleet(t, sim, epoch.Truncate(24*time.Hour))
	cfg, _ := loadConfig(t, url, awsclient.Options{})
	got, err := newCosts(t, CostOptions{Config: cfg, CacheDir: t.TempDir(), Clock: clock.Now}).PullResources(context.Background())
	if err == nil || !strings.Contains(err.Error(), "DataUnavailableException") || got != nil {
		t.Fatalf("got %d costs, error %v; want none and DataUnavailableException", len(got), err)
	}
}

// TestCostsPullUnreadableAmount: Cost Explorer (a stand-in answering in
// its JSON shapes) gives one group an amount that is not a decimal; the
// pull keeps the rest, leaves that amount unknown (absent, not 0) and logs
// the group, day and field.
func TestCostsPullUnreadableAmount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		groups := `[{"Keys":["123456789012"],"Metrics":{"UnblendedCost":{"Amount":"3.5","Unit":"USD"}}}]`
		if strings.Contains(string(body), `"SERVICE"`) {
			groups = `[{"Keys":["AmazonEC2","us-east-1"],"Metrics":{"UnblendedCost":{"Amount":"1.25","Unit":"USD"}}},` +
				`{"Keys":["AmazonS3","us-east-1"],"Metrics":{"UnblendedCost":{"Amount":"NaN","Unit":"USD"}}}]`
		}
		_, _ = io.WriteString(w, `{"ResultsByTime":[{"TimePeriod":{"Start":"2026-03-03","End":"2026-03-04"},"Groups":`+groups+`,"Estimated":false}]}`)
	}))
	t.Cleanup(srv.Close)
	cfg, _ := loadConfig(t, srv.URL, awsclient.Options{})
	var logs syncBuffer
	recs, _, err := newCosts(t, CostOptions{Config: cfg, CacheDir: t.TempDir(), Clock: func() time.Time { return epoch }, Logger: bufferLogger(&logs)}).Pull(context.Background(), 1)
	if err != nil {
		t.Fatalf("one unreadable amount failed the pull: %v", err)
	}
	got := map[string]string{}
	for _, r := range recs {
		got[r.Service] = money.Format(r.Amount)
		if r.Service == "AmazonS3" && r.Amount != nil {
			t.Errorf("the unreadable amount became %v", r.Amount)
		}
	}
	if len(recs) != 2 || got["AmazonEC2"] != money.Format(money.Micros(1_250_000, money.USD)) {
		t.Errorf("records %v, want EC2 at 1.25 USD and S3 unknown", got)
	}
	for _, want := range []string{"AmazonS3,us-east-1", "2026-03-03", "Metrics.UnblendedCost.Amount", "amount=NaN"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not name %s:\n%s", want, logs.String())
		}
	}
}
