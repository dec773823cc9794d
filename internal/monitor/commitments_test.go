package monitor

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/policy"
)

// A Cost Explorer that answers badly: a Savings Plans detail whose saving
// is not a number (and one that is fine), a refused reservation question
// and a coverage day without its on-demand cost. Each bad part is left
// out with a log line naming it and the field; the good detail stands;
// nothing panics.
func TestCommitmentsBadCostExplorerAnswers(t *testing.T) {
	const good = `{"AccountId":"123456789012","CurrencyCode":"USD","CurrentAverageHourlyOnDemandSpend":"0.2","EstimatedAverageUtilization":"99.5",
		"EstimatedMonthlySavingsAmount":"27.93","HourlyCommitmentToPurchase":"0.104","UpfrontCost":"0","RecommendationDetailId":"good-1","SavingsPlansDetails":{}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		switch strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSInsightsIndexService.") {
		case "GetSavingsPlansPurchaseRecommendation":
			bad := strings.NewReplacer(`"27.93"`, `"twelve"`, `good-1`, `bad-1`).Replace(good)
			_, _ = io.WriteString(w, `{"SavingsPlansPurchaseRecommendation":{"SavingsPlansPurchaseRecommendationDetails":[`+bad+`,`+good+`]}}`)
		case "GetReservationPurchaseRecommendation":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"AccessDeniedException","message":"not authorized to perform ce:GetReservationPurchaseRecommendation"}`)
		case "GetSavingsPlansCoverage":
			_, _ = io.WriteString(w, `{"SavingsPlansCoverages":[{"Coverage":{"SpendCoveredBySavingsPlans":"1.2","TotalCost":"3"},"TimePeriod":{"Start":"2026-03-01","End":"2026-03-02"}}]}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	cfg, _ := loadConfig(t, srv.URL, awsclient.Options{MaxAttempts: 1})
	var logs syncBuffer
	c := NewCommitments(cfg, 0, bufferLogger(&logs), func() time.Time { return time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC) })
	a := c.Advice(context.Background(), policy.Commitments(&sirsiv1.OptimizationPolicy{}), 14)
	if a.SavingsPlansErr != nil || len(a.SavingsPlans) != 1 || a.SavingsPlans[0].MonthlySavings != 27_930_000 || a.SavingsPlans[0].HourlyCommitment != 104_000 {
		t.Errorf("Savings Plans %+v (%v), want only the good detail", a.SavingsPlans, a.SavingsPlansErr)
	}
	if a.ReservationsErr == nil || len(a.Reservations) != 0 {
		t.Errorf("refused reservations: %v %v, want the error and none", a.Reservations, a.ReservationsErr)
	}
	if a.Coverage != nil {
		t.Errorf("coverage %+v, want unknown when a day lacks OnDemandCost", a.Coverage)
	}
	for _, want := range []string{"bad-1", `EstimatedMonthlySavingsAmount: amount \"twelve\" is not a decimal number`, "OnDemandCost: missing", "AccessDeniedException"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not name %q:\n%s", want, logs.String())
		}
	}
	if a.LookbackDays != 30 {
		t.Errorf("14 days asked as a %d-day lookback, want Cost Explorer's 30", a.LookbackDays)
	}
}
