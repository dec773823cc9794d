package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// CostOptions configure a Costs.
type CostOptions struct {
	// Config reaches Cost Explorer, which is global: its region is forced
	// to us-east-1.
	Config aws.Config
	// CacheDir keeps the last answer (0600, written atomically) so a
	// restart does not pay for another pull. Required.
	CacheDir string
	// MinInterval is how old the cached answer may be before Pull asks
	// again; default 6h. Every GetCostAndUsage request is billed.
	MinInterval time.Duration
	// TagKeys are cost-allocation tag keys to also group by, one extra
	// request each.
	TagKeys    []string
	Logger     hclog.Logger
	Registerer prometheus.Registerer
	Clock      func() time.Time
}

// Costs pulls daily costs from Cost Explorer, through an on-disk cache.
type Costs struct {
	ce          *costexplorer.Client
	path        string
	minInterval time.Duration
	tagKeys     []string
	log         hclog.Logger
	clock       func() time.Time
	backoff     awsclient.Backoff

	mu sync.Mutex

	requests prometheus.Counter
	retries  prometheus.Counter
	cacheHit prometheus.Counter
}

// cacheFile is the name of the cache inside CacheDir.
const cacheFile = "cost-explorer.json"

// cacheVersion changes when the cache's layout does; other versions are
// ignored.
const cacheVersion = 3

// NewCosts checks o and registers the pull metrics.
func NewCosts(o CostOptions) (*Costs, error) {
	if o.CacheDir == "" {
		return nil, errors.New("cost options: cache_dir: required (every Cost Explorer request is billed; answers are cached there)")
	}
	if o.MinInterval < 0 {
		return nil, fmt.Errorf("cost options: min_interval %v: must not be negative", o.MinInterval)
	}
	if o.MinInterval == 0 {
		o.MinInterval = 6 * time.Hour
	}
	seen := map[string]bool{}
	for i, k := range o.TagKeys {
		if k == "" || len(k) > 128 || strings.Contains(k, "$") {
			return nil, fmt.Errorf("cost options: tag_keys[%d] %q: must be 1 to 128 characters without '$'", i, k)
		}
		if seen[k] {
			return nil, fmt.Errorf("cost options: tag_keys[%d] %q: listed twice", i, k)
		}
		seen[k] = true
	}
	if err := os.MkdirAll(o.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("cost options: cache_dir %q: %w", o.CacheDir, err)
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	c := &Costs{
		ce:   costexplorer.NewFromConfig(o.Config, func(co *costexplorer.Options) { co.Region = "us-east-1" }),
		path: filepath.Join(o.CacheDir, cacheFile), minInterval: o.MinInterval, tagKeys: slices.Clone(o.TagKeys),
		log: o.Logger.Named("costs"), clock: o.Clock, backoff: awsclient.DefaultBackoff,
		requests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sirsi_monitor_cost_explorer_requests_total",
			Help: "GetCostAndUsage requests made (each one is billed by AWS).",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sirsi_monitor_cost_explorer_throttle_retries_total",
			Help: "GetCostAndUsage requests retried after the SDK gave up on a rate limit.",
		}),
		cacheHit: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sirsi_monitor_cost_cache_hits_total",
			Help: "Cost pulls answered from the on-disk cache.",
		}),
	}
	if o.Registerer != nil {
		for _, m := range []prometheus.Collector{c.requests, c.retries, c.cacheHit} {
			if err := o.Registerer.Register(m); err != nil {
				return nil, fmt.Errorf("registering cost metrics: %w", err)
			}
		}
	}
	return c, nil
}

// cached is the cache file's content.
type cached struct {
	Version  int          `json:"version"`
	PulledAt time.Time    `json:"pulled_at"`
	Days     int          `json:"days"`
	TagKeys  []string     `json:"tag_keys"`
	Records  []cachedCost `json:"records"`
}

