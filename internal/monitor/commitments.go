package monitor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
	"github.com/hashicorp/go-hclog"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
)

// Commitments asks Cost Explorer what commitments to buy: a Savings Plans
// purchase recommendation for EC2 spend, a reserved-instance purchase
// recommendation for RDS, and the coverage of the Savings Plans the
// account has. Answers are kept in memory for MinInterval per setting
// (every request is billed; AWS refreshes recommendations daily).
type Commitments struct {
	ce          *costexplorer.Client
	minInterval time.Duration
	log         hclog.Logger
	clock       func() time.Time
	backoff     awsclient.Backoff

	mu    sync.Mutex
	cache map[string]cachedAdvice
}

type cachedAdvice struct {
	at     time.Time
	advice *optimizer.CommitmentAdvice
}

// NewCommitments reaches Cost Explorer through cfg (its region forced to
// us-east-1, where Cost Explorer answers); minInterval 0 means 6 hours.
func NewCommitments(cfg aws.Config, minInterval time.Duration, log hclog.Logger, clock func() time.Time) *Commitments {
	if minInterval <= 0 {
		minInterval = 6 * time.Hour
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if clock == nil {
		clock = time.Now
	}
	return &Commitments{
		ce:          costexplorer.NewFromConfig(cfg, func(o *costexplorer.Options) { o.Region = "us-east-1" }),
		minInterval: minInterval, log: log.Named("commitments"), clock: clock, backoff: awsclient.DefaultBackoff,
		cache: map[string]cachedAdvice{},
	}
}

// ceLookback is the lookback period Cost Explorer offers closest to a
// policy's lookback days, rounded up.
func ceLookback(days int) (cetypes.LookbackPeriodInDays, int) {
	switch {
	case days <= 7:
		return cetypes.LookbackPeriodInDaysSevenDays, 7
	case days <= 30:
		return cetypes.LookbackPeriodInDaysThirtyDays, 30
	}
	return cetypes.LookbackPeriodInDaysSixtyDays, 60
}

var (
	ceTerms    = map[sirsiv1.CommitmentTerm]cetypes.TermInYears{sirsiv1.CommitmentTerm_COMMITMENT_TERM_ONE_YEAR: cetypes.TermInYearsOneYear, sirsiv1.CommitmentTerm_COMMITMENT_TERM_THREE_YEARS: cetypes.TermInYearsThreeYears}
	cePayments = map[sirsiv1.PaymentOption]cetypes.PaymentOption{
		sirsiv1.PaymentOption_PAYMENT_OPTION_NO_UPFRONT: cetypes.PaymentOptionNoUpfront, sirsiv1.PaymentOption_PAYMENT_OPTION_PARTIAL_UPFRONT: cetypes.PaymentOptionPartialUpfront,
		sirsiv1.PaymentOption_PAYMENT_OPTION_ALL_UPFRONT: cetypes.PaymentOptionAllUpfront,
	}
	cePlanTypes = map[sirsiv1.SavingsPlansType]cetypes.SupportedSavingsPlansType{
		sirsiv1.SavingsPlansType_SAVINGS_PLANS_TYPE_COMPUTE: cetypes.SupportedSavingsPlansTypeComputeSp, sirsiv1.SavingsPlansType_SAVINGS_PLANS_TYPE_EC2_INSTANCE: cetypes.SupportedSavingsPlansTypeEc2InstanceSp,
	}
)

// rdsService is Cost Explorer's name for RDS.
const rdsService = "Amazon Relational Database Service"

// Advice asks Cost Explorer for the recommendations of settings (every
// field set, as policy.Commitments returns them) over the lookback closest
// to lookbackDays. A question Cost Explorer refuses (not enabled, not
// allowed, throttled past the retries) is recorded in the advice, not
// returned: the caller falls back for that part.
func (c *Commitments) Advice(ctx context.Context, settings *sirsiv1.CommitmentSettings, lookbackDays int) *optimizer.CommitmentAdvice {
	lookback, days := ceLookback(lookbackDays)
	key := fmt.Sprint(settings.GetSavingsPlansType(), settings.GetTerm(), settings.GetPaymentOption(), days)
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cache[key]; ok && now.Sub(e.at) < c.minInterval && !e.at.After(now) {
		return e.advice
	}
	a := &optimizer.CommitmentAdvice{Settings: settings, LookbackDays: days}
	term, payment := ceTerms[settings.GetTerm()], cePayments[settings.GetPaymentOption()]
	a.SavingsPlans, a.SavingsPlansErr = c.savingsPlans(ctx, cePlanTypes[settings.GetSavingsPlansType()], term, payment, lookback)
	a.Reservations, a.ReservationsErr = c.reservations(ctx, term, payment, lookback)
	today := now.UTC().Truncate(24 * time.Hour)
	var err error
	if a.Coverage, err = c.coverage(ctx, today.AddDate(0, 0, -days), today); err != nil {
		c.log.Warn("Savings Plans coverage unknown", "error", err)
	}
	for what, err := range map[string]error{"Savings Plans recommendation (the list-price fallback estimate is used)": a.SavingsPlansErr,
		"RDS reservation recommendation (none is suggested)": a.ReservationsErr} {
		if err != nil {
			c.log.Warn("Cost Explorer gave no "+what, "error", err)
		}
	}
	c.cache[key] = cachedAdvice{at: now, advice: a}
	return a
}

// amount reads one of Cost Explorer's decimal strings; missing, not a
// number or negative is an error naming the field.
func amount(field string, s *string) (int64, error) {
	if s == nil {
		return 0, fmt.Errorf("%s: missing", field)
	}
	v, err := money.ParseDecimal(*s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	if v < 0 {
		return 0, fmt.Errorf("%s %q: negative", field, *s)
	}
	return v, nil
}

// fraction reads a percentage string as a fraction 0..1.
func fraction(field string, s *string) (float64, error) {
	if s == nil {
		return 0, fmt.Errorf("%s: missing", field)
	}
	v, err := strconv.ParseFloat(*s, 64)
	if err != nil || v < 0 || v > 100 || v != v {
		return 0, fmt.Errorf("%s %q: not a percentage", field, *s)
	}
	return v / 100, nil
}

// call retries f when Cost Explorer still throttles after the SDK's own
// retries.
func (c *Commitments) call(ctx context.Context, f func() error) error {
	return awsclient.RetryThrottles(ctx, c.backoff, func(context.Context) error { return f() }, func(d time.Duration, err error) {
		c.log.Debug("throttled after the SDK's retries; backing off", "wait", d, "error", err)
	})
}

// savingsPlans reads the recommendation's details. A detail with a
// missing or malformed amount is left out with a log line naming it and
// the field: its figures are unknown, and the others stand.
func (c *Commitments) savingsPlans(ctx context.Context, typ cetypes.SupportedSavingsPlansType, term cetypes.TermInYears, payment cetypes.PaymentOption, lookback cetypes.LookbackPeriodInDays) ([]optimizer.SavingsPlanOffer, error) {
	in := &costexplorer.GetSavingsPlansPurchaseRecommendationInput{SavingsPlansType: typ, TermInYears: term, PaymentOption: payment, LookbackPeriodInDays: lookback}
	var out []optimizer.SavingsPlanOffer
	for {
		var resp *costexplorer.GetSavingsPlansPurchaseRecommendationOutput
		err := c.call(ctx, func() (err error) {
			resp, err = c.ce.GetSavingsPlansPurchaseRecommendation(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("GetSavingsPlansPurchaseRecommendation: %w", err)
		}
		if resp.SavingsPlansPurchaseRecommendation == nil {
			return out, nil
		}
		for i, d := range resp.SavingsPlansPurchaseRecommendation.SavingsPlansPurchaseRecommendationDetails {
			o, err := savingsPlanOffer(d)
			if err != nil {
				c.log.Warn("ignoring a Savings Plans recommendation: its amounts are unusable, so its figures are unknown",
					"recommendation", orIndex(aws.ToString(d.RecommendationDetailId), i), "error", err)
				continue
			}
			out = append(out, o)
		}
		if aws.ToString(resp.NextPageToken) == "" {
			return out, nil
		}
		in.NextPageToken = resp.NextPageToken
	}
}

func orIndex(id string, i int) string {
	if id == "" {
		return fmt.Sprintf("details[%d]", i)
	}
	return id
}

func savingsPlanOffer(d cetypes.SavingsPlansPurchaseRecommendationDetail) (optimizer.SavingsPlanOffer, error) {
	o := optimizer.SavingsPlanOffer{AccountID: aws.ToString(d.AccountId)}
	if d.SavingsPlansDetails != nil {
		o.Region, o.InstanceFamily = aws.ToString(d.SavingsPlansDetails.Region), aws.ToString(d.SavingsPlansDetails.InstanceFamily)
	}
	if cur := aws.ToString(d.CurrencyCode); cur != money.USD {
		return o, fmt.Errorf("CurrencyCode %q: want USD", cur)
	}
	var errs []error
	var err error
	o.HourlyCommitment, err = amount("HourlyCommitmentToPurchase", d.HourlyCommitmentToPurchase)
	errs = append(errs, err)
	o.CurrentHourlyOnDemand, err = amount("CurrentAverageHourlyOnDemandSpend", d.CurrentAverageHourlyOnDemandSpend)
	errs = append(errs, err)
	o.MonthlySavings, err = amount("EstimatedMonthlySavingsAmount", d.EstimatedMonthlySavingsAmount)
	errs = append(errs, err)
	o.Upfront, err = amount("UpfrontCost", d.UpfrontCost)
	errs = append(errs, err)
	o.Utilization, err = fraction("EstimatedAverageUtilization", d.EstimatedAverageUtilization)
	errs = append(errs, err)
	return o, errors.Join(errs...)
}

func (c *Commitments) reservations(ctx context.Context, term cetypes.TermInYears, payment cetypes.PaymentOption, lookback cetypes.LookbackPeriodInDays) ([]optimizer.ReservationOffer, error) {
	in := &costexplorer.GetReservationPurchaseRecommendationInput{Service: aws.String(rdsService), TermInYears: term, PaymentOption: payment, LookbackPeriodInDays: lookback}
	var out []optimizer.ReservationOffer
	for {
		var resp *costexplorer.GetReservationPurchaseRecommendationOutput
		err := c.call(ctx, func() (err error) {
			resp, err = c.ce.GetReservationPurchaseRecommendation(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("GetReservationPurchaseRecommendation: %w", err)
		}
		for _, r := range resp.Recommendations {
			for i, d := range r.RecommendationDetails {
				o, err := reservationOffer(d)
				if err != nil {
					c.log.Warn("ignoring an RDS reservation recommendation: its amounts are unusable, so its figures are unknown",
						"recommendation", fmt.Sprintf("details[%d] %s in %s", i, o.InstanceType, o.Region), "error", err)
					continue
				}
				out = append(out, o)
			}
		}
		if aws.ToString(resp.NextPageToken) == "" {
			return out, nil
		}
		in.NextPageToken = resp.NextPageToken
	}
}

func reservationOffer(d cetypes.ReservationPurchaseRecommendationDetail) (optimizer.ReservationOffer, error) {
	o := optimizer.ReservationOffer{AccountID: aws.ToString(d.AccountId)}
	if d.InstanceDetails == nil || d.InstanceDetails.RDSInstanceDetails == nil {
		return o, errors.New("InstanceDetails.RDSInstanceDetails: missing")
	}
	rds := d.InstanceDetails.RDSInstanceDetails
	o.Region, o.InstanceType, o.Engine, o.Deployment = aws.ToString(rds.Region), aws.ToString(rds.InstanceType), aws.ToString(rds.DatabaseEngine), aws.ToString(rds.DeploymentOption)
	if cur := aws.ToString(d.CurrencyCode); cur != money.USD {
		return o, fmt.Errorf("CurrencyCode %q: want USD", cur)
	}
	n, err := strconv.Atoi(aws.ToString(d.RecommendedNumberOfInstancesToPurchase))
	errs := []error{err}
	if err == nil && n < 1 {
		errs = append(errs, fmt.Errorf("RecommendedNumberOfInstancesToPurchase %d: not positive", n))
	}
	o.Count = n
	o.MonthlyOnDemand, err = amount("EstimatedMonthlyOnDemandCost", d.EstimatedMonthlyOnDemandCost)
	errs = append(errs, err)
	o.MonthlySavings, err = amount("EstimatedMonthlySavingsAmount", d.EstimatedMonthlySavingsAmount)
	errs = append(errs, err)
	o.Upfront, err = amount("UpfrontCost", d.UpfrontCost)
	errs = append(errs, err)
	o.Recurring, err = amount("RecurringStandardMonthlyCost", d.RecurringStandardMonthlyCost)
	errs = append(errs, err)
	o.Utilization, err = fraction("AverageUtilization", d.AverageUtilization)
	errs = append(errs, err)
	return o, errors.Join(errs...)
}

// coverage sums the Savings Plans coverage over [from, to). Any day with
// an unusable amount makes the whole coverage unknown.
func (c *Commitments) coverage(ctx context.Context, from, to time.Time) (*optimizer.SavingsPlansCoverage, error) {
	in := &costexplorer.GetSavingsPlansCoverageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(from.Format(time.DateOnly)), End: aws.String(to.Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily,
	}
	cov := &optimizer.SavingsPlansCoverage{Hours: int(to.Sub(from).Hours())}
	for {
		var resp *costexplorer.GetSavingsPlansCoverageOutput
		err := c.call(ctx, func() (err error) {
			resp, err = c.ce.GetSavingsPlansCoverage(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("GetSavingsPlansCoverage: %w", err)
		}
		for i, s := range resp.SavingsPlansCoverages {
			if s.Coverage == nil {
				return nil, fmt.Errorf("GetSavingsPlansCoverage SavingsPlansCoverages[%d].Coverage: missing", i)
			}
			covered, err1 := amount("SpendCoveredBySavingsPlans", s.Coverage.SpendCoveredBySavingsPlans)
			od, err2 := amount("OnDemandCost", s.Coverage.OnDemandCost)
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("GetSavingsPlansCoverage SavingsPlansCoverages[%d]: %w", i, err)
			}
			cov.Covered += covered
			cov.OnDemand += od
		}
		if aws.ToString(resp.NextToken) == "" {
			return cov, nil
		}
		in.NextToken = resp.NextToken
	}
}
