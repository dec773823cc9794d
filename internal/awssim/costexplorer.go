package awssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsquota"
)

// Cost Explorer speaks awsJson1_1 with target prefix
// AWSInsightsIndexService.
const ceTargetPrefix = "AWSInsightsIndexService."

// ceBucket throttles Cost Explorer per account. CE answers an exceeded rate
// with LimitExceededException (not ThrottlingException), so the handler
// checks this bucket itself before the generic admission.
var ceBucket = awsquota.CostExplorer

// ceMaxGroupsPerPage bounds the groups of one GetCostAndUsage page; the
// rest follows through NextPageToken.
var ceMaxGroupsPerPage = 1000

// ceRetention is how far back Cost Explorer answers (14 months of history
// including the current month is what CE keeps by default; 13 full months
// plus the current one).
const ceRetention = 14 * 31 * 24 * time.Hour

func init() {
	registerService(serviceDef{name: "ce", protocol: ProtoJSON11, handle: (*Sim).serveCostExplorer})
}

func ceValidation(format string, args ...any) *APIError {
	return Errorf("ValidationException", format, args...)
}

func (s *Sim) serveCostExplorer(rc *Request) {
	rc.Protocol = ProtoJSON11
	action, ok := strings.CutPrefix(rc.HTTP.Header.Get("X-Amz-Target"), ceTargetPrefix)
	if !ok || !strings.HasPrefix(rc.HTTP.Header.Get("Content-Type"), "application/x-amz-json-1.1") {
		rc.WriteError(Errorf("UnknownOperationException", "Cost Explorer requests are POST / with Content-Type application/x-amz-json-1.1 and X-Amz-Target %s<Operation>", ceTargetPrefix))
		return
	}
	op, ok := ceOperations[action]
	if !ok {
		rc.WriteError(Errorf("UnknownOperationException", "operation %q is not simulated; Cost Explorer serves %s", action, strings.Join(slices.Sorted(maps.Keys(ceOperations)), ", ")))
		return
	}
	rc.Action = action
	if !s.throttle.allow(rc, ceBucket, 1) {
		rc.WriteError(Errorf("LimitExceededException", "You have exceeded the rate limit. Try again later."))
		return
	}
	if !s.admit(rc, action) {
		return
	}
	if err := op(s, rc); err != nil {
		rc.WriteError(err)
	}
}

// ceOperations are the Cost Explorer operations the simulator serves, by
// X-Amz-Target operation name; the files implementing others add theirs.
var ceOperations = map[string]func(*Sim, *Request) *APIError{
	"GetCostAndUsage":              func(s *Sim, rc *Request) *APIError { return s.ceCostAndUsage(rc, false) },
	"GetCostAndUsageWithResources": func(s *Sim, rc *Request) *APIError { return s.ceCostAndUsage(rc, true) },
	"GetCostForecast":              (*Sim).ceGetCostForecast,
}

type ceDateInterval struct {
	Start string `json:"Start"`
	End   string `json:"End"`
}

type ceExpression struct {
	Or         []ceExpression `json:"Or"`
	And        []ceExpression `json:"And"`
	Not        *ceExpression  `json:"Not"`
	Dimensions *ceKeyValues   `json:"Dimensions"`
	Tags       *ceKeyValues   `json:"Tags"`
	// CostCategories is decoded only to reject it by name.
	CostCategories json.RawMessage `json:"CostCategories"`
}

type ceKeyValues struct {
	Key          string   `json:"Key"`
	Values       []string `json:"Values"`
	MatchOptions []string `json:"MatchOptions"`
}

type ceGroupDef struct {
	Type string `json:"Type"`
	Key  string `json:"Key"`
}

type ceUsageInput struct {
	TimePeriod    *ceDateInterval `json:"TimePeriod"`
	Granularity   string          `json:"Granularity"`
	Filter        *ceExpression   `json:"Filter"`
	Metrics       []string        `json:"Metrics"`
	GroupBy       []ceGroupDef    `json:"GroupBy"`
	NextPageToken string          `json:"NextPageToken"`
}

