package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func TestResourcesDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewResourcesDataSource())
}

func TestListAllFollowsPages(t *testing.T) {
	pages := map[string]struct {
		items []int
		next  string
	}{
		"":   {[]int{1, 2}, "p2"},
		"p2": {[]int{3}, "p3"},
		"p3": {[]int{4, 5}, ""},
	}
	var calls []string
	got, err := listAll(context.Background(), "numbers", func(_ context.Context, token string) ([]int, string, error) {
		calls = append(calls, token)
		p := pages[token]
		return p.items, p.next, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1 2 3 4 5]" || strings.Join(calls, ",") != ",p2,p3" {
		t.Fatalf("got %v after calls %q", got, calls)
	}
}

func TestListAllEmptyIsNotNil(t *testing.T) {
	got, err := listAll(context.Background(), "numbers", func(context.Context, string) ([]int, string, error) {
		return nil, "", nil
	})
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("got %#v, %v; want an empty, non-nil list", got, err)
	}
}

func TestListAllErrors(t *testing.T) {
	boom := errors.New("boom")
	if _, err := listAll(context.Background(), "numbers", func(context.Context, string) ([]int, string, error) {
		return nil, "", boom
	}); !errors.Is(err, boom) {
		t.Errorf("call error not returned: %v", err)
	}
	if _, err := listAll(context.Background(), "numbers", func(_ context.Context, token string) ([]int, string, error) {
		return []int{1}, "same", nil
	}); err == nil || !strings.Contains(err.Error(), "same page token") {
		t.Errorf("repeated page token not detected: %v", err)
	}
	n := 0
	_, err := listAll(context.Background(), "numbers", func(context.Context, string) ([]int, string, error) {
		n++
		return []int{n}, fmt.Sprint("p", n), nil
	})
	if err == nil || !strings.Contains(err.Error(), "narrow the filters") || n != listMaxPages {
		t.Errorf("endless listing not bounded: err %v after %d calls", err, n)
	}
}

func TestResourceItemFromProto(t *testing.T) {
	it := resourceItemFromProto(&sirsiv1.Resource{
		ResourceId: "i-0abc", Type: "aws_ec2_instance", Region: "eu-west-1", AccountId: "111111111111",
		CloudAccountId: "ca-1", Name: "web", Size: "m5.large", MonthlyCost: money.USDFromFloat(70.08), State: "running",
		Tags: map[string]string{"env": "prod"}, Arn: "arn:aws:ec2:eu-west-1:111111111111:instance/i-0abc",
	})
	if it.ID.ValueString() != "i-0abc" || it.Size.ValueString() != "m5.large" || it.MonthlyCost.ValueFloat64() != 70.08 ||
		it.CloudAccountID.ValueString() != "ca-1" || it.Tags.Elements()["env"].String() != `"prod"` || it.ARN.IsNull() {
		t.Fatalf("mapping lost a field: %+v", it)
	}
	bare := resourceItemFromProto(&sirsiv1.Resource{ResourceId: "vol-1"})
	if !bare.Tags.IsNull() || !bare.ARN.IsNull() {
		t.Fatalf("absent tags/arn should be null: %+v", bare)
	}
}

