package controlplane

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// forecastWindowDays is the trailing window the forecast averages.
const forecastWindowDays = 7

// GetCostSummary aggregates stored cost records; see the package doc for
// the forecast.
func (s *Server) GetCostSummary(ctx context.Context, req *sirsiv1.GetCostSummaryRequest) (*sirsiv1.GetCostSummaryResponse, error) {
	rng, err := validateGetCostSummary(req)
	if err != nil {
		return nil, err
	}
	monthly := req.Granularity == sirsiv1.Granularity_GRANULARITY_MONTHLY
	ts := s.st.Tenant(req.TenantId)
	rows, err := ts.SumCosts(ctx, store.CostQuery{
		Start: rng.start, End: rng.end, Monthly: monthly, GroupBy: req.GroupBy, CloudAccountID: req.CloudAccountId,
	})
	if err != nil {
		return nil, s.storeError(ctx, "sum costs", err)
	}
	resp, err := summarise(rows, rng, monthly)
	if err != nil {
		return nil, s.storeError(ctx, "sum costs", err)
	}
	if resp.ForecastMonthEnd, err = s.forecast(ctx, ts, req.CloudAccountId); err != nil {
		return nil, s.storeError(ctx, "forecast costs", err)
	}
	return resp, nil
}

// oneCurrency returns the currency every row shares; amounts in two
// currencies cannot be added.
func oneCurrency(rows []store.CostRow) (string, error) {
	cur := ""
	for _, r := range rows {
		switch {
		case r.Currency == "":
			// Unknown amounts alone: no currency to add up.
		case cur == "":
			cur = r.Currency
		case r.Currency != cur:
			return "", fmt.Errorf("cost records in %s and %s cannot be added", cur, r.Currency)
		}
	}
	return cur, nil
}

// summarise turns store rows into periods and overall per-group totals,
// each list of items largest first (ties by key, so output is stable).
// Amounts add up exactly in micro-units.
func summarise(rows []store.CostRow, rng costRange, monthly bool) (*sirsiv1.GetCostSummaryResponse, error) {
	resp := &sirsiv1.GetCostSummaryResponse{}
	cur, err := oneCurrency(rows)
	if err != nil || len(rows) == 0 {
		return resp, err
	}
	if cur == "" {
		// Only unknown amounts in the range.
		for _, r := range rows {
			resp.UnknownRecords += r.Unknown
		}
		return resp, nil
	}
	overall := map[string]int64{}
	periods := map[time.Time]map[string]int64{}
	var total int64
	for _, r := range rows {
		resp.UnknownRecords += r.Unknown
		if r.Currency == "" {
			continue
		}
		start := r.PeriodStart.UTC()
		if periods[start] == nil {
			periods[start] = map[string]int64{}
		}
		periods[start][r.Key] += r.AmountMicros
		overall[r.Key] += r.AmountMicros
		total += r.AmountMicros
	}
	resp.Total = money.Micros(total, cur)
	resp.Items = sortedItems(overall, cur)
	starts := make([]time.Time, 0, len(periods))
	for t := range periods {
		starts = append(starts, t)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	for _, st := range starts {
		end := st.AddDate(0, 0, 1)
		if monthly {
			end = time.Date(st.Year(), st.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		}
		// Calendar months are cut to the asked range.
		from, to := st, end
		if from.Before(rng.start) {
			from = rng.start
		}
		if to.After(rng.end) {
			to = rng.end
		}
		var sum int64
		for _, v := range periods[st] {
			sum += v
		}
		resp.Periods = append(resp.Periods, &sirsiv1.CostPeriod{Start: from.Format(validation.DateLayout), End: to.Format(validation.DateLayout),
			Total: money.Micros(sum, cur), Items: sortedItems(periods[st], cur)})
	}
	return resp, nil
}

func sortedItems(m map[string]int64, cur string) []*sirsiv1.CostItem {
	items := make([]*sirsiv1.CostItem, 0, len(m))
	for k, v := range m {
		items = append(items, &sirsiv1.CostItem{Key: k, Amount: money.Micros(v, cur)})
	}
	sort.Slice(items, func(i, j int) bool {
		if a, b := items[i].Amount.Micros, items[j].Amount.Micros; a != b {
			return a > b
		}
		return items[i].Key < items[j].Key
	})
	return items
}

// forecast is month-to-date spend (up to yesterday, today being
// incomplete) plus the average of the trailing days that have records
// times the days left in the month, today included; nil (unknown) when
// there are no records to base it on.
func (s *Server) forecast(ctx context.Context, ts store.TenantStore, cloudAccountID string) (*sirsiv1.Money, error) {
	now := s.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	nextMonth := monthStart.AddDate(0, 1, 0)
	windowStart := today.AddDate(0, 0, -forecastWindowDays)
	from := monthStart
	if windowStart.Before(from) {
		from = windowStart
	}
	if !today.After(from) {
		return nil, nil
	}
	rows, err := ts.SumCosts(ctx, store.CostQuery{Start: from, End: today, CloudAccountID: cloudAccountID})
	if err != nil {
		return nil, err
	}
	return forecastFrom(rows, today, monthStart, windowStart, nextMonth)
}

func forecastFrom(rows []store.CostRow, today, monthStart, windowStart, nextMonth time.Time) (*sirsiv1.Money, error) {
	cur, err := oneCurrency(rows)
	if err != nil || cur == "" {
		return nil, err
	}
	var mtd, windowSum int64
	days := map[time.Time]bool{}
	for _, r := range rows {
		if r.Currency == "" {
			continue
		}
		day := r.PeriodStart.UTC()
		if !day.Before(monthStart) {
			mtd += r.AmountMicros
		}
		if !day.Before(windowStart) {
			windowSum += r.AmountMicros
			days[day] = true
		}
	}
	var rest float64
	if len(days) > 0 {
		rest = float64(windowSum) / float64(len(days)) * nextMonth.Sub(today).Hours() / 24
	}
	return money.Micros(mtd+int64(math.RoundToEven(rest)), cur), nil
}
