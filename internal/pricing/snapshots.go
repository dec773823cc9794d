package pricing

import "fmt"

// ebsSnapshotGBMonth is the standard-tier EBS snapshot storage price, USD
// per GB-month (usage type <prefix>EBS:SnapshotUsage in the AmazonEC2 offer
// file), for the catalogue's regions, taken with the snapshot in
// data/prices.json. It sits beside the catalogue rather than in it because
// the Pricing API refresh does not cover snapshots and the snapshot file's
// schema is shared with the simulated account.
var ebsSnapshotGBMonth = map[string]float64{
	"us-east-1":      0.05,
	"us-west-2":      0.05,
	"eu-west-1":      0.05,
	"eu-central-1":   0.054,
	"ap-southeast-1": 0.05,
}

// EBSSnapshotGBMonth is the standard-tier snapshot storage price of a
// region, USD per GB-month.
func EBSSnapshotGBMonth(region string) (float64, error) {
	p, ok := ebsSnapshotGBMonth[region]
	if !ok {
		return 0, fmt.Errorf("%w: %q (EBS snapshot storage)", ErrUnknownRegion, region)
	}
	return p, nil
}