type cachedCost struct {
	Day     string            `json:"day"`
	Account string            `json:"account"`
	Service string            `json:"service,omitempty"`
	Region  string            `json:"region,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	// Micro-units of Currency, parsed exactly from Cost Explorer's decimal;
	// absent when that decimal could not be read (unknown).
	AmountMicros *int64 `json:"amount_micros,omitempty"`
	Currency     string `json:"currency"`
}

// Pull returns daily cost records for the last days complete UTC days,
// per linked account, service and region, plus one cut per tag key
// (those records carry the tag in Tags and leave Service and Region
// empty). fresh is false when the answer came from the cache, which is used
// while it is younger than MinInterval and asked for the same days and tag
// keys.
func (c *Costs) Pull(ctx context.Context, days int) (records []*sirsiv1.CostRecord, fresh bool, err error) {
	// Cost Explorer keeps 14 months; 400 days stays inside that.
	if days < 1 || days > 400 {
		return nil, false, fmt.Errorf("pulling costs: days %d: must be between 1 and 400", days)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	if ch, ok := c.load(); ok && ch.Days == days && slices.Equal(ch.TagKeys, c.tagKeys) &&
		now.Sub(ch.PulledAt) < c.minInterval && !ch.PulledAt.After(now) {
		c.cacheHit.Inc()
		return fromCache(ch.Records), false, nil
	}
	today := now.UTC().Truncate(24 * time.Hour)
	period := &cetypes.DateInterval{Start: aws.String(today.AddDate(0, 0, -days).Format(time.DateOnly)), End: aws.String(today.Format(time.DateOnly))}
	recs, err := c.pull(ctx, period)
	if err != nil {
		return nil, false, err
	}
	if err := c.store(cached{Version: cacheVersion, PulledAt: now, Days: days, TagKeys: c.tagKeys, Records: recs}); err != nil {
		c.log.Warn("could not cache the cost answer; the next pull will ask Cost Explorer again", "error", err)
	}
	return fromCache(recs), true, nil
}

func fromCache(rs []cachedCost) []*sirsiv1.CostRecord {
	out := make([]*sirsiv1.CostRecord, len(rs))
	for i, r := range rs {
		out[i] = &sirsiv1.CostRecord{Day: r.Day, AccountId: r.Account, Service: r.Service, Region: r.Region, Tags: r.Tags}
		if r.AmountMicros != nil {
			out[i].Amount = money.Micros(*r.AmountMicros, r.Currency)
		}
	}
	return out
}

func (c *Costs) pull(ctx context.Context, period *cetypes.DateInterval) ([]cachedCost, error) {
	dim := func(k cetypes.Dimension) cetypes.GroupDefinition {
		return cetypes.GroupDefinition{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String(string(k))}
	}
	var accounts []string
	err := c.query(ctx, period, nil, []cetypes.GroupDefinition{dim(cetypes.DimensionLinkedAccount)}, func(_ string, keys []string, _ *int64, _ string) {
		if !slices.Contains(accounts, keys[0]) {
			accounts = append(accounts, keys[0])
		}
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(accounts)
	var out []cachedCost
	for _, acct := range accounts {
		filter := &cetypes.Expression{Dimensions: &cetypes.DimensionValues{Key: cetypes.DimensionLinkedAccount, Values: []string{acct}}}
		err := c.query(ctx, period, filter, []cetypes.GroupDefinition{dim(cetypes.DimensionService), dim(cetypes.DimensionRegion)},
			func(day string, keys []string, micros *int64, unit string) {
				out = append(out, cachedCost{Day: day, Account: acct, Service: keys[0], Region: keys[1], AmountMicros: micros, Currency: unit})
			})
		if err != nil {
			return nil, err
		}
	}
	for _, key := range c.tagKeys {
		groups := []cetypes.GroupDefinition{dim(cetypes.DimensionLinkedAccount), {Type: cetypes.GroupDefinitionTypeTag, Key: aws.String(key)}}
		err := c.query(ctx, period, nil, groups, func(day string, keys []string, micros *int64, unit string) {
			// CE answers a tag group as "key$value"; "key$" is spend without the tag.
			value := strings.TrimPrefix(keys[1], key+"$")
			out = append(out, cachedCost{Day: day, Account: keys[0], Tags: map[string]string{key: value}, AmountMicros: micros, Currency: unit})
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

const costMetric = "UnblendedCost"

// cePage is one page of a GetCostAndUsage or GetCostAndUsageWithResources
// answer (the two share their result shapes, not their Go types).
type cePage struct {
	results []cetypes.ResultByTime
	next    *string
}

// ceEmit receives one group's amount on one day: micros is nil when Cost
// Explorer's amount could not be read (unknown, not 0).
type ceEmit func(day string, keys []string, micros *int64, unit string)

// query runs one GetCostAndUsage over every page, calling emit per group
// and day.
func (c *Costs) query(ctx context.Context, period *cetypes.DateInterval, filter *cetypes.Expression, groups []cetypes.GroupDefinition, emit ceEmit) error {
	in := &costexplorer.GetCostAndUsageInput{TimePeriod: period, Granularity: cetypes.GranularityDaily,
		Metrics: []string{costMetric}, GroupBy: groups, Filter: filter}
	return c.pages(ctx, "GetCostAndUsage", groups, func(token *string) (cePage, error) {
		in.NextPageToken = token
		out, err := c.ce.GetCostAndUsage(ctx, in)
		if err != nil {
			return cePage{}, err
		}
		return cePage{out.ResultsByTime, out.NextPageToken}, nil
	}, emit)
}

// pages calls one Cost Explorer operation over every page, retrying
// throttles, and calls emit per group and day. An amount that is not a
// decimal is logged, naming the group, day and field, and emitted as
// unknown: one bad figure does not lose the rest of the answer.
func (c *Costs) pages(ctx context.Context, op string, groups []cetypes.GroupDefinition, call func(token *string) (cePage, error), emit ceEmit) error {
	var token *string
	for {
		var page cePage
		err := retryThrottles(ctx, c.backoff, c.log, func() error {
			c.requests.Inc()
			var err error
			page, err = call(token)
			return err
		}, c.retries)
		if err != nil {
			return fmt.Errorf("%s grouped by %s: %w", op, groupNames(groups), err)
		}
		for _, r := range page.results {
			if r.TimePeriod == nil {
				continue
			}
			day := aws.ToString(r.TimePeriod.Start)
			for _, g := range r.Groups {
				if len(g.Keys) != len(groups) {
					return fmt.Errorf("%s grouped by %s answered a group with keys %v", op, groupNames(groups), g.Keys)
				}
				m, ok := g.Metrics[costMetric]
				if !ok {
					continue
				}
				var micros *int64
				if amount, err := money.ParseDecimal(aws.ToString(m.Amount)); err != nil {
					c.log.Warn("Cost Explorer amount unreadable: left unknown", "operation", op, "group", strings.Join(g.Keys, ","), "day", day,
						"field", "Metrics."+costMetric+".Amount", "amount", aws.ToString(m.Amount), "error", err)
				} else {
					micros = &amount
				}
				emit(day, g.Keys, micros, aws.ToString(m.Unit))
			}
		}
		if aws.ToString(page.next) == "" {
			return nil
		}
		token = page.next
	}
}

func groupNames(gs []cetypes.GroupDefinition) string {
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = string(g.Type) + ":" + aws.ToString(g.Key)
	}
	return strings.Join(names, ",")
}

// load reads the cache; a missing, unreadable or corrupt file is no cache.
func (c *Costs) load() (cached, bool) {
	b, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return cached{}, false
	}
	if err != nil {
		c.log.Warn("ignoring the cost cache: cannot read it", "path", c.path, "error", err)
		return cached{}, false
	}
	var ch cached
	if err := json.Unmarshal(b, &ch); err != nil {
		c.log.Warn("ignoring the cost cache: corrupt", "path", c.path, "error", err)
		return cached{}, false
	}
	if ch.Version != cacheVersion {
		c.log.Warn("ignoring the cost cache: written by another version", "path", c.path, "version", ch.Version)
		return cached{}, false
	}
	return ch, true
}

// store writes the cache atomically: a crash leaves the old file or the
// new one, never half of one.
func (c *Costs) store(ch cached) error {
	b, err := json.Marshal(ch)
	if err != nil {
		return fmt.Errorf("encoding the cost cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), cacheFile+".*")
	if err != nil {
		return fmt.Errorf("writing the cost cache: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing the cost cache: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing the cost cache: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing the cost cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the cost cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return fmt.Errorf("writing the cost cache: %w", err)
	}
	return nil
}
