package awssim

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim/awstest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

func pricingClient(h *harness) *awspricing.Client { return awspricing.NewFromConfig(h.cfg) }

func termMatch(field, value string) pricingtypes.Filter {
	return pricingtypes.Filter{Type: pricingtypes.FilterTypeTermMatch, Field: aws.String(field), Value: aws.String(value)}
}

func TestGetProductsEC2InstanceRoundTripsThroughParser(t *testing.T) {
	h := newHarness(t, 0)
	out, err := pricingClient(h).GetProducts(context.Background(), &awspricing.GetProductsInput{
		ServiceCode: aws.String("AmazonEC2"), FormatVersion: aws.String("aws_v1"),
		Filters: []pricingtypes.Filter{
			termMatch("instanceType", "m6i.xlarge"), termMatch("location", "EU (Frankfurt)"), termMatch("operatingSystem", "Linux"),
			termMatch("tenancy", "Shared"), termMatch("preInstalledSw", "NA"), termMatch("capacitystatus", "Used"),
		},
	})
	if err != nil {
		t.Fatalf("GetProducts: %v", err)
	}
	h.checkLast(t, "pricing", "GetProducts")
	ex, _ := h.rec.Last()
	canary{method: http.MethodPost, path: "/", contentType: "application/x-amz-json-1.1"}.check(t, ex)
	if tgt := ex.Header.Get("X-Amz-Target"); tgt != "AWSPriceListService.GetProducts" {
		t.Errorf("X-Amz-Target = %q", tgt)
	}
	if len(out.PriceList) != 1 {
		t.Fatalf("%d products, want exactly m6i.xlarge in eu-central-1", len(out.PriceList))
	}
	item, err := pricing.ParsePriceListItem([]byte(out.PriceList[0]))
	if err != nil {
		t.Fatalf("the agent's parser rejects the sim's price list item: %v", err)
	}
	cat, _ := pricing.Embedded()
	want, _ := cat.EC2Hourly("eu-central-1", "m6i.xlarge")
	if item.Attributes["regionCode"] != "eu-central-1" || item.Attributes["vcpu"] != "4" || item.Attributes["memory"] != "16 GiB" ||
		item.Attributes["usagetype"] != "EUC1-BoxUsage:m6i.xlarge" || math.Abs(item.OnDemand[0].USD-want) > 1e-9 || item.OnDemand[0].Unit != "Hrs" {
		t.Errorf("item %+v, want price %v", item, want)
	}
	o, skipped, err := pricing.OverridesFromPriceList([]pricing.PriceListItem{item})
	if err != nil || skipped != 0 || len(o.EC2) != 1 || o.EC2[0].USD != want {
		t.Errorf("OverridesFromPriceList = %+v, %d, %v", o, skipped, err)
	}
}

