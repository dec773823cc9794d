package monitor

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
)

// ResourceCostDays is how many complete days PullResources asks for: Cost
// Explorer keeps 14 days of resource-level data counted from today, so 13
// complete days stay inside them at any hour.
const ResourceCostDays = 13

// ec2ComputeService is the SERVICE value GetCostAndUsageWithResources
// requires in its filter; its resources are EC2 instances.
const ec2ComputeService = "Amazon Elastic Compute Cloud - Compute"

// ec2InstanceType is the sirsi type of what ec2ComputeService bills per
// resource.
const ec2InstanceType = "aws_ec2_instance"

// resourceCostAttempts bounds the SDK's attempts at a resource-level
// call: the data is optional, and an endpoint that fails it for good
// (moto answers 500) must not hold the cost sweep through ten backoffs.
const resourceCostAttempts = 3

// PullResources returns what Cost Explorer billed each EC2 instance on each
// of the last ResourceCostDays complete UTC days, per linked account
// (GetCostAndUsageWithResources grouped by RESOURCE_ID), for the savings
// ledger's reconciliation, sorted by account, resource and day. Every call
// is billed, so the agent asks only when Pull asked afresh. An error means
// there is no resource-level data: the account has not opted in
// (DataUnavailableException), the role may not call it, or the endpoint
// does not serve it (moto answers 500).
func (c *Costs) PullResources(ctx context.Context) ([]*sirsiv1.ResourceCost, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	today := c.clock().UTC().Truncate(24 * time.Hour)
	groups := []cetypes.GroupDefinition{
		{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String(string(cetypes.DimensionLinkedAccount))},
		{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String(string(cetypes.DimensionResourceId))},
	}
	in := &costexplorer.GetCostAndUsageWithResourcesInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(today.AddDate(0, 0, -ResourceCostDays).Format(time.DateOnly)), End: aws.String(today.Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily, Metrics: []string{costMetric}, GroupBy: groups,
		Filter: &cetypes.Expression{Dimensions: &cetypes.DimensionValues{Key: cetypes.DimensionService, Values: []string{ec2ComputeService}}},
	}
	var out []*sirsiv1.ResourceCost
	err := c.pages(ctx, "GetCostAndUsageWithResources", groups, func(token *string) (cePage, error) {
		in.NextPageToken = token
		res, err := c.ce.GetCostAndUsageWithResources(ctx, in, func(o *costexplorer.Options) { o.RetryMaxAttempts = resourceCostAttempts })
		if err != nil {
			return cePage{}, err
		}
		return cePage{res.ResultsByTime, res.NextPageToken}, nil
	}, func(day string, keys []string, micros *int64, unit string) {
		rc := &sirsiv1.ResourceCost{Day: day, AccountId: keys[0], ResourceType: ec2InstanceType, ResourceId: keys[1]}
		if micros != nil {
			rc.Amount = money.Micros(*micros, unit)
		}
		out = append(out, rc)
	})
	if err != nil {
		return nil, fmt.Errorf("pulling resource-level costs: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.AccountId != b.AccountId {
			return a.AccountId < b.AccountId
		}
		if a.ResourceId != b.ResourceId {
			return a.ResourceId < b.ResourceId
		}
		return a.Day < b.Day
	})
	return out, nil
}
