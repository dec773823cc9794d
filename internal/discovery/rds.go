package discovery

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/resourceattr"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// rdsPageSize is DescribeDBInstances' largest MaxRecords.
const rdsPageSize = 100

// RDS instance records: the DB identifier is the resource id, the class is
// the size; tags come inline (TagList), so no ListTagsForResource per DB.
var rdsInstances = &collector{
	typ:     validation.ResourceRDSInstance,
	actions: []string{"rds:DescribeDBInstances"},
	collect: func(ctx context.Context, d *Discoverer, region string, _ any) ([]*sirsiv1.Resource, error) {
		c := rds.NewFromConfig(d.cfg, func(o *rds.Options) { o.Region = region })
		p := rds.NewDescribeDBInstancesPaginator(c, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(rdsPageSize)})
		var out []*sirsiv1.Resource
		for p.HasMorePages() {
			page, err := retryThrottled(ctx, func(ctx context.Context) (*rds.DescribeDBInstancesOutput, error) { return p.NextPage(ctx) })
			if err != nil {
				return nil, fmt.Errorf("describing RDS DB instances: %w", err)
			}
			for _, db := range page.DBInstances {
				out = append(out, d.dbResource(region, db))
			}
		}
		return out, nil
	},
}

func (d *Discoverer) dbResource(region string, db rdstypes.DBInstance) *sirsiv1.Resource {
	id := aws.ToString(db.DBInstanceIdentifier)
	tags := make(map[string]string, len(db.TagList))
	for _, t := range db.TagList {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	attrs := map[string]string{}
	putAttr(attrs, resourceattr.Engine, aws.ToString(db.Engine))
	putAttr(attrs, "engine_version", aws.ToString(db.EngineVersion))
	attrs[resourceattr.MultiAZ] = strconv.FormatBool(aws.ToBool(db.MultiAZ))
	putAttr(attrs, resourceattr.StorageType, aws.ToString(db.StorageType))
	if db.AllocatedStorage != nil {
		attrs[resourceattr.StorageGiB] = strconv.Itoa(int(*db.AllocatedStorage))
	}
	putAttr(attrs, "availability_zone", aws.ToString(db.AvailabilityZone))
	arn := aws.ToString(db.DBInstanceArn)
	if arn == "" {
		arn = fmt.Sprintf("arn:%s:rds:%s:%s:db:%s", partition(region), region, d.accountID, id)
	}
	return &sirsiv1.Resource{
		ResourceId: id,
		Arn:        arn,
		Name:       nameOf(tags, id),
		Size:       aws.ToString(db.DBInstanceClass),
		State:      aws.ToString(db.DBInstanceStatus),
		Tags:       tags,
		Attributes: attrs,
		LaunchTime: ts(db.InstanceCreateTime),
	}
}
