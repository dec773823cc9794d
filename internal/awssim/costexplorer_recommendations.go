package awssim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// GetSavingsPlansPurchaseRecommendation and
// GetReservationPurchaseRecommendation, computed from the caller's usage
// over the lookback period after its existing commitments
// (usageHours): what is already covered is never recommended again.

var lookbackDays = map[string]int{"SEVEN_DAYS": 7, "THIRTY_DAYS": 30, "SIXTY_DAYS": 60}

type ceSPRecommendationInput struct {
	SavingsPlansType     string        `json:"SavingsPlansType"`
	TermInYears          string        `json:"TermInYears"`
	PaymentOption        string        `json:"PaymentOption"`
	LookbackPeriodInDays string        `json:"LookbackPeriodInDays"`
	AccountScope         string        `json:"AccountScope"`
	Filter               *ceExpression `json:"Filter"`
	NextPageToken        string        `json:"NextPageToken"`
	PageSize             int           `json:"PageSize"`
}

type ceRIRecommendationInput struct {
	Service              string          `json:"Service"`
	AccountID            string          `json:"AccountId"`
	AccountScope         string          `json:"AccountScope"`
	TermInYears          string          `json:"TermInYears"`
	PaymentOption        string          `json:"PaymentOption"`
	LookbackPeriodInDays string          `json:"LookbackPeriodInDays"`
	Filter               *ceExpression   `json:"Filter"`
	ServiceSpecification json.RawMessage `json:"ServiceSpecification"`
	NextPageToken        string          `json:"NextPageToken"`
	PageSize             int             `json:"PageSize"`
}

// commonRecommendation checks what both recommendation inputs share and
// returns the lookback window: the whole days before today.
func commonRecommendation(rc *Request, term, payment, lookback, scope string, filter *ceExpression, token string, pageSize int) (from, to time.Time, apiErr *APIError) {
	if term != termOneYear && term != termThreeYears {
		return from, to, ceValidation("TermInYears %q: want ONE_YEAR or THREE_YEARS", term)
	}
	if _, ok := upfrontShare[payment]; !ok {
		return from, to, ceValidation("PaymentOption %q: want NO_UPFRONT, PARTIAL_UPFRONT or ALL_UPFRONT", payment)
	}
	days, ok := lookbackDays[lookback]
	if !ok {
		return from, to, ceValidation("LookbackPeriodInDays %q: want SEVEN_DAYS, THIRTY_DAYS or SIXTY_DAYS", lookback)
	}
	if scope != "" && scope != "PAYER" && scope != "LINKED" {
		return from, to, ceValidation("AccountScope %q: want PAYER or LINKED", scope)
	}
	if filter != nil {
		return from, to, ceValidation("Filter: filtering recommendations is not simulated")
	}
	if token != "" {
		return from, to, Errorf("InvalidNextTokenException", "The NextPageToken is invalid: every recommendation answer is one page here.")
	}
	if pageSize < 0 {
		return from, to, ceValidation("PageSize %d: must not be negative", pageSize)
	}
	to = rc.Now.Truncate(24 * time.Hour)
	return to.AddDate(0, 0, -days), to, nil
}

// bestLevel is the level e (of on-demand spend, or of instances when
// whole) that maximises sum(min(x, e)) - len(x)·e·rate, the saving of a
// commitment that costs rate per unit of on-demand it covers, used or not.
// The sum is concave in e and peaks at one of the observed values (or, for
// whole units, at a whole number); a tie goes to the smaller level.
func bestLevel(x []float64, rate float64, whole bool) float64 {
	var cands []float64
	if whole {
		for k := 1; float64(k) <= slices.Max(append([]float64{0}, x...)); k++ {
			cands = append(cands, float64(k))
		}
	} else {
		cands = slices.Compact(slices.Sorted(slices.Values(x)))
	}
	best, bestSave := 0.0, 0.0
	for _, e := range cands {
		if e <= 0 {
			continue
		}
		if save := covered(x, e) - float64(len(x))*e*rate; save > bestSave+1e-9 {
			best, bestSave = e, save
		}
	}
	return best
}

// covered is sum(min(x, level)).
func covered(x []float64, level float64) float64 {
	var s float64
	for _, v := range x {
		s += min(v, level)
	}
	return s
}

func sum(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
}

// spGroup is one recommendation's usage: the account it is for, the
// Savings Plan's scope and the uncovered on-demand spend per hour.
type spGroup struct {
	account, region, family string
	spend                   []float64
}

type ceSavingsPlansDetails struct {
	InstanceFamily string `json:"InstanceFamily,omitempty"`
	OfferingID     string `json:"OfferingId"`
	Region         string `json:"Region,omitempty"`
}

