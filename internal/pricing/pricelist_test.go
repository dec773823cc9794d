package pricing

import (
	"math"
	"strings"
	"testing"
)

// A GetProducts PriceList element as the Pricing API returns it (trimmed of
// attributes the parser does not read).
const ec2Item = `{"product":{"productFamily":"Compute Instance","attributes":{"instanceType":"m5.large","location":"US East (N. Virginia)","regionCode":"us-east-1","operatingSystem":"Linux","tenancy":"Shared","preInstalledSw":"NA","capacitystatus":"Used","usagetype":"BoxUsage:m5.large","vcpu":"2","memory":"8 GiB"},"sku":"2WTMTR9HDDT7AA73"},"serviceCode":"AmazonEC2","terms":{"OnDemand":{"2WTMTR9HDDT7AA73.JRTCKXETXF":{"priceDimensions":{"2WTMTR9HDDT7AA73.JRTCKXETXF.6YS6EN2CT7":{"unit":"Hrs","endRange":"Inf","description":"$0.097 per On Demand Linux m5.large Instance Hour","appliesTo":[],"rateCode":"2WTMTR9HDDT7AA73.JRTCKXETXF.6YS6EN2CT7","beginRange":"0","pricePerUnit":{"USD":"0.0970000000"}}},"sku":"2WTMTR9HDDT7AA73","effectiveDate":"2025-06-01T00:00:00Z","offerTermCode":"JRTCKXETXF","termAttributes":{}}}},"version":"20250601000000","publicationDate":"2025-06-01T00:00:00Z"}`

const rdsItem = `{"product":{"productFamily":"Database Instance","attributes":{"instanceType":"db.m5.large","regionCode":"eu-west-1","databaseEngine":"PostgreSQL","deploymentOption":"Single-AZ","usagetype":"EU-InstanceUsage:db.m5.large"},"sku":"SKURDS1"},"serviceCode":"AmazonRDS","terms":{"OnDemand":{"SKURDS1.T":{"priceDimensions":{"SKURDS1.T.R":{"unit":"Hrs","beginRange":"0","endRange":"Inf","pricePerUnit":{"USD":"0.2000000000"}}}}}}}`

const ebsItem = `{"product":{"productFamily":"Storage","attributes":{"volumeApiName":"gp3","regionCode":"us-east-1","usagetype":"EBS:VolumeUsage.gp3"},"sku":"SKUEBS1"},"serviceCode":"AmazonEC2","terms":{"OnDemand":{"SKUEBS1.T":{"priceDimensions":{"SKUEBS1.T.R":{"unit":"GB-Mo","beginRange":"0","endRange":"Inf","pricePerUnit":{"USD":"0.0800000000"}}}}}}}`

const windowsItem = `{"product":{"productFamily":"Compute Instance","attributes":{"instanceType":"m5.large","regionCode":"us-east-1","operatingSystem":"Windows","tenancy":"Shared","preInstalledSw":"NA","capacitystatus":"Used"},"sku":"SKUWIN"},"serviceCode":"AmazonEC2","terms":{"OnDemand":{"SKUWIN.T":{"priceDimensions":{"SKUWIN.T.R":{"unit":"Hrs","beginRange":"0","endRange":"Inf","pricePerUnit":{"USD":"0.188"}}}}}}}`

func TestParsePriceListItem(t *testing.T) {
	it, err := ParsePriceListItem([]byte(ec2Item))
	if err != nil {
		t.Fatalf("ParsePriceListItem: %v", err)
	}
	if it.SKU != "2WTMTR9HDDT7AA73" || it.ServiceCode != "AmazonEC2" || it.ProductFamily != "Compute Instance" ||
		it.Attributes["instanceType"] != "m5.large" || len(it.OnDemand) != 1 ||
		math.Abs(it.OnDemand[0].USD-0.097) > 1e-12 || it.OnDemand[0].Unit != "Hrs" || it.OnDemand[0].EndRange != 0 {
		t.Errorf("parsed %+v", it)
	}
	for name, doc := range map[string]string{
		"not json":      `{`,
		"no sku":        `{"product":{},"terms":{}}`,
		"no terms":      `{"product":{"sku":"A"},"terms":{"OnDemand":{}}}`,
		"no USD":        `{"product":{"sku":"A"},"terms":{"OnDemand":{"T":{"priceDimensions":{"R":{"pricePerUnit":{"EUR":"1"}}}}}}}`,
		"bad USD":       `{"product":{"sku":"A"},"terms":{"OnDemand":{"T":{"priceDimensions":{"R":{"pricePerUnit":{"USD":"cheap"}}}}}}}`,
		"bad end range": `{"product":{"sku":"A"},"terms":{"OnDemand":{"T":{"priceDimensions":{"R":{"endRange":"x","pricePerUnit":{"USD":"1"}}}}}}}`,
		"negative USD":  `{"product":{"sku":"A"},"terms":{"OnDemand":{"T":{"priceDimensions":{"R":{"pricePerUnit":{"USD":"-0.1"}}}}}}}`,
		"NaN USD":       `{"product":{"sku":"A"},"terms":{"OnDemand":{"T":{"priceDimensions":{"R":{"pricePerUnit":{"USD":"NaN"}}}}}}}`,
		"infinite USD":  `{"product":{"sku":"A"},"terms":{"OnDemand":{"T":{"priceDimensions":{"R":{"pricePerUnit":{"USD":"+Inf"}}}}}}}`,
	} {
		_, err := ParsePriceListItem([]byte(doc))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		// The error names the product and, for a price, the field.
		if strings.HasSuffix(name, "USD") && (!strings.Contains(err.Error(), "item A") || !strings.Contains(err.Error(), "pricePerUnit.USD")) {
			t.Errorf("%s: %v does not name the SKU and the field", name, err)
		}
	}
}

func TestOverridesFromPriceListRefreshesCatalogue(t *testing.T) {
	var items []PriceListItem
	for _, doc := range []string{ec2Item, rdsItem, ebsItem, windowsItem} {
		it, err := ParsePriceListItem([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	o, skipped, err := OverridesFromPriceList(items)
	if err != nil {
		t.Fatalf("OverridesFromPriceList: %v", err)
	}
	if skipped != 1 || len(o.EC2) != 1 || len(o.RDS) != 1 || len(o.EBS) != 1 {
		t.Fatalf("overrides %+v, skipped %d; want one of each and the Windows item skipped", o, skipped)
	}
	c, err := embeddedT(t).Merge(o)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.EC2Hourly("us-east-1", "m5.large"); math.Abs(p-0.097) > 1e-12 {
		t.Errorf("refreshed m5.large = %v, want 0.097", p)
	}
	if p, _ := c.RDSHourly("eu-west-1", "db.m5.large", "postgres"); math.Abs(p-0.2) > 1e-12 {
		t.Errorf("refreshed db.m5.large = %v, want 0.2", p)
	}
}

func FuzzParsePriceListItem(f *testing.F) {
	for _, s := range []string{ec2Item, rdsItem, ebsItem, windowsItem, `{}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		it, err := ParsePriceListItem(doc)
		if err != nil {
			return
		}
		if len(it.OnDemand) == 0 || it.SKU == "" {
			t.Fatalf("accepted an item without SKU or prices: %+v", it)
		}
		// Converting must not panic on any parsed item.
		_, _, _ = OverridesFromPriceList([]PriceListItem{it})
	})
}