type ceForecastInput struct {
	TimePeriod              *ceDateInterval `json:"TimePeriod"`
	Metric                  string          `json:"Metric"`
	Granularity             string          `json:"Granularity"`
	Filter                  *ceExpression   `json:"Filter"`
	PredictionIntervalLevel *int            `json:"PredictionIntervalLevel"`
}

func decodeCE(rc *Request, v any) *APIError {
	body := bytes.TrimSpace(rc.Body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return Errorf("SerializationException", "could not decode the request body: %v", err)
	}
	return nil
}

// ceDimensions are the dimensions the simulator can group and filter by.
var ceDimensions = map[string]func(c *charge) string{
	"SERVICE":        func(c *charge) string { return c.service },
	"REGION":         func(c *charge) string { return c.region },
	"LINKED_ACCOUNT": func(c *charge) string { return c.account },
	"USAGE_TYPE":     func(c *charge) string { return c.usageType },
	"INSTANCE_TYPE":  func(c *charge) string { return c.instanceType },
	// RESOURCE_ID is answered by GetCostAndUsageWithResources only.
	"RESOURCE_ID": func(c *charge) string { return c.resourceID },
}

func dimensionNames() string {
	names := make([]string, 0, len(ceDimensions))
	for k := range ceDimensions {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkExpression validates a filter: every node holds exactly one of
// And, Or, Not, Dimensions, Tags.
func checkExpression(e *ceExpression, path string) *APIError {
	n := 0
	for _, set := range []bool{e.Or != nil, e.And != nil, e.Not != nil, e.Dimensions != nil, e.Tags != nil, e.CostCategories != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return ceValidation("%s: an expression must have exactly one of And, Or, Not, Dimensions, Tags or CostCategories", path)
	}
	switch {
	case e.CostCategories != nil:
		return ceValidation("%s.CostCategories: cost categories are not simulated", path)
	case e.Not != nil:
		return checkExpression(e.Not, path+".Not")
	case e.And != nil || e.Or != nil:
		list, name := e.And, "And"
		if e.Or != nil {
			list, name = e.Or, "Or"
		}
		if len(list) < 2 {
			return ceValidation("%s.%s: needs at least two expressions", path, name)
		}
		for i := range list {
			if err := checkExpression(&list[i], fmt.Sprintf("%s.%s[%d]", path, name, i)); err != nil {
				return err
			}
		}
	case e.Dimensions != nil:
		if _, ok := ceDimensions[e.Dimensions.Key]; !ok {
			return ceValidation("%s.Dimensions.Key %q: the simulator filters on %s", path, e.Dimensions.Key, dimensionNames())
		}
		if len(e.Dimensions.Values) == 0 {
			return ceValidation("%s.Dimensions.Values: at least one value is required", path)
		}
		return checkMatchOptions(e.Dimensions.MatchOptions, path+".Dimensions", false)
	case e.Tags != nil:
		if e.Tags.Key == "" {
			return ceValidation("%s.Tags.Key: required", path)
		}
		return checkMatchOptions(e.Tags.MatchOptions, path+".Tags", true)
	}
	return nil
}

func checkMatchOptions(opts []string, path string, tags bool) *APIError {
	for _, o := range opts {
		switch o {
		case "EQUALS":
		case "ABSENT":
			if !tags {
				return ceValidation("%s.MatchOptions: ABSENT applies to tags only", path)
			}
		default:
			return ceValidation("%s.MatchOptions %q: the simulator supports EQUALS (and ABSENT for tags)", path, o)
		}
	}
	return nil
}

func (e *ceExpression) match(c *charge) bool {
	switch {
	case e.Not != nil:
		return !e.Not.match(c)
	case e.And != nil:
		for i := range e.And {
			if !e.And[i].match(c) {
				return false
			}
		}
		return true
	case e.Or != nil:
		for i := range e.Or {
			if e.Or[i].match(c) {
				return true
			}
		}
		return false
	case e.Dimensions != nil:
		return slices.Contains(e.Dimensions.Values, ceDimensions[e.Dimensions.Key](c))
	case e.Tags != nil:
		v, ok := c.tags[e.Tags.Key]
		if slices.Contains(e.Tags.MatchOptions, "ABSENT") && !ok {
			return true
		}
		return ok && slices.Contains(e.Tags.Values, v)
	}
	return true
}

// ceMetrics maps GetCostAndUsage metric names to whether they are usage
// (true) or cost. On-demand usage without discounts, credits or
// reservations costs the same blended, unblended, amortized or net.
var ceMetrics = map[string]bool{
	"UnblendedCost": false, "AmortizedCost": false, "BlendedCost": false,
	"NetUnblendedCost": false, "NetAmortizedCost": false, "UsageQuantity": true,
}

// ceForecastMetrics are GetCostForecast's Metric values the simulator can
// forecast (usage forecasts need a usage-type filter on AWS; not simulated).
var ceForecastMetrics = []string{"UNBLENDED_COST", "AMORTIZED_COST", "BLENDED_COST", "NET_UNBLENDED_COST", "NET_AMORTIZED_COST"}

// parsePeriod validates a DateInterval: YYYY-MM-DD dates, Start before End.
func parsePeriod(p *ceDateInterval) (time.Time, time.Time, *APIError) {
	if p == nil {
		return time.Time{}, time.Time{}, ceValidation("TimePeriod is required")
	}
	start, err := time.Parse(time.DateOnly, p.Start)
	if err != nil {
		return time.Time{}, time.Time{}, ceValidation("TimePeriod.Start %q: want YYYY-MM-DD", p.Start)
	}
	end, err := time.Parse(time.DateOnly, p.End)
	if err != nil {
		return time.Time{}, time.Time{}, ceValidation("TimePeriod.End %q: want YYYY-MM-DD", p.End)
	}
	if !start.Before(end) {
		return time.Time{}, time.Time{}, ceValidation("Start date (and hour) should be before end date (and hour)")
	}
	return start, end, nil
}

// buckets splits [start, end) into days or calendar months (UTC).
func buckets(start, end time.Time, granularity string) ([][2]time.Time, *APIError) {
	var step func(time.Time) time.Time
	switch granularity {
	case "DAILY":
		step = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case "MONTHLY":
		step = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC) }
	case "HOURLY":
		return nil, ceValidation("Granularity HOURLY needs hourly granularity opted in on the account; the simulator serves DAILY and MONTHLY")
	case "":
		return nil, ceValidation("Granularity is required: DAILY or MONTHLY")
	default:
		return nil, ceValidation("Granularity %q: want DAILY or MONTHLY", granularity)
	}
	var out [][2]time.Time
	for t := start; t.Before(end); {
		n := minTime(step(t), end)
		out = append(out, [2]time.Time{t, n})
		t = n
	}
	return out, nil
}

