package controlplane

import (
	"context"
	"sort"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

const (
	defaultCurrency = "USD"
	// forecastWindowDays is the trailing window the forecast averages.
	forecastWindowDays = 7
)

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
	resp := summarise(rows, rng, monthly)
	forecast, currency, err := s.forecast(ctx, ts, req.CloudAccountId)
	if err != nil {
		return nil, s.storeError(ctx, "forecast costs", err)
	}
	resp.ForecastMonthEnd = forecast
	if resp.Currency == "" {
		resp.Currency = currency
	}
	return resp, nil
}

// summarise turns store rows into periods and overall per-group totals,
// each list of items largest first (ties by key, so output is stable).
func summarise(rows []store.CostRow, rng costRange, monthly bool) *sirsiv1.GetCostSummaryResponse {
	resp := &sirsiv1.GetCostSummaryResponse{}
	overall := map[string]float64{}
	periods := map[time.Time]map[string]float64{}
	for _, r := range rows {
		if resp.Currency == "" {
			resp.Currency = r.Currency
		}
		start := r.PeriodStart.UTC()
		if periods[start] == nil {
			periods[start] = map[string]float64{}
		}
		periods[start][r.Key] += r.Amount
		overall[r.Key] += r.Amount
		resp.Total += r.Amount
	}
	resp.Items = sortedItems(overall)
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
		p := &sirsiv1.CostPeriod{Start: from.Format(validation.DateLayout), End: to.Format(validation.DateLayout), Items: sortedItems(periods[st])}
		for _, it := range p.Items {
			p.Total += it.Amount
		}
		resp.Periods = append(resp.Periods, p)
	}
	return resp
}

func sortedItems(m map[string]float64) []*sirsiv1.CostItem {
	items := make([]*sirsiv1.CostItem, 0, len(m))
	for k, v := range m {
		items = append(items, &sirsiv1.CostItem{Key: k, Amount: v})
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].Amount != items[j].Amount {
			return items[i].Amount > items[j].Amount
		}
		return items[i].Key < items[j].Key
	})
	return items
}

// forecast is month-to-date spend (up to yesterday, today being
// incomplete) plus the average of the trailing days that have records
// times the days left in the month, today included.
func (s *Server) forecast(ctx context.Context, ts store.TenantStore, cloudAccountID string) (float64, string, error) {
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
		return 0, defaultCurrency, nil
	}
	rows, err := ts.SumCosts(ctx, store.CostQuery{Start: from, End: today, CloudAccountID: cloudAccountID})
	if err != nil {
		return 0, "", err
	}
	f, cur := forecastFrom(rows, today, monthStart, windowStart, nextMonth)
	return f, cur, nil
}

func forecastFrom(rows []store.CostRow, today, monthStart, windowStart, nextMonth time.Time) (float64, string) {
	var mtd, windowSum float64
	currency := defaultCurrency
	days := map[time.Time]bool{}
	for _, r := range rows {
		if r.Currency != "" {
			currency = r.Currency
		}
		day := r.PeriodStart.UTC()
		if !day.Before(monthStart) {
			mtd += r.Amount
		}
		if !day.Before(windowStart) {
			windowSum += r.Amount
			days[day] = true
		}
	}
	avg := 0.0
	if len(days) > 0 {
		avg = windowSum / float64(len(days))
	}
	remaining := nextMonth.Sub(today).Hours() / 24
	return mtd + avg*remaining, currency
}
