package awssim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

func TestDescribeRegionsAndInstanceTypes(t *testing.T) {
	ts := startSim(t, Options{})
	c := ec2Client(ts, "us-east-1")
	ctx := context.Background()
	regs, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		t.Fatalf("DescribeRegions: %v", err)
	}
	if len(regs.Regions) != len(DefaultRegions) || aws.ToString(regs.Regions[0].RegionName) != DefaultRegions[0] {
		t.Fatalf("regions = %+v", regs.Regions)
	}
	_, err = c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"mars-north-1"}})
	if code := apiCode(t, err); code != "InvalidParameterValue" {
		t.Errorf("unknown region: %s", code)
	}

	it, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"m5.large", "m6g.large"}})
	if err != nil {
		t.Fatalf("DescribeInstanceTypes: %v", err)
	}
	byName := map[types.InstanceType]types.InstanceTypeInfo{}
	for _, x := range it.InstanceTypes {
		byName[x.InstanceType] = x
	}
	m5 := byName["m5.large"]
	if aws.ToInt32(m5.VCpuInfo.DefaultVCpus) != 2 || aws.ToInt64(m5.MemoryInfo.SizeInMiB) != 8192 ||
		len(m5.ProcessorInfo.SupportedArchitectures) != 1 || m5.ProcessorInfo.SupportedArchitectures[0] != types.ArchitectureTypeX8664 {
		t.Errorf("m5.large = %+v", m5)
	}
	if g := byName["m6g.large"]; len(g.ProcessorInfo.SupportedArchitectures) != 1 || g.ProcessorInfo.SupportedArchitectures[0] != types.ArchitectureTypeArm64 {
		t.Errorf("m6g.large architectures = %v", g.ProcessorInfo.SupportedArchitectures)
	}
	arm, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{
		{Name: aws.String("processor-info.supported-architecture"), Values: []string{"arm64"}}}})
	if err != nil {
		t.Fatalf("DescribeInstanceTypes arm64: %v", err)
	}
	if len(arm.InstanceTypes) == 0 {
		t.Fatal("no arm64 types")
	}
	for _, x := range arm.InstanceTypes {
		if x.ProcessorInfo.SupportedArchitectures[0] != types.ArchitectureTypeArm64 {
			t.Errorf("%s in arm64 filter", x.InstanceType)
		}
	}
	p := ec2.NewDescribeInstanceTypesPaginator(c, &ec2.DescribeInstanceTypesInput{MaxResults: aws.Int32(5)})
	n, pages := 0, 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("page: %v", err)
		}
		if len(out.InstanceTypes) > 5 {
			t.Fatalf("page of %d > MaxResults 5", len(out.InstanceTypes))
		}
		n += len(out.InstanceTypes)
		pages++
	}
	cat, err := typeCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	want := len(cat.Types(pricing.TypeFilter{}))
	if n != want || pages != (want+4)/5 {
		t.Errorf("paged %d types in %d pages, want %d", n, pages, want)
	}
	_, err = c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"x9.huge"}})
	if code := apiCode(t, err); code != "InvalidInstanceType" {
		t.Errorf("unknown type: %s", code)
	}
}