type ceSPDetail struct {
	AccountID                                  string                `json:"AccountId"`
	CurrencyCode                               string                `json:"CurrencyCode"`
	CurrentAverageHourlyOnDemandSpend          string                `json:"CurrentAverageHourlyOnDemandSpend"`
	CurrentMaximumHourlyOnDemandSpend          string                `json:"CurrentMaximumHourlyOnDemandSpend"`
	CurrentMinimumHourlyOnDemandSpend          string                `json:"CurrentMinimumHourlyOnDemandSpend"`
	EstimatedAverageUtilization                string                `json:"EstimatedAverageUtilization"`
	EstimatedMonthlySavingsAmount              string                `json:"EstimatedMonthlySavingsAmount"`
	EstimatedOnDemandCost                      string                `json:"EstimatedOnDemandCost"`
	EstimatedOnDemandCostWithCurrentCommitment string                `json:"EstimatedOnDemandCostWithCurrentCommitment"`
	EstimatedROI                               string                `json:"EstimatedROI"`
	EstimatedSPCost                            string                `json:"EstimatedSPCost"`
	EstimatedSavingsAmount                     string                `json:"EstimatedSavingsAmount"`
	EstimatedSavingsPercentage                 string                `json:"EstimatedSavingsPercentage"`
	HourlyCommitmentToPurchase                 string                `json:"HourlyCommitmentToPurchase"`
	RecommendationDetailID                     string                `json:"RecommendationDetailId"`
	SavingsPlansDetails                        ceSavingsPlansDetails `json:"SavingsPlansDetails"`
	UpfrontCost                                string                `json:"UpfrontCost"`
}