func TestAccResourcesDataSource_populated(t *testing.T) {
	env := testAccStart(t)
	account := env.createCloudAccount(t, "111111111111")
	_, err := env.tenantStore().ApplyInventory(context.Background(), account, "inv-1", store.InventoryBatch{
		ObservedAt: time.Now(),
		Upserts: []*sirsiv1.Resource{
			{ResourceId: "i-0aaa", AccountId: "111111111111", Region: "us-east-1", Type: "aws_ec2_instance", Name: "web",
				Size: "m5.2xlarge", State: "running", MonthlyCost: money.USDFromFloat(280.32), Tags: map[string]string{"env": "prod"},
				Arn: "arn:aws:ec2:us-east-1:111111111111:instance/i-0aaa"},
			{ResourceId: "i-0bbb", AccountId: "111111111111", Region: "eu-west-1", Type: "aws_ec2_instance", Name: "batch",
				Size: "c5.large", State: "stopped", MonthlyCost: money.USDFromFloat(62.05), Tags: map[string]string{"env": "dev"}},
			{ResourceId: "vol-0ccc", AccountId: "111111111111", Region: "us-east-1", Type: "aws_ebs_volume",
				Size: "gp2 100GiB", State: "available", MonthlyCost: money.USDFromFloat(10)},
		},
	})
	if err != nil {
		t.Fatalf("seeding inventory: %v", err)
	}
	// A later sweep found the volume, the one after could not list volumes
	// in us-east-1: the volume stays, flagged stale, last seen at the first.
	seen := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if _, err := env.tenantStore().ApplyInventory(context.Background(), account, "inv-0", store.InventoryBatch{ObservedAt: seen,
		Upserts: []*sirsiv1.Resource{{ResourceId: "vol-0ccc", AccountId: "111111111111", Region: "us-east-1", Type: "aws_ebs_volume",
			Size: "gp2 100GiB", State: "available", MonthlyCost: money.USDFromFloat(10), LastSeenTime: timestamppb.New(seen)}},
	}); err != nil {
		t.Fatalf("seeding inventory: %v", err)
	}
	if _, err := env.tenantStore().ApplyInventory(context.Background(), account, "inv-2", store.InventoryBatch{ObservedAt: seen.Add(time.Hour),
		Units: []*sirsiv1.InventoryUnit{{Type: "aws_ebs_volume", Region: "us-east-1", Error: "UnauthorizedOperation", Last: true}},
	}); err != nil {
		t.Fatalf("reporting a failed unit: %v", err)
	}
	addr := "data.sirsi_resources.test"
	config := func(filters string) string {
		return env.tenantProvider() + "\ndata \"sirsi_resources\" \"test\" {\n" + filters + "\n}\n"
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config:      config(`  type = "aws_dynamodb_table"`),
				ExpectError: expectErr(`Invalid resource type`),
			},
			{
				Config: config(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items"), knownvalue.ListSizeExact(3)),
				},
			},
			{
				Config: config(`  type = "aws_ec2_instance"
  tags = { env = "prod" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{
							"id":               knownvalue.StringExact("i-0aaa"),
							"type":             knownvalue.StringExact("aws_ec2_instance"),
							"region":           knownvalue.StringExact("us-east-1"),
							"account_id":       knownvalue.StringExact("111111111111"),
							"cloud_account_id": knownvalue.StringExact(account),
							"name":             knownvalue.StringExact("web"),
							"size":             knownvalue.StringExact("m5.2xlarge"),
							"monthly_cost":     knownvalue.Float64Exact(280.32),
							"currency":         knownvalue.StringExact("USD"),
							"state":            knownvalue.StringExact("running"),
							"tags":             knownvalue.MapExact(map[string]knownvalue.Check{"env": knownvalue.StringExact("prod")}),
							"arn":              knownvalue.StringExact("arn:aws:ec2:us-east-1:111111111111:instance/i-0aaa"),
							"last_seen":        knownvalue.NotNull(),
							"stale":            knownvalue.Bool(false),
						}),
					})),
				},
			},
			{
				Config: config(`  type = "aws_ebs_volume"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items").AtSliceIndex(0).AtMapKey("stale"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items").AtSliceIndex(0).AtMapKey("last_seen"), knownvalue.StringExact(seen.Format(time.RFC3339))),
				},
			},
			{
				Config: config(`  region = "eu-west-1"
  cloud_account_id = "` + account + `"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items").AtSliceIndex(0).AtMapKey("id"), knownvalue.StringExact("i-0bbb")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("items"), knownvalue.ListSizeExact(1)),
				},
			},
		},
	})
}

func TestAccResourcesDataSource_empty(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: env.tenantProvider() + "\ndata \"sirsi_resources\" \"test\" {}\n",
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.sirsi_resources.test", tfjsonpath.New("items"), knownvalue.ListSizeExact(0)),
				statecheck.ExpectKnownValue("data.sirsi_resources.test", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
			},
		}},
	})
}