// ceAccounts is whose charges a caller sees: the simulator's default
// account acts as the organisation's management account and sees every
// account (consolidated billing, grouped by LINKED_ACCOUNT); any other
// account sees its own. Caller holds s.mu.
func (s *Sim) ceAccounts(caller string) []string {
	if caller != s.opts.AccountID {
		return []string{caller}
	}
	out := make([]string, 0, len(s.accounts))
	for id := range s.accounts {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// ceCharges returns the charges visible to the caller up to now, or
// DataUnavailableException when nothing was ever recorded (as CE answers
// for an account it has no data for yet).
func (s *Sim) ceCharges(rc *Request, filter *ceExpression) ([]charge, *APIError) {
	cat, err := s.prices()
	if err != nil {
		return nil, &APIError{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: err.Error()}
	}
	s.mu.Lock()
	accounts := s.ceAccounts(rc.Account)
	recorded := false
	for _, id := range accounts {
		s.settleAccount(id)
		if a := s.accounts[id]; a != nil && len(a.History) > 0 {
			recorded = true
		}
	}
	var cs []charge
	if recorded {
		cs, err = s.charges(cat, accounts, rc.Now)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, &APIError{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: fmt.Sprintf("pricing the account history: %v", err)}
	}
	if !recorded {
		return nil, Errorf("DataUnavailableException", "Data is not available for account %s yet.", rc.Account)
	}
	if filter != nil {
		cs = slices.DeleteFunc(cs, func(c charge) bool { return !filter.match(&c) })
	}
	return cs, nil
}

type ceMetricValue struct {
	Amount string `json:"Amount"`
	Unit   string `json:"Unit"`
}

type ceGroup struct {
	Keys    []string                 `json:"Keys"`
	Metrics map[string]ceMetricValue `json:"Metrics"`
}

type ceResultByTime struct {
	TimePeriod ceDateInterval           `json:"TimePeriod"`
	Total      map[string]ceMetricValue `json:"Total"`
	Groups     []ceGroup                `json:"Groups"`
	Estimated  bool                     `json:"Estimated"`
}

// ceAmount formats an amount the way CE does: a decimal string.
func ceAmount(v float64) string { return strconv.FormatFloat(v, 'f', 10, 64) }

// ceCostAndUsage answers GetCostAndUsage and, withResources,
// GetCostAndUsageWithResources: the same bill, which only the latter may
// group or filter by RESOURCE_ID (costexplorer_resources.go has its rules).
func (s *Sim) ceCostAndUsage(rc *Request, withResources bool) *APIError {
	var in ceUsageInput
	if err := decodeCE(rc, &in); err != nil {
		return err
	}
	start, end, apiErr := parsePeriod(in.TimePeriod)
	if apiErr != nil {
		return apiErr
	}
	if start.Before(rc.Now.Add(-ceRetention)) {
		return ceValidation("TimePeriod.Start %s: Cost Explorer keeps 14 months of history", in.TimePeriod.Start)
	}
	if withResources {
		if err := s.checkResourceQuery(rc, &in, start); err != nil {
			return err
		}
	} else if mentionsResourceID(&in) {
		return ceValidation("Dimension RESOURCE_ID is not allowed. Use GetCostAndUsageWithResources for resource-level data.")
	}
	bks, apiErr := buckets(start, end, in.Granularity)
	if apiErr != nil {
		return apiErr
	}
	if len(in.Metrics) == 0 {
		return ceValidation("Metrics is required")
	}
	for _, m := range in.Metrics {
		if _, ok := ceMetrics[m]; !ok {
			return ceValidation("Metrics %q: the simulator serves UnblendedCost, AmortizedCost, BlendedCost, NetUnblendedCost, NetAmortizedCost and UsageQuantity", m)
		}
	}
	if len(in.GroupBy) > 2 {
		return ceValidation("GroupBy: at most two group definitions are allowed")
	}
	for i, g := range in.GroupBy {
		switch g.Type {
		case "DIMENSION":
			if _, ok := ceDimensions[g.Key]; !ok {
				return ceValidation("GroupBy[%d].Key %q: the simulator groups by %s", i, g.Key, dimensionNames())
			}
		case "TAG":
			if g.Key == "" {
				return ceValidation("GroupBy[%d].Key: a tag key is required", i)
			}
		default:
			return ceValidation("GroupBy[%d].Type %q: want DIMENSION or TAG (COST_CATEGORY is not simulated)", i, g.Type)
		}
	}
	if in.Filter != nil {
		if err := checkExpression(in.Filter, "Filter"); err != nil {
			return err
		}
	}
	fp := fnv.New64a()
	canon, _ := json.Marshal(struct {
		A ceUsageInput
		C string
	}{ceUsageInput{TimePeriod: in.TimePeriod, Granularity: in.Granularity, Filter: in.Filter, Metrics: in.Metrics, GroupBy: in.GroupBy}, rc.Account + "/" + rc.Action})
	_, _ = fp.Write(canon)
	first := 0
	if in.NextPageToken != "" {
		off, ok := decodePageToken(in.NextPageToken, fp.Sum64())
		if !ok || off >= len(bks) {
			return Errorf("InvalidNextTokenException", "The NextPageToken is invalid or does not belong to this request.")
		}
		first = off
	}
	cs, apiErr := s.ceCharges(rc, in.Filter)
	if apiErr != nil {
		return apiErr
	}
	today := rc.Now.Truncate(24 * time.Hour)
	results := []ceResultByTime{}
	groups := 0
	next := ""
	for i := first; i < len(bks); i++ {
		b := bks[i]
		r := ceResultByTime{
			TimePeriod: ceDateInterval{Start: b[0].Format(time.DateOnly), End: b[1].Format(time.DateOnly)},
			Total:      map[string]ceMetricValue{}, Groups: []ceGroup{}, Estimated: b[1].After(today),
		}
		type sums struct{ cost, usage float64 }
		if len(in.GroupBy) == 0 {
			var t sums
			for j := range cs {
				c, u := cs[j].overlap(b[0], b[1])
				t.cost += c
				t.usage += u
			}
			for _, m := range in.Metrics {
				r.Total[m] = metricValue(m, t.cost, t.usage)
			}
		} else {
			byKey := map[string]*sums{}
			keysOf := map[string][]string{}
			for j := range cs {
				c, u := cs[j].overlap(b[0], b[1])
				if c == 0 && u == 0 {
					continue
				}
				keys := make([]string, len(in.GroupBy))
				for k, g := range in.GroupBy {
					if g.Type == "TAG" {
						keys[k] = g.Key + "$" + cs[j].tags[g.Key]
					} else {
						keys[k] = ceDimensions[g.Key](&cs[j])
					}
				}
				id := strings.Join(keys, "\x00")
				if byKey[id] == nil {
					byKey[id] = &sums{}
					keysOf[id] = keys
				}
				byKey[id].cost += c
				byKey[id].usage += u
			}
			ids := make([]string, 0, len(byKey))
			for id := range byKey {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				g := ceGroup{Keys: keysOf[id], Metrics: map[string]ceMetricValue{}}
				for _, m := range in.Metrics {
					g.Metrics[m] = metricValue(m, byKey[id].cost, byKey[id].usage)
				}
				r.Groups = append(r.Groups, g)
			}
		}
		if len(results) > 0 && groups+len(r.Groups) > ceMaxGroupsPerPage {
			next = encodePageToken(i, fp.Sum64())
			break
		}
		groups += len(r.Groups)
		results = append(results, r)
	}
	body := map[string]any{"ResultsByTime": results, "DimensionValueAttributes": []any{}}
	if len(in.GroupBy) > 0 {
		body["GroupDefinitions"] = in.GroupBy
	}
	if next != "" {
		body["NextPageToken"] = next
	}
	rc.WriteJSON(http.StatusOK, "application/x-amz-json-1.1", body)
	return nil
}

func metricValue(metric string, cost, usage float64) ceMetricValue {
	if ceMetrics[metric] {
		return ceMetricValue{Amount: ceAmount(usage), Unit: "N/A"}
	}
	return ceMetricValue{Amount: ceAmount(cost), Unit: "USD"}
}

type ceForecastResult struct {
	TimePeriod                   ceDateInterval `json:"TimePeriod"`
	MeanValue                    string         `json:"MeanValue"`
	PredictionIntervalLowerBound string         `json:"PredictionIntervalLowerBound"`
	PredictionIntervalUpperBound string         `json:"PredictionIntervalUpperBound"`
}

// ceGetCostForecast projects what is running now: every rate still
// accruing continues unchanged through the forecast period, and Lambda
// follows its (deterministic) profile into the future. The prediction
// interval widens with the requested level: ±(level/100 × 20 %) of the mean.
func (s *Sim) ceGetCostForecast(rc *Request) *APIError {
	var in ceForecastInput
	if err := decodeCE(rc, &in); err != nil {
		return err
	}
	start, end, apiErr := parsePeriod(in.TimePeriod)
	if apiErr != nil {
		return apiErr
	}
	today := rc.Now.Truncate(24 * time.Hour)
	if start.Before(today) {
		return ceValidation("TimePeriod.Start %s: a forecast starts today (%s) or later", in.TimePeriod.Start, today.Format(time.DateOnly))
	}
	if in.Metric == "" {
		return ceValidation("Metric is required")
	}
	if !slices.Contains(ceForecastMetrics, in.Metric) {
		return ceValidation("Metric %q: the simulator forecasts %s", in.Metric, strings.Join(ceForecastMetrics, ", "))
	}
	limit := today.AddDate(0, 3, 0)
	if in.Granularity == "MONTHLY" {
		limit = today.AddDate(0, 12, 0)
	}
	if end.After(limit) {
		return ceValidation("TimePeriod.End %s: a %s forecast reaches at most %s", in.TimePeriod.End, in.Granularity, limit.Format(time.DateOnly))
	}
	bks, apiErr := buckets(start, end, in.Granularity)
	if apiErr != nil {
		return apiErr
	}
	level := 80
	if in.PredictionIntervalLevel != nil {
		level = *in.PredictionIntervalLevel
		if level < 51 || level > 99 {
			return ceValidation("PredictionIntervalLevel %d: must be between 51 and 99", level)
		}
	}
	if in.Filter != nil {
		if err := checkExpression(in.Filter, "Filter"); err != nil {
			return err
		}
		if filtersResourceID(in.Filter) {
			return ceValidation("Dimension RESOURCE_ID is not allowed in a forecast.")
		}
	}
	cs, apiErr := s.ceCharges(rc, in.Filter)
	if apiErr != nil {
		return apiErr
	}
	projected, apiErr := s.projectCharges(rc, cs, end, in.Filter)
	if apiErr != nil {
		return apiErr
	}
	spread := float64(level) / 100 * 0.2
	var total float64
	results := make([]ceForecastResult, 0, len(bks))
	for _, b := range bks {
		var mean float64
		for j := range projected {
			c, _ := projected[j].overlap(b[0], b[1])
			mean += c
		}
		total += mean
		results = append(results, ceForecastResult{
			TimePeriod: ceDateInterval{Start: b[0].Format(time.DateOnly), End: b[1].Format(time.DateOnly)},
			MeanValue:  ceAmount(mean), PredictionIntervalLowerBound: ceAmount(mean * (1 - spread)), PredictionIntervalUpperBound: ceAmount(mean * (1 + spread)),
		})
	}
	rc.WriteJSON(http.StatusOK, "application/x-amz-json-1.1", map[string]any{
		"Total": ceMetricValue{Amount: ceAmount(total), Unit: "USD"}, "ForecastResultsByTime": results,
	})
	return nil
}

// projectCharges extends the rates accruing now to until and prices each
// existing Lambda function's profile up to until.
func (s *Sim) projectCharges(rc *Request, cs []charge, until time.Time, filter *ceExpression) ([]charge, *APIError) {
	var out []charge
	for _, c := range cs {
		if c.open {
			c.start, c.end = rc.Now, until
			out = append(out, c)
		}
	}
	cat, err := s.prices()
	if err != nil {
		return nil, &APIError{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, acct := range s.ceAccounts(rc.Account) {
		a := s.accounts[acct]
		if a == nil {
			continue
		}
		latest := map[string]Event{}
		for _, e := range a.History {
			if e.Service != "lambda" || e.ResourceType != "function" {
				continue
			}
			k := e.Region + "/" + e.ResourceID
			if old, ok := latest[k]; !ok || !e.Time.Before(old.Time) {
				latest[k] = e
			}
		}
		for _, e := range latest {
			if e.Kind == EventDeleted {
				continue
			}
			e.Time = rc.Now
			lcs, err := lambdaCharges(cat, s.opts.Seed, e, until)
			if err != nil {
				return nil, &APIError{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: err.Error()}
			}
			for _, c := range lcs {
				if filter == nil || filter.match(&c) {
					out = append(out, c)
				}
			}
		}
	}
	return out, nil
}