// ceGetSavingsPlansPurchaseRecommendation recommends, per account (LINKED)
// or for the caller's whole organisation (PAYER, the default), the hourly
// commitment that would have saved the most over the lookback period on
// the EC2 spend existing Savings Plans left on demand: one Compute Savings
// Plan, or one EC2 Instance Savings Plan per region and instance family.
// The commitment is rounded to a tenth of a cent an hour, as AWS quotes
// them, and every other figure is computed from the rounded commitment.
func (s *Sim) ceGetSavingsPlansPurchaseRecommendation(rc *Request) *APIError {
	var in ceSPRecommendationInput
	if err := decodeCE(rc, &in); err != nil {
		return err
	}
	if in.SavingsPlansType != spCompute && in.SavingsPlansType != spEC2Instance {
		return ceValidation("SavingsPlansType %q: the simulator recommends COMPUTE_SP and EC2_INSTANCE_SP", in.SavingsPlansType)
	}
	from, to, apiErr := commonRecommendation(rc, in.TermInYears, in.PaymentOption, in.LookbackPeriodInDays, in.AccountScope, in.Filter, in.NextPageToken, in.PageSize)
	if apiErr != nil {
		return apiErr
	}
	u, apiErr := s.usageHours(rc, from, to)
	if apiErr != nil {
		return apiErr
	}
	groups := map[string]*spGroup{}
	for _, k := range sortedEC2Keys(u.ec2OnDemand) {
		g := spGroup{account: rc.Account}
		if in.AccountScope == "LINKED" {
			g.account = k.account
		}
		if in.SavingsPlansType == spEC2Instance {
			g.region, g.family = k.region, k.family
		}
		id := g.account + "/" + g.region + "/" + g.family
		if groups[id] == nil {
			g.spend = make([]float64, u.n)
			groups[id] = &g
		}
		for h, v := range u.ec2OnDemand[k] {
			groups[id].spend[h] += v
		}
	}
	discount := spDiscounts[in.SavingsPlansType][in.TermInYears][in.PaymentOption]
	hoursInTerm := float64(termYears(in.TermInYears)) * 8760
	details := []ceSPDetail{}
	var sumOD, sumSP, sumLeft, sumCommit, sumMonthly float64
	var allOD float64
	for _, id := range slices.Sorted(maps.Keys(groups)) {
		g := groups[id]
		od := sum(g.spend)
		allOD += od
		level := bestLevel(g.spend, 1-discount, false)
		commit := math.Round(level*(1-discount)*1000) / 1000
		if commit <= 0 {
			continue
		}
		room := commit / (1 - discount)
		n := float64(len(g.spend))
		spCost := commit * n
		used := covered(g.spend, room)
		left := od - used
		saving := od - spCost - left
		if saving <= 0 {
			continue
		}
		monthly := saving / n * pricing.HoursPerMonth
		sumOD, sumSP, sumLeft, sumCommit, sumMonthly = sumOD+od, sumSP+spCost, sumLeft+left, sumCommit+commit, sumMonthly+monthly
		details = append(details, ceSPDetail{
			AccountID: g.account, CurrencyCode: "USD",
			CurrentAverageHourlyOnDemandSpend: ceAmount(od / n), CurrentMaximumHourlyOnDemandSpend: ceAmount(slices.Max(g.spend)),
			CurrentMinimumHourlyOnDemandSpend: ceAmount(slices.Min(g.spend)),
			EstimatedAverageUtilization:       ceAmount(used * (1 - discount) / spCost * 100),
			EstimatedMonthlySavingsAmount:     ceAmount(monthly),
			EstimatedOnDemandCost:             ceAmount(left), EstimatedOnDemandCostWithCurrentCommitment: ceAmount(od),
			EstimatedROI: ceAmount(saving / spCost * 100), EstimatedSPCost: ceAmount(spCost), EstimatedSavingsAmount: ceAmount(saving),
			EstimatedSavingsPercentage: ceAmount(saving / od * 100), HourlyCommitmentToPurchase: strconv.FormatFloat(commit, 'f', 3, 64),
			RecommendationDetailID: fmt.Sprintf("%08x-sim-%s", fnv32(id+in.TermInYears+in.PaymentOption), strings.ToLower(in.SavingsPlansType)),
			SavingsPlansDetails:    ceSavingsPlansDetails{InstanceFamily: g.family, Region: g.region, OfferingID: fmt.Sprintf("sim-%s-%s-%s", in.SavingsPlansType, in.TermInYears, in.PaymentOption)},
			UpfrontCost:            ceAmount(commit * hoursInTerm * upfrontShare[in.PaymentOption]),
		})
	}
	rec := map[string]any{
		"AccountScope": orDefault(in.AccountScope, "PAYER"), "LookbackPeriodInDays": in.LookbackPeriodInDays,
		"PaymentOption": in.PaymentOption, "SavingsPlansType": in.SavingsPlansType, "TermInYears": in.TermInYears,
		"SavingsPlansPurchaseRecommendationDetails": details,
	}
	if len(details) > 0 {
		saving := sumOD - sumSP - sumLeft
		rec["SavingsPlansPurchaseRecommendationSummary"] = map[string]string{
			"CurrencyCode": "USD", "CurrentOnDemandSpend": ceAmount(allOD),
			"DailyCommitmentToPurchase":     ceAmount(sumCommit * 24),
			"EstimatedMonthlySavingsAmount": ceAmount(sumMonthly), "EstimatedOnDemandCostWithCurrentCommitment": ceAmount(sumOD),
			"EstimatedROI": ceAmount(saving / sumSP * 100), "EstimatedSavingsAmount": ceAmount(saving),
			"EstimatedSavingsPercentage": ceAmount(saving / sumOD * 100), "EstimatedTotalCost": ceAmount(sumSP + sumLeft),
			"HourlyCommitmentToPurchase": strconv.FormatFloat(sumCommit, 'f', 3, 64),
			"TotalRecommendationCount":   strconv.Itoa(len(details)),
		}
	}
	rc.WriteJSON(http.StatusOK, "application/x-amz-json-1.1", map[string]any{
		"Metadata": map[string]string{"RecommendationId": fmt.Sprintf("sim-%08x", fnv32(fmt.Sprint(in, rc.Account, to))),
			"GenerationTimestamp": to.Format(time.RFC3339)},
		"SavingsPlansPurchaseRecommendation": rec,
	})
	return nil
}

// rdsEngineNames are Cost Explorer's DatabaseEngine values.
var rdsEngineNames = map[string]string{"mysql": "MySQL", "postgres": "PostgreSQL", "mariadb": "MariaDB"}

