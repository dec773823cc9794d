package awssim

import (
	"slices"
	"time"
)

// Resource-level costs: GetCostAndUsageWithResources answers the same bill
// as GetCostAndUsage (each charge carries its resource's id), under the
// operation's own rules: the account must have opted in to resource-level
// data (Options.NoResourceLevelCosts plays one that has not), the filter is
// required and must select SERVICE "Amazon Elastic Compute Cloud -
// Compute", and only the last 14 days are kept.

// ceResourceRetentionDays is how far back resource-level data reaches.
const ceResourceRetentionDays = 14

// checkResourceQuery applies GetCostAndUsageWithResources' rules to a
// request whose period starts at start.
func (s *Sim) checkResourceQuery(rc *Request, in *ceUsageInput, start time.Time) *APIError {
	if in.Filter == nil {
		return ceValidation("Filter is required: GetCostAndUsageWithResources needs the expression SERVICE = %q", ceServiceEC2Compute)
	}
	if !selectsEC2Compute(in.Filter) {
		return ceValidation("Filter must contain the expression SERVICE = %q", ceServiceEC2Compute)
	}
	if s.opts.NoResourceLevelCosts {
		return Errorf("DataUnavailableException", "Resource-level data is not enabled for account %s: opt in under Cost Management preferences.", rc.Account)
	}
	if oldest := rc.Now.Truncate(24*time.Hour).AddDate(0, 0, -ceResourceRetentionDays); start.Before(oldest) {
		return ceValidation("Start date is more than %d days ago. Please adjust start date as we support only %d days of resource-level data (from %s).",
			ceResourceRetentionDays, ceResourceRetentionDays, oldest.Format(time.DateOnly))
	}
	return nil
}

// selectsEC2Compute reports whether a filter is, or is an And including,
// SERVICE = EC2 compute.
func selectsEC2Compute(e *ceExpression) bool {
	if e.Dimensions != nil {
		return e.Dimensions.Key == "SERVICE" && slices.Equal(e.Dimensions.Values, []string{ceServiceEC2Compute})
	}
	for i := range e.And {
		if selectsEC2Compute(&e.And[i]) {
			return true
		}
	}
	return false
}

// mentionsResourceID reports whether a GetCostAndUsage request groups or
// filters by RESOURCE_ID, which only GetCostAndUsageWithResources may.
func mentionsResourceID(in *ceUsageInput) bool {
	for _, g := range in.GroupBy {
		if g.Type == "DIMENSION" && g.Key == "RESOURCE_ID" {
			return true
		}
	}
	return in.Filter != nil && filtersResourceID(in.Filter)
}

func filtersResourceID(e *ceExpression) bool {
	switch {
	case e.Dimensions != nil:
		return e.Dimensions.Key == "RESOURCE_ID"
	case e.Not != nil:
		return filtersResourceID(e.Not)
	}
	for _, list := range [][]ceExpression{e.And, e.Or} {
		for i := range list {
			if filtersResourceID(&list[i]) {
				return true
			}
		}
	}
	return false
}
