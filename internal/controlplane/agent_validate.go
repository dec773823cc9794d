package controlplane

import (
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/ledger"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Bounds of one AgentService report; a larger batch is InvalidArgument
// and the agent splits it. Each bound keeps a batch inside one store
// transaction of reasonable length and inside MaxAgentMessageBytes.
const (
	MaxReportUpserts         = 5000
	MaxReportDeletions       = 5000
	MaxReportChanges         = 5000
	MaxReportSummaries       = 20000
	MaxReportCostRecords     = 20000
	MaxReportAnomalies       = 1000
	MaxReportRecommendations = 5000
	MaxReportActions         = 1000
	// MaxReportUnits bounds the units of one inventory batch (types x
	// regions of one account), MaxReportUnitIDs the ids all its units name.
	MaxReportUnits   = 1000
	MaxReportUnitIDs = 50000
	MaxBatchIDLen    = 64
)

// Field bounds of reported records.
const (
	maxCSRBytes    = 16 << 10
	maxHostnameLen = 253
	maxVersionLen  = 64
	maxErrorLen    = 4096
	// maxErrorCodeLen bounds an AWS error code (the longest are about 60).
	maxErrorCodeLen = 128
	// maxCredentialsDetailLen bounds what an agent says about its AWS
	// credentials: an account id, or AWS's error code and message.
	maxCredentialsDetailLen = 1024
	maxARNLen               = 2048
	maxNameLen              = 256
	maxSizeLen              = 128
	maxStateLen             = 64
	maxServiceLen           = 256
	maxReasonLen            = 1024
	maxAttributes           = 64
	maxAttributeLen         = 1024
	maxChangedFields        = 64
	maxSweeps               = 16
	maxEvidence             = 32
	maxSteps                = 100
	maxStepDetailLen        = 1024
	maxEvidenceWindow       = 366
)

var (
	// Region shape rather than the list of known regions: an agent must
	// not be refused a whole batch because AWS opened a region after this
	// release.
	regionShape = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	// snake_case names: actions (resize, stop, start, migrate_gp3...),
	// sweeps, changed fields, step names and statuses.
	nameShape = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	// A changed field: a Resource field, or attributes.<key> for one of
	// its attributes (attributes.attached_to).
	fieldPathShape = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63})?$`)
	// CloudWatch statistics: Average, Maximum, p95, tm99, PR(10:)...
	statisticShape = regexp.MustCompile(`^[A-Za-z0-9.:()%_-]{1,32}$`)
)

// costRegions are Cost Explorer's names for costs outside any region.
var costRegions = map[string]bool{"global": true, "NoRegion": true}

func batchID(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	if len(s) > MaxBatchIDLen {
		return fmt.Errorf("is %d characters long, at most %d are allowed", len(s), MaxBatchIDLen)
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return errors.New("may contain only printable ASCII without spaces")
		}
	}
	return nil
}

func region(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	if !regionShape.MatchString(s) {
		return fmt.Errorf("%q is not an AWS region name such as us-east-1", s)
	}
	return nil
}

func shaped(re *regexp.Regexp, s, what string) error {
	if s == "" {
		return errors.New("is required")
	}
	if !re.MatchString(s) {
		return fmt.Errorf("%q is not %s", s, what)
	}
	return nil
}

func actionName(s string) error {
	return shaped(nameShape, s, "an action name (lower-case snake_case, at most 64 characters)")
}

func statistic(s string) error {
	return shaped(statisticShape, s, "a statistic such as Average, Maximum or p95")
}

func hostname(s string) error { return validation.Text(s, maxHostnameLen, false) }

func finite(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return errors.New("must be a finite number")
	}
	return nil
}

func fraction(v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return errors.New("must be between 0 and 1")
	}
	return nil
}

func timestamp(e *validation.Errors, field string, t *timestamppb.Timestamp) {
	if t != nil && t.CheckValid() != nil {
		e.Add(field, "is not a valid timestamp")
	}
}

// stringMap checks a reported tag or attribute map. Unlike the tags users
// write (validation.Tags), cloud resources carry whatever their owners
// set, aws: prefixes included, so only the sizes are bounded.
func stringMap(m map[string]string, maxEntries, maxValue int) error {
	if len(m) > maxEntries {
		return fmt.Errorf("has %d entries, at most %d are allowed", len(m), maxEntries)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		entry := fmt.Sprintf("[%q]", k)
		if k == "" || !utf8.ValidString(k) || utf8.RuneCountInString(k) > validation.MaxTagKeyLen {
			return validation.FieldError{Field: entry, Reason: fmt.Sprintf("key must be 1..%d characters of UTF-8", validation.MaxTagKeyLen)}
		}
		if v := m[k]; !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxValue {
			return validation.FieldError{Field: entry, Reason: fmt.Sprintf("value must be at most %d characters of UTF-8", maxValue)}
		}
	}
	return nil
}

func reportTags(m map[string]string) error {
	return stringMap(m, validation.MaxTags, validation.MaxTagValueLen)
}

func tooMany(e *validation.Errors, field string, n, limit int) {
	if n > limit {
		e.Add(field, fmt.Sprintf("has %d entries, at most %d are allowed in one batch; split it", n, limit))
	}
}

func checkCSR(e *validation.Errors, field, s string) *x509.CertificateRequest {
	if s == "" {
		e.Add(field, "is required")
		return nil
	}
	if len(s) > maxCSRBytes {
		e.Add(field, fmt.Sprintf("is %d bytes long, at most %d are allowed", len(s), maxCSRBytes))
		return nil
	}
	csr, err := pki.ParseCSRPEM([]byte(s))
	if err != nil {
		e.Add(field, err.Error())
		return nil
	}
	if err := pki.CheckCSR(csr); err != nil {
		e.Add(field, err.Error())
		return nil
	}
	return csr
}

func validateHeartbeat(r *sirsiv1.HeartbeatRequest) (store.Heartbeat, error) {
	var e validation.Errors
	hb := store.Heartbeat{Version: r.Version, Hostname: r.Hostname, LastError: r.LastError,
		CredentialsVerdict: r.CredentialsVerdict, CredentialsDetail: r.CredentialsDetail}
	e.Check("version", validation.Text(r.Version, maxVersionLen, false))
	e.Check("hostname", hostname(r.Hostname))
	e.Check("last_error", validation.Text(r.LastError, maxErrorLen, true))
	e.Check("credentials_verdict", validation.Enum(r.CredentialsVerdict, false))
	e.Check("credentials_detail", validation.Text(r.CredentialsDetail, maxCredentialsDetailLen, true))
	if d, ok := duration(&e, "uptime", r.Uptime); ok {
		if d < 0 {
			e.Add("uptime", "must not be negative")
		}
		hb.Uptime = d
	}
	tooMany(&e, "last_sweep_times", len(r.LastSweepTimes), maxSweeps)
	if len(r.LastSweepTimes) > 0 {
		hb.LastSweepTimes = make(map[string]time.Time, len(r.LastSweepTimes))
	}
	for k, t := range r.LastSweepTimes {
		field := fmt.Sprintf("last_sweep_times[%q]", k)
		if !nameShape.MatchString(k) {
			e.Add(field, "key must be a sweep name in lower-case snake_case (discovery, utilization, costs, optimize)")
			continue
		}
		if t == nil || t.CheckValid() != nil {
			e.Add(field, "is not a valid timestamp")
			continue
		}
		hb.LastSweepTimes[k] = t.AsTime()
	}
	tooMany(&e, "last_sweep_failures", len(r.LastSweepFailures), maxSweeps)
	if len(r.LastSweepFailures) > 0 {
		hb.LastSweepFailures = make(map[string]store.SweepFailure, len(r.LastSweepFailures))
	}
	for k, f := range r.LastSweepFailures {
		field := fmt.Sprintf("last_sweep_failures[%q]", k)
		if !nameShape.MatchString(k) {
			e.Add(field, "key must be a sweep name in lower-case snake_case (discovery, utilization, costs, optimize)")
			continue
		}
		if f.GetTime() == nil || f.GetTime().CheckValid() != nil {
			e.Add(field+".time", "is not a valid timestamp")
			continue
		}
		e.Check(field+".error", validation.Text(f.GetError(), maxErrorLen, true))
		hb.LastSweepFailures[k] = store.SweepFailure{At: f.GetTime().AsTime(), Error: f.GetError()}
	}
	return hb, errOrInvalid(&e)
}

func validateReportInventory(r *sirsiv1.ReportInventoryRequest) error {
	var e validation.Errors
	e.Check("batch_id", batchID(r.BatchId))
	tooMany(&e, "upserts", len(r.Upserts), MaxReportUpserts)
	tooMany(&e, "deletions", len(r.Deletions), MaxReportDeletions)
	tooMany(&e, "changes", len(r.Changes), MaxReportChanges)
	timestamp(&e, "observe_time", r.ObserveTime)
	if e.Err() != nil {
		return invalid(&e)
	}
	for i, u := range r.Upserts {
		p := fmt.Sprintf("upserts[%d]", i)
		if u == nil {
			e.Add(p, "is required")
			continue
		}
		e.Check(p+".resource_id", validation.ID(u.ResourceId))
		e.Check(p+".type", validation.ResourceType(u.Type))
		e.Check(p+".region", region(u.Region))
		e.Check(p+".arn", validation.Text(u.Arn, maxARNLen, false))
		e.Check(p+".name", validation.Text(u.Name, maxNameLen, false))
		e.Check(p+".size", validation.Text(u.Size, maxSizeLen, false))
		e.Check(p+".state", validation.Text(u.State, maxStateLen, false))
		e.Check(p+".tags", reportTags(u.Tags))
		e.Check(p+".attributes", stringMap(u.Attributes, maxAttributes, maxAttributeLen))
		e.Check(p+".monthly_cost", money.Check(u.MonthlyCost, false, true))
		timestamp(&e, p+".launch_time", u.LaunchTime)
		timestamp(&e, p+".first_seen_time", u.FirstSeenTime)
		timestamp(&e, p+".last_seen_time", u.LastSeenTime)
	}
	for i, d := range r.Deletions {
		p := fmt.Sprintf("deletions[%d]", i)
		if d == nil {
			e.Add(p, "is required")
			continue
		}
		e.Check(p+".resource_id", validation.ID(d.ResourceId))
		e.Check(p+".type", validation.ResourceType(d.Type))
		e.Check(p+".region", region(d.Region))
	}
	for i, c := range r.Changes {
		p := fmt.Sprintf("changes[%d]", i)
		if c == nil {
			e.Add(p, "is required")
			continue
		}
		e.Check(p+".resource_id", validation.ID(c.ResourceId))
		e.Check(p+".type", validation.ResourceType(c.Type))
		e.Check(p+".region", region(c.Region))
		tooMany(&e, p+".changed_fields", len(c.ChangedFields), maxChangedFields)
		for j, f := range c.ChangedFields {
			e.Check(fmt.Sprintf("%s.changed_fields[%d]", p, j), shaped(fieldPathShape, f, "a field name in lower-case snake_case, or attributes.<key>"))
		}
	}
	validateUnits(&e, r)
	return errOrInvalid(&e)
}

// validateUnits checks the membership an inventory batch states; its
// units apply at observe_time, so they need one.
func validateUnits(e *validation.Errors, r *sirsiv1.ReportInventoryRequest) {
	tooMany(e, "units", len(r.Units), MaxReportUnits)
	if len(r.Units) > 0 && r.ObserveTime == nil {
		e.Add("observe_time", "is required with units: membership applies to the sweep that observed it")
	}
	ids := 0
	for i, u := range r.Units {
		p := fmt.Sprintf("units[%d]", i)
		if u == nil {
			e.Add(p, "is required")
			continue
		}
		e.Check(p+".type", validation.ResourceType(u.Type))
		e.Check(p+".region", region(u.Region))
		e.Check(p+".error", validation.Text(u.Error, maxErrorLen, true))
		if u.Total < 0 || (!u.Last && u.Total != 0) {
			e.Add(p+".total", "must be the unit's id count on its last part, and zero on the others")
		}
		if u.Error != "" && (len(u.ResourceIds) > 0 || !u.Last) {
			e.Add(p+".error", "a failed unit names no ids and is its own last part")
		}
		ids += len(u.ResourceIds)
		for j, id := range u.ResourceIds {
			if err := validation.ID(id); err != nil {
				e.Check(fmt.Sprintf("%s.resource_ids[%d]", p, j), err)
				break
			}
		}
	}
	tooMany(e, "units[*].resource_ids", ids, MaxReportUnitIDs)
}

func validateReportUtilization(r *sirsiv1.ReportUtilizationRequest) error {
	var e validation.Errors
	e.Check("batch_id", batchID(r.BatchId))
	tooMany(&e, "summaries", len(r.Summaries), MaxReportSummaries)
	if e.Err() != nil {
		return invalid(&e)
	}
	for i, u := range r.Summaries {
		p := fmt.Sprintf("summaries[%d]", i)
		if u == nil {
			e.Add(p, "is required")
			continue
		}
		e.Check(p+".resource_id", validation.ID(u.ResourceId))
		e.Check(p+".region", region(u.Region))
		e.Check(p+".metric", validation.Metric(u.Metric))
		e.Check(p+".statistic", statistic(u.Statistic))
		e.Check(p+".value", finite(u.Value))
		e.Check(p+".coverage", fraction(u.Coverage))
		timestamp(&e, p+".window_start", u.WindowStart)
		timestamp(&e, p+".window_end", u.WindowEnd)
		if u.WindowStart.IsValid() && u.WindowEnd.IsValid() && u.WindowEnd.AsTime().Before(u.WindowStart.AsTime()) {
			e.Add(p+".window_end", "must not be before window_start")
		}
	}
	return errOrInvalid(&e)
}

func validateReportCosts(r *sirsiv1.ReportCostsRequest) error {
	var e validation.Errors
	e.Check("batch_id", batchID(r.BatchId))
	tooMany(&e, "records", len(r.Records), MaxReportCostRecords)
	tooMany(&e, "anomalies", len(r.Anomalies), MaxReportAnomalies)
	tooMany(&e, "resource_costs", len(r.ResourceCosts), MaxReportCostRecords)
	if (len(r.ResourceCosts) > 0 || r.ResourceCostsUnavailable != "") && (len(r.Records) > 0 || len(r.Anomalies) > 0) {
		e.Add("resource_costs", "are reported on their own, without records or anomalies")
	}
	if len(r.ResourceCosts) > 0 && r.ResourceCostsUnavailable != "" {
		e.Add("resource_costs_unavailable", "must be empty when resource_costs are reported")
	}
	e.Check("resource_costs_unavailable", validation.Text(r.ResourceCostsUnavailable, maxErrorLen, true))
	if e.Err() != nil {
		return invalid(&e)
	}
	for i, c := range r.ResourceCosts {
		p := fmt.Sprintf("resource_costs[%d]", i)
		if c == nil {
			e.Add(p, "is required")
			continue
		}
		_, err := validation.Date(c.Day)
		e.Check(p+".day", err)
		e.Check(p+".resource_type", validation.Text(c.ResourceType, maxServiceLen, false))
		e.Check(p+".resource_id", validation.Text(c.ResourceId, maxARNLen, false))
		// Absent is unknown; a credit can make a day negative.
		e.Check(p+".amount", money.Check(c.Amount, false, false))
	}
	for i, c := range r.Records {
		p := fmt.Sprintf("records[%d]", i)
		if c == nil {
			e.Add(p, "is required")
			continue
		}
		_, err := validation.Date(c.Day)
		e.Check(p+".day", err)
		e.Check(p+".service", validation.Text(c.Service, maxServiceLen, false))
		if c.Region != "" && !costRegions[c.Region] {
			e.Check(p+".region", region(c.Region))
		}
		e.Check(p+".tags", reportTags(c.Tags))
		// Credits and refunds are negative; absent is unknown.
		e.Check(p+".amount", money.Check(c.Amount, false, false))
	}
	for i, a := range r.Anomalies {
		p := fmt.Sprintf("anomalies[%d]", i)
		if a == nil {
			e.Add(p, "is required")
			continue
		}
		_, err := validation.Date(a.Day)
		e.Check(p+".day", err)
		e.Check(p+".service", validation.Text(a.Service, maxServiceLen, false))
		e.Check(p+".expected_amount", money.Check(a.ExpectedAmount, true, false))
		e.Check(p+".actual_amount", money.Check(a.ActualAmount, true, false))
		e.Check(p+".score", finite(a.Score))
		timestamp(&e, p+".detect_time", a.DetectTime)
	}
	return errOrInvalid(&e)
}

func validateReportRecommendations(r *sirsiv1.ReportRecommendationsRequest) error {
	var e validation.Errors
	e.Check("batch_id", batchID(r.BatchId))
	e.Check("policy_id", validation.ID(r.PolicyId))
	tooMany(&e, "recommendations", len(r.Recommendations), MaxReportRecommendations)
	e.Check("resource_types", validation.ResourceTypeList(r.ResourceTypes))
	if e.Err() != nil {
		return invalid(&e)
	}
	for i, c := range r.Recommendations {
		p := fmt.Sprintf("recommendations[%d]", i)
		if c == nil {
			e.Add(p, "is required")
			continue
		}
		e.Check(p+".resource_id", validation.ID(c.ResourceId))
		e.Check(p+".resource_type", validation.ResourceType(c.ResourceType))
		if len(r.ResourceTypes) > 0 && !slices.Contains(r.ResourceTypes, c.ResourceType) {
			e.Add(p+".resource_type", fmt.Sprintf("%q is not among the report's resource_types", c.ResourceType))
		}
		e.Check(p+".region", region(c.Region))
		e.Check(p+".action", actionName(c.Action))
		e.Check(p+".current_size", validation.Text(c.CurrentSize, maxSizeLen, false))
		e.Check(p+".proposed_size", validation.Text(c.ProposedSize, maxSizeLen, false))
		e.Check(p+".current_monthly_cost", money.Check(c.CurrentMonthlyCost, false, true))
		e.Check(p+".proposed_monthly_cost", money.Check(c.ProposedMonthlyCost, false, true))
		e.Check(p+".estimated_monthly_savings", money.Check(c.EstimatedMonthlySavings, false, false))
		e.Check(p+".confidence", fraction(c.Confidence))
		e.Check(p+".reason", validation.Text(c.Reason, maxReasonLen, true))
		e.Check(p+".skip_reason", validation.Enum(c.SkipReason, false))
		e.Check(p+".skip_detail", validation.Text(c.SkipDetail, validation.MaxSkipDetailLen, true))
		if (c.SkipReason == sirsiv1.SkipReason_SKIP_REASON_UNSPECIFIED) != (c.SkipDetail == "") {
			e.Add(p+".skip_detail", "is required with a skip_reason and must be empty without one")
		}
		tooMany(&e, p+".evidence", len(c.Evidence), maxEvidence)
		for j, ev := range c.Evidence {
			ep := fmt.Sprintf("%s.evidence[%d]", p, j)
			if ev == nil {
				e.Add(ep, "is required")
				continue
			}
			e.Check(ep+".metric", validation.Metric(ev.Metric))
			e.Check(ep+".statistic", statistic(ev.Statistic))
			e.Check(ep+".value", finite(ev.Value))
			e.Check(ep+".window_days", validation.IntRange(int64(ev.WindowDays), 0, maxEvidenceWindow))
			e.Check(ep+".coverage", fraction(ev.Coverage))
		}
	}
	return errOrInvalid(&e)
}

func validateReportActions(r *sirsiv1.ReportActionsRequest) error {
	var e validation.Errors
	e.Check("batch_id", batchID(r.BatchId))
	tooMany(&e, "actions", len(r.Actions), MaxReportActions)
	if e.Err() != nil {
		return invalid(&e)
	}
	for i, a := range r.Actions {
		p := fmt.Sprintf("actions[%d]", i)
		if a == nil {
			e.Add(p, "is required")
			continue
		}
		e.Check(p+".id", validation.ID(a.Id))
		e.Check(p+".policy_id", validation.OptionalID(a.PolicyId))
		e.Check(p+".recommendation_id", validation.OptionalID(a.RecommendationId))
		e.Check(p+".plan_id", validation.OptionalID(a.PlanId))
		e.Check(p+".status", validation.Enum(a.Status, true))
		checkActionRecord(&e, p, a)
	}
	return errOrInvalid(&e)
}

// checkActionRecord checks what a taken and a planned action have alike:
// the resource, the change, the outcome fields and the steps.
func checkActionRecord(e *validation.Errors, p string, a *sirsiv1.Action) {
	e.Check(p+".resource_id", validation.ID(a.ResourceId))
	e.Check(p+".resource_type", validation.ResourceType(a.ResourceType))
	e.Check(p+".region", region(a.Region))
	e.Check(p+".action", actionName(a.Action))
	e.Check(p+".from_size", validation.Text(a.FromSize, maxSizeLen, false))
	e.Check(p+".to_size", validation.Text(a.ToSize, maxSizeLen, false))
	e.Check(p+".realized_monthly_savings", money.Check(a.RealizedMonthlySavings, false, false))
	e.Check(p+".hourly_cost_before", ledger.CheckHourlyCost(a.HourlyCostBefore))
	e.Check(p+".hourly_cost_after", ledger.CheckHourlyCost(a.HourlyCostAfter))
	e.Check(p+".error", validation.Text(a.Error, maxErrorLen, true))
	e.Check(p+".error_code", validation.Text(a.ErrorCode, maxErrorCodeLen, true))
	timestamp(e, p+".start_time", a.StartTime)
	timestamp(e, p+".end_time", a.EndTime)
	tooMany(e, p+".steps", len(a.Steps), maxSteps)
	for j, st := range a.Steps {
		sp := fmt.Sprintf("%s.steps[%d]", p, j)
		if st == nil {
			e.Add(sp, "is required")
			continue
		}
		e.Check(sp+".name", shaped(nameShape, st.Name, "a step name in lower-case snake_case"))
		e.Check(sp+".status", shaped(nameShape, st.Status, "a step status in lower-case snake_case"))
		e.Check(sp+".detail", validation.Text(st.Detail, maxStepDetailLen, true))
		timestamp(e, sp+".time", st.Time)
	}
}

// Bounds of ReportActionPlan and ReserveActions.
const (
	MaxPlanActions = 1000
	// MaxPlanSkipped bounds what one plan lists as left alone: a large
	// fleet's Auto Scaling groups can hold thousands of instances.
	MaxPlanSkipped      = 10000
	MaxReservationCount = 1000
)

// validateReportActionPlan: a plan is what a run would do, so every action
// in it is planned, a dry run, and carries out a named recommendation (an
// approval of the plan must say exactly which changes it covers).
func validateReportActionPlan(r *sirsiv1.ReportActionPlanRequest) error {
	var e validation.Errors
	e.Check("batch_id", batchID(r.BatchId))
	pl := r.Plan
	if pl == nil {
		e.Add("plan", "is required")
		return invalid(&e)
	}
	e.Check("plan.id", validation.ID(pl.Id))
	e.Check("plan.policy_id", validation.ID(pl.PolicyId))
	if pl.Status != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_UNSPECIFIED && pl.Status != sirsiv1.ActionPlanStatus_ACTION_PLAN_STATUS_PENDING {
		e.Add("plan.status", "is set by the server: a reported plan is pending until a user approves it; leave it unset")
	}
	e.Check("plan.estimated_monthly_savings", money.Check(pl.EstimatedMonthlySavings, false, false))
	tooMany(&e, "plan.actions", len(pl.Actions), MaxPlanActions)
	if e.Err() != nil {
		return invalid(&e)
	}
	ids := map[string]bool{}
	recs := map[string]bool{}
	for i, a := range pl.Actions {
		p := fmt.Sprintf("plan.actions[%d]", i)
		if a == nil {
			e.Add(p, "is required")
			continue
		}
		e.Check(p+".id", validation.ID(a.Id))
		if ids[a.Id] {
			e.Add(p+".id", fmt.Sprintf("%q appears twice in the plan", a.Id))
		}
		ids[a.Id] = true
		e.Check(p+".recommendation_id", validation.ID(a.RecommendationId))
		if a.RecommendationId != "" && recs[a.RecommendationId] {
			e.Add(p+".recommendation_id", fmt.Sprintf("%q is carried out twice in the plan", a.RecommendationId))
		}
		recs[a.RecommendationId] = true
		if a.PolicyId != "" && a.PolicyId != pl.PolicyId {
			e.Add(p+".policy_id", "differs from plan.policy_id")
		}
		if a.PlanId != "" && a.PlanId != pl.Id {
			e.Add(p+".plan_id", "differs from plan.id")
		}
		if a.Status != sirsiv1.ActionStatus_ACTION_STATUS_PLANNED {
			e.Add(p+".status", "must be ACTION_STATUS_PLANNED: a plan holds actions not yet taken")
		}
		if !a.DryRun {
			e.Add(p+".dry_run", "must be true: a plan holds actions not yet taken")
		}
		checkActionRecord(&e, p, a)
	}
	tooMany(&e, "plan.skipped", len(pl.Skipped), MaxPlanSkipped)
	for i, k := range pl.Skipped {
		p := fmt.Sprintf("plan.skipped[%d]", i)
		if k == nil {
			e.Add(p, "is required")
			continue
		}
		e.Check(p+".resource_id", validation.ID(k.ResourceId))
		e.Check(p+".resource_type", validation.ResourceType(k.ResourceType))
		e.Check(p+".region", region(k.Region))
		e.Check(p+".action", actionName(k.Action))
		if k.Reason == "" {
			// A skip without its reason would hide exactly what it is for.
			e.Add(p+".reason", "is required: it says why the resource is left alone")
		} else {
			e.Check(p+".reason", validation.Text(k.Reason, maxErrorLen, false))
		}
	}
	return errOrInvalid(&e)
}

func validateReserveActions(r *sirsiv1.ReserveActionsRequest) error {
	var e validation.Errors
	// Same shape as a batch id: the agent makes both the same way.
	e.Check("reservation_id", batchID(r.ReservationId))
	e.Check("policy_id", validation.ID(r.PolicyId))
	e.Check("count", validation.IntRange(int64(r.Count), 1, MaxReservationCount))
	return errOrInvalid(&e)
}