// ceGetReservationPurchaseRecommendation recommends RDS reserved
// instances: per account, region, class, engine and deployment, the number
// of instances that would have saved the most over the lookback period,
// counting only the instance-hours existing reservations did not cover.
func (s *Sim) ceGetReservationPurchaseRecommendation(rc *Request) *APIError {
	var in ceRIRecommendationInput
	if err := decodeCE(rc, &in); err != nil {
		return err
	}
	if in.Service != ceServiceRDS {
		return ceValidation("Service %q: the simulator recommends reservations for %q only", in.Service, ceServiceRDS)
	}
	in.TermInYears = orDefault(in.TermInYears, termOneYear)
	in.PaymentOption = orDefault(in.PaymentOption, payPartialUpfront)
	in.LookbackPeriodInDays = orDefault(in.LookbackPeriodInDays, "SEVEN_DAYS")
	if len(in.ServiceSpecification) > 0 {
		return ceValidation("ServiceSpecification: applies to EC2 only")
	}
	from, to, apiErr := commonRecommendation(rc, in.TermInYears, in.PaymentOption, in.LookbackPeriodInDays, in.AccountScope, in.Filter, in.NextPageToken, in.PageSize)
	if apiErr != nil {
		return apiErr
	}
	u, apiErr := s.usageHours(rc, from, to)
	if apiErr != nil {
		return apiErr
	}
	discount := rdsReservationDiscounts[in.TermInYears][in.PaymentOption]
	hoursInTerm := float64(termYears(in.TermInYears)) * 8760
	keys := mapKeys(u.rdsOnDemand)
	slices.SortFunc(keys, func(a, b rdsKey) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	details := []map[string]any{}
	var totalSaving, totalOD float64
	for _, k := range keys {
		if in.AccountID != "" && k.account != in.AccountID {
			continue
		}
		x, price := u.rdsOnDemand[k], u.rdsPrice[k]
		n := float64(len(x))
		count := bestLevel(x, 1-discount, true)
		monthlyOD := sum(x) / n * price * pricing.HoursPerMonth
		totalOD += monthlyOD
		if count == 0 {
			continue
		}
		used := covered(x, count)
		riHourly := count * price * (1 - discount)
		saving := used*price - riHourly*n
		if saving <= 0 {
			continue
		}
		monthly := saving / n * pricing.HoursPerMonth
		totalSaving += monthly
		upfront := riHourly * hoursInTerm * upfrontShare[in.PaymentOption]
		recurring := riHourly * (1 - upfrontShare[in.PaymentOption]) * pricing.HoursPerMonth
		breakEven := 0.0
		if upfront > 0 {
			breakEven = upfront / (used/n*price*pricing.HoursPerMonth - recurring)
		}
		deployment := "Single-AZ"
		if k.multiAZ {
			deployment = "Multi-AZ"
		}
		details = append(details, map[string]any{
			"AccountId": k.account, "CurrencyCode": "USD",
			"AverageNumberOfInstancesUsedPerHour": ceAmount(sum(x) / n), "MaximumNumberOfInstancesUsedPerHour": ceAmount(slices.Max(x)),
			"MinimumNumberOfInstancesUsedPerHour":       ceAmount(slices.Min(x)),
			"AverageUtilization":                        ceAmount(used / (count * n) * 100),
			"EstimatedBreakEvenInMonths":                ceAmount(breakEven),
			"EstimatedMonthlyOnDemandCost":              ceAmount(monthlyOD),
			"EstimatedMonthlySavingsAmount":             ceAmount(monthly),
			"EstimatedMonthlySavingsPercentage":         ceAmount(monthly / monthlyOD * 100),
			"EstimatedReservationCostForLookbackPeriod": ceAmount(riHourly*n + (sum(x)-used)*price),
			"RecommendedNumberOfInstancesToPurchase":    strconv.Itoa(int(count)),
			"RecurringStandardMonthlyCost":              ceAmount(recurring),
			"UpfrontCost":                               ceAmount(upfront),
			"InstanceDetails": map[string]any{"RDSInstanceDetails": map[string]any{
				"Family": instanceFamily(k.class), "InstanceType": k.class, "Region": k.region,
				"DatabaseEngine": orDefault(rdsEngineNames[k.engine], k.engine), "DeploymentOption": deployment,
				"LicenseModel": "No license required", "CurrentGeneration": true, "SizeFlexEligible": true,
			}},
		})
	}
	recs := []map[string]any{}
	if len(details) > 0 {
		recs = append(recs, map[string]any{
			"AccountScope": orDefault(in.AccountScope, "PAYER"), "LookbackPeriodInDays": in.LookbackPeriodInDays,
			"PaymentOption": in.PaymentOption, "TermInYears": in.TermInYears, "RecommendationDetails": details,
			"RecommendationSummary": map[string]string{"CurrencyCode": "USD", "TotalEstimatedMonthlySavingsAmount": ceAmount(totalSaving),
				"TotalEstimatedMonthlySavingsPercentage": ceAmount(totalSaving / totalOD * 100)},
		})
	}
	rc.WriteJSON(http.StatusOK, "application/x-amz-json-1.1", map[string]any{
		"Metadata": map[string]string{"RecommendationId": fmt.Sprintf("sim-%08x", fnv32(fmt.Sprint(in.Service, in.TermInYears, in.PaymentOption, rc.Account, to))),
			"GenerationTimestamp": to.Format(time.RFC3339)},
		"Recommendations": recs,
	})
	return nil
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}
