package monitor

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// Cost Explorer's SERVICE values for EC2 compute and for the rest of EC2
// (volumes, idle addresses).
const (
	ec2Compute = "Amazon Elastic Compute Cloud - Compute"
	ec2Other   = "EC2 - Other"
	otherAcct  = "210987654321"
)

// billFleet seeds two accounts with instances and Elastic IPs that have run
// for ten days, and works out by hand, from the price catalogue, what each
// of the last five complete days cost per account, service and region and
// per team tag.
func billFleet(t *testing.T, sim *awssim.Sim, today time.Time) (byDim, byTag map[string]float64) {
	t.Helper()
	cat, err := pricing.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	byDim, byTag = map[string]float64{}, map[string]float64{}
	for _, f := range []struct {
		account string
		spec    awssim.FleetSpec
	}{
		{sim.AccountID(), awssim.FleetSpec{N: 10, Regions: []string{"us-east-1", "eu-west-1"}, Seed: 21, Mix: awssim.FleetMix{Instances: 3, Addresses: 2}}},
		{otherAcct, awssim.FleetSpec{N: 3, Regions: []string{"us-west-2"}, Seed: 22, Mix: awssim.FleetMix{Instances: 1}}},
	} {
		man, err := sim.SeedFleet(f.account, f.spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range man.Resources {
			var service string
			var hourly float64
			switch {
			case r.Kind == "instance":
				service = ec2Compute
				hourly, err = cat.EC2Hourly(r.Region, r.Type)
			case r.Kind == "address" && r.AttachedTo == "":
				service = ec2Other
				hourly, err = cat.EIPHourly(r.Region)
			default:
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for d := 1; d <= 5; d++ {
				day := today.AddDate(0, 0, -d).Format(time.DateOnly)
				byDim[strings.Join([]string{day, f.account, service, r.Region}, "|")] += 24 * hourly
				byTag[strings.Join([]string{day, f.account, r.Tags["team"]}, "|")] += 24 * hourly
			}
		}
	}
	return byDim, byTag
}

func checkRecords(t *testing.T, got []*sirsiv1.CostRecord, byDim, byTag map[string]float64) {
	t.Helper()
	gotDim, gotTag := map[string]float64{}, map[string]float64{}
	for _, r := range got {
		if r.GetAmount().GetCurrencyCode() != "USD" {
			t.Errorf("record %v: currency %q", r, r.GetAmount().GetCurrencyCode())
		}
		if len(r.GetTags()) > 0 {
			if r.GetService() != "" || r.GetRegion() != "" || len(r.GetTags()) != 1 {
				t.Errorf("tag record %v carries more than its tag", r)
			}
			gotTag[strings.Join([]string{r.GetDay(), r.GetAccountId(), r.GetTags()["team"]}, "|")] += money.FloatOr(r.GetAmount(), math.NaN())
			continue
		}
		gotDim[strings.Join([]string{r.GetDay(), r.GetAccountId(), r.GetService(), r.GetRegion()}, "|")] += money.FloatOr(r.GetAmount(), math.NaN())
	}
	for name, pair := range map[string][2]map[string]float64{"dimension": {gotDim, byDim}, "tag": {gotTag, byTag}} {
		g, w := pair[0], pair[1]
		if len(g) != len(w) {
			t.Errorf("%d %s groups, want %d:\n got %v\nwant %v", len(g), name, len(w), g, w)
		}
		for k, v := range w {
			if math.Abs(g[k]-v) > 1e-6 {
				t.Errorf("%s group %s: %v, want %v", name, k, g[k], v)
			}
		}
	}
}

func newCosts(t *testing.T, o CostOptions) *Costs {
	t.Helper()
	c, err := NewCosts(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCostsPullMatchesTheBill(t *testing.T) {
	clock := awssim.NewManualClock(epoch)
	sim, url := startSim(t, awssim.Options{Clock: clock, Backfill: 10 * 24 * time.Hour, Throttle: awssim.ThrottleOptions{Disabled: true}})
	byDim, byTag := billFleet(t, sim, epoch.Truncate(24*time.Hour))
	cfg, counted := loadConfig(t, url, awsclient.Options{})
	dir := t.TempDir()
	o := CostOptions{Config: cfg, CacheDir: dir, TagKeys: []string{"team"}, Clock: clock.Now}
	recs, fresh, err := newCosts(t, o).Pull(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	if !fresh {
		t.Error("first pull reported as cached")
	}
	checkRecords(t, recs, byDim, byTag)
	// One call to list accounts, one per account, one per tag key.
	const wantCalls = 1 + 2 + 1
	if n := counted.count("GetCostAndUsage"); n != wantCalls {
		t.Errorf("%d GetCostAndUsage calls, want %d", n, wantCalls)
	}
	info, err := os.Stat(filepath.Join(dir, cacheFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v, want 0600", info.Mode().Perm())
	}

	clock.Advance(time.Hour)
	again, fresh, err := newCosts(t, o).Pull(context.Background(), 5)
	if err != nil || fresh {
		t.Fatalf("pull after a restart within MinInterval: fresh=%v err=%v, want the cached answer", fresh, err)
	}
	checkRecords(t, again, byDim, byTag)
	if n := counted.count("GetCostAndUsage"); n != wantCalls {
		t.Errorf("%d GetCostAndUsage calls after the cached pull, want still %d", n, wantCalls)
	}
}

func TestCostsCacheWithinMinInterval(t *testing.T) {
	clock := awssim.NewManualClock(epoch)
	sim, url := startSim(t, awssim.Options{Clock: clock, Backfill: 10 * 24 * time.Hour, Throttle: awssim.ThrottleOptions{Disabled: true}})
	billFleet(t, sim, epoch.Truncate(24*time.Hour))
	cfg, counted := loadConfig(t, url, awsclient.Options{})
	reg := prometheus.NewRegistry()
	c := newCosts(t, CostOptions{Config: cfg, CacheDir: t.TempDir(), MinInterval: 2 * time.Hour, Clock: clock.Now, Registerer: reg})
	pull := func(days int) bool {
		t.Helper()
		_, fresh, err := c.Pull(context.Background(), days)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	steps := []struct {
		advance time.Duration
		days    int
		fresh   bool
		calls   int
	}{
		{0, 5, true, 3},
		{time.Hour, 5, false, 3},
		{59 * time.Minute, 5, false, 3},
		{0, 7, true, 6}, // other days: asked again
		{2 * time.Hour, 7, true, 9},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if got := pull(s.days); got != s.fresh {
			t.Errorf("step %d: fresh=%v, want %v", i, got, s.fresh)
		}
		if n := counted.count("GetCostAndUsage"); n != s.calls {
			t.Errorf("step %d: %d calls so far, want %d", i, n, s.calls)
		}
	}
	if got := counterValue(t, reg, "sirsi_monitor_cost_explorer_requests_total"); got != 9 {
		t.Errorf("requests metric %v, want 9", got)
	}
}

func TestCostsCorruptCacheIsIgnored(t *testing.T) {
	clock := awssim.NewManualClock(epoch)
	sim, url := startSim(t, awssim.Options{Clock: clock, Backfill: 10 * 24 * time.Hour, Throttle: awssim.ThrottleOptions{Disabled: true}})
	byDim, byTag := billFleet(t, sim, epoch.Truncate(24*time.Hour))
	cfg, counted := loadConfig(t, url, awsclient.Options{})
	for name, content := range map[string]string{
		"garbage":       "{\x00not json",
		"truncated":     `{"version":1,"pulled_at":"2026-03-04T11:00:00Z","days":5,"tag_keys":["team"],"records":[{"day":"2026-03-0`,
		"wrong version": fmt.Sprintf(`{"version":99,"pulled_at":%q,"days":5,"tag_keys":["team"],"records":[]}`, epoch.Format(time.RFC3339)),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, cacheFile), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			before := counted.count("GetCostAndUsage")
			c := newCosts(t, CostOptions{Config: cfg, CacheDir: dir, TagKeys: []string{"team"}, Clock: clock.Now, Logger: bufferLogger(&logs)})
			recs, fresh, err := c.Pull(context.Background(), 5)
			if err != nil {
				t.Fatal(err)
			}
			if !fresh || counted.count("GetCostAndUsage") == before {
				t.Error("a corrupt cache was used instead of pulling afresh")
			}
			checkRecords(t, recs, byDim, byTag)
			if !strings.Contains(logs.String(), "[WARN]") || !strings.Contains(logs.String(), "ignoring the cost cache") {
				t.Errorf("no warning about the cache in the log:\n%s", logs.String())
			}
		})
	}
}

// Cost Explorer answers a burst over its 5 requests a second (scaled here
// to 1) with LimitExceededException; the pull waits and still answers in
// full. The simulator's buckets refill on its clock, so this test runs on
// the wall clock.
func TestCostsLimitExceededIsRetried(t *testing.T) {
	sim, url := startSim(t, awssim.Options{Backfill: 10 * 24 * time.Hour, Throttle: awssim.ThrottleOptions{Scale: 0.2}})
	byDim, byTag := billFleet(t, sim, sim.Now().Truncate(24*time.Hour))
	reg := prometheus.NewRegistry()
	m, err := awsclient.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := loadConfig(t, url, awsclient.Options{Metrics: m, RetryMode: "standard", MaxBackoff: time.Second})
	c := newCosts(t, CostOptions{Config: cfg, CacheDir: t.TempDir(), TagKeys: []string{"team"}, Clock: sim.Now})
	c.backoff = awsclient.Backoff{Base: 100 * time.Millisecond, Max: time.Second}
	recs, _, err := c.Pull(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	if n := counterValue(t, reg, "sirsi_agent_aws_throttles_total"); n == 0 {
		t.Fatal("Cost Explorer never answered LimitExceededException: the test cannot tell retries work")
	}
	checkRecords(t, recs, byDim, byTag)
}

func TestNewCostsValidates(t *testing.T) {
	for want, o := range map[string]CostOptions{
		"cache_dir":    {},
		"min_interval": {CacheDir: t.TempDir(), MinInterval: -time.Second},
		"tag_keys[1]":  {CacheDir: t.TempDir(), TagKeys: []string{"team", "team"}},
		"tag_keys[0]":  {CacheDir: t.TempDir(), TagKeys: []string{"a$b"}},
	} {
		if _, err := NewCosts(o); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want one naming %s", o, err, want)
		}
	}
	c := newCosts(t, CostOptions{CacheDir: t.TempDir()})
	for _, days := range []int{0, 401} {
		if _, _, err := c.Pull(context.Background(), days); err == nil || !strings.Contains(err.Error(), "days") {
			t.Errorf("days %d: error %v, want one naming days", days, err)
		}
	}
}