func TestGetProductsRDSAndEBSFiltersAndPagination(t *testing.T) {
	h := newHarness(t, 0)
	in := &awspricing.GetProductsInput{ServiceCode: aws.String("AmazonRDS"), MaxResults: aws.Int32(2), Filters: []pricingtypes.Filter{
		termMatch("regionCode", "us-west-2"), termMatch("databaseEngine", "PostgreSQL"), termMatch("deploymentOption", "Single-AZ"),
	}}
	var items []pricing.PriceListItem
	p := awspricing.NewGetProductsPaginator(pricingClient(h), in)
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		h.checkLast(t, "pricing", "GetProducts")
		pages++
		if len(out.PriceList) > 2 {
			t.Fatalf("page of %d items, MaxResults 2", len(out.PriceList))
		}
		for _, doc := range out.PriceList {
			it, err := pricing.ParsePriceListItem([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
		}
	}
	cat, _ := pricing.Embedded()
	var want int
	for _, r := range cat.Snapshot().RDS {
		if r.Region == "us-west-2" && r.Engine == "PostgreSQL" {
			want++
		}
	}
	if len(items) != want || pages != (want+1)/2 {
		t.Errorf("%d items over %d pages, want %d items", len(items), pages, want)
	}
	o, _, err := pricing.OverridesFromPriceList(items)
	if err != nil || len(o.RDS) != want {
		t.Fatalf("overrides: %d RDS, %v", len(o.RDS), err)
	}
	for _, r := range o.RDS {
		if got, _ := cat.RDSHourly("us-west-2", r.InstanceClass, "postgres"); got != r.USD {
			t.Errorf("%s: price list %v, catalogue %v", r.InstanceClass, r.USD, got)
		}
	}
	out, err := pricingClient(h).GetProducts(context.Background(), &awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"),
		Filters: []pricingtypes.Filter{termMatch("volumeApiName", "gp3"), termMatch("location", "Asia Pacific (Singapore)")}})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "pricing", "GetProducts")
	if len(out.PriceList) != 1 {
		t.Fatalf("%d gp3 products in Singapore, want 1", len(out.PriceList))
	}
	it, _ := pricing.ParsePriceListItem([]byte(out.PriceList[0]))
	if it.ProductFamily != "Storage" || it.OnDemand[0].Unit != "GB-Mo" || it.OnDemand[0].USD != 0.096 {
		t.Errorf("gp3 Singapore: %+v", it)
	}
}

func TestPricingErrorsAndDescribeServices(t *testing.T) {
	h := newHarness(t, 0)
	_, err := pricingClient(h).GetProducts(context.Background(), &awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), MaxResults: aws.Int32(500)})
	wantAPIError(t, err, "InvalidParameterException", 400)
	h.checkLast(t, "pricing", "GetProducts")
	_, err = pricingClient(h).GetProducts(context.Background(), &awspricing.GetProductsInput{ServiceCode: aws.String("AmazonSES")})
	wantAPIError(t, err, "NotFoundException", 400)
	h.checkLast(t, "pricing", "GetProducts")
	_, err = pricingClient(h).GetProducts(context.Background(), &awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), NextToken: aws.String("x")})
	wantAPIError(t, err, "InvalidNextTokenException", 400)
	out, err := pricingClient(h).DescribeServices(context.Background(), &awspricing.DescribeServicesInput{})
	if err != nil {
		t.Fatal(err)
	}
	h.checkLast(t, "pricing", "DescribeServices")
	if len(out.Services) != 3 || aws.ToString(out.Services[0].ServiceCode) != "AWSLambda" || aws.ToString(out.Services[1].ServiceCode) != "AmazonEC2" ||
		aws.ToString(out.Services[2].ServiceCode) != "AmazonRDS" || len(out.Services[0].AttributeNames) == 0 {
		t.Errorf("DescribeServices %+v", out.Services)
	}
}

func FuzzPricingJSON(f *testing.F) {
	sim := fuzzSim(f)
	model := awstest.RequireModel(f, "pricing")
	f.Add("GetProducts", `{"ServiceCode":"AmazonEC2","Filters":[{"Type":"TERM_MATCH","Field":"instanceType","Value":"t3.micro"}],"MaxResults":3}`)
	f.Add("DescribeServices", `{}`)
	f.Add("GetProducts", `{"ServiceCode":1}`)
	f.Fuzz(func(t *testing.T, op, body string) {
		req := signedRequest(http.MethodPost, "http://sim/", "pricing", body)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSPriceListService."+op)
		rr := httptest.NewRecorder()
		sim.Handler().ServeHTTP(rr, req)
		if rr.Code == http.StatusOK {
			if err := model.ValidateResponse(op, rr.Body.Bytes()); err != nil {
				t.Fatalf("response: %v", err)
			}
			return
		}
		if rr.Code >= 500 {
			t.Fatalf("server error %d: %s", rr.Code, rr.Body.Bytes())
		}
		if _, err := model.ValidateError(rr.Code, rr.Header(), rr.Body.Bytes()); err != nil {
			t.Fatalf("error envelope: %v\n%s", err, rr.Body.Bytes())
		}
	})
}
