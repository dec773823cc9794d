package pricing

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// PriceListItem is one product of a Pricing API GetProducts PriceList (each
// element is a JSON document in a string), reduced to what the catalogue
// needs.
type PriceListItem struct {
	ServiceCode   string
	SKU           string
	ProductFamily string
	Attributes    map[string]string
	// OnDemand holds the on-demand price dimensions, ordered by BeginRange.
	OnDemand []PriceDimension
}

// PriceDimension is one rate of an on-demand term.
type PriceDimension struct {
	RateCode    string
	Unit        string
	Description string
	BeginRange  float64
	// EndRange is 0 for "Inf".
	EndRange float64
	USD      float64
}

type priceListDoc struct {
	ServiceCode string `json:"serviceCode"`
	Product     struct {
		ProductFamily string            `json:"productFamily"`
		SKU           string            `json:"sku"`
		Attributes    map[string]string `json:"attributes"`
	} `json:"product"`
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				RateCode     string            `json:"rateCode"`
				Unit         string            `json:"unit"`
				Description  string            `json:"description"`
				BeginRange   string            `json:"beginRange"`
				EndRange     string            `json:"endRange"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

// ParsePriceListItem parses one GetProducts PriceList document.
func ParsePriceListItem(doc []byte) (PriceListItem, error) {
	var d priceListDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return PriceListItem{}, fmt.Errorf("parse price list item: %w", err)
	}
	it := PriceListItem{
		ServiceCode:   d.ServiceCode,
		SKU:           d.Product.SKU,
		ProductFamily: d.Product.ProductFamily,
		Attributes:    d.Product.Attributes,
	}
	if it.SKU == "" {
		return PriceListItem{}, fmt.Errorf("parse price list item: product.sku: missing")
	}
	for term, t := range d.Terms.OnDemand {
		for code, pd := range t.PriceDimensions {
			usdText, ok := pd.PricePerUnit["USD"]
			if !ok {
				return PriceListItem{}, fmt.Errorf("parse price list item %s: terms.OnDemand.%s.priceDimensions.%s.pricePerUnit.USD: missing", it.SKU, term, code)
			}
			usd, err := strconv.ParseFloat(usdText, 64)
			if err != nil || math.IsNaN(usd) || math.IsInf(usd, 0) || usd < 0 {
				return PriceListItem{}, fmt.Errorf("parse price list item %s: terms.OnDemand.%s.priceDimensions.%s.pricePerUnit.USD %q: not a price (negative, NaN or not a number)", it.SKU, term, code, usdText)
			}
			begin, err := parseRange(pd.BeginRange)
			if err != nil {
				return PriceListItem{}, fmt.Errorf("parse price list item %s: beginRange: %w", it.SKU, err)
			}
			end, err := parseRange(pd.EndRange)
			if err != nil {
				return PriceListItem{}, fmt.Errorf("parse price list item %s: endRange: %w", it.SKU, err)
			}
			it.OnDemand = append(it.OnDemand, PriceDimension{RateCode: pd.RateCode, Unit: pd.Unit, Description: pd.Description, BeginRange: begin, EndRange: end, USD: usd})
		}
	}
	if len(it.OnDemand) == 0 {
		return PriceListItem{}, fmt.Errorf("parse price list item %s: terms.OnDemand: no price dimensions", it.SKU)
	}
	sort.Slice(it.OnDemand, func(i, j int) bool { return it.OnDemand[i].BeginRange < it.OnDemand[j].BeginRange })
	return it, nil
}

func parseRange(s string) (float64, error) {
	if s == "" || s == "Inf" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number or Inf", s)
	}
	return v, nil
}

// OverridesFromPriceList turns parsed price list items into catalogue
// overrides: EC2 Linux shared-tenancy instances without pre-installed
// software (capacitystatus Used), single-AZ MySQL/PostgreSQL RDS instances,
// and EBS storage per GB-month. Other products (Windows, dedicated hosts,
// reservations of capacity, Multi-AZ…) are not what the catalogue keeps and
// are skipped; the count of skipped items is returned so a refresh can tell
// a useful answer from an empty one.
func OverridesFromPriceList(items []PriceListItem) (Overrides, int, error) {
	var o Overrides
	skipped := 0
	for _, it := range items {
		a := it.Attributes
		region := a["regionCode"]
		price := it.OnDemand[0].USD
		switch {
		case it.ServiceCode == "AmazonEC2" && it.ProductFamily == "Compute Instance" &&
			a["operatingSystem"] == "Linux" && a["tenancy"] == "Shared" && a["preInstalledSw"] == "NA" && a["capacitystatus"] == "Used":
			if region == "" || a["instanceType"] == "" || price <= 0 {
				return Overrides{}, 0, fmt.Errorf("price list item %s: EC2 instance needs regionCode, instanceType and a price", it.SKU)
			}
			o.EC2 = append(o.EC2, EC2Price{Region: region, InstanceType: a["instanceType"], UsageType: a["usagetype"], USD: price})
		case it.ServiceCode == "AmazonRDS" && it.ProductFamily == "Database Instance" && a["deploymentOption"] == "Single-AZ":
			eng, err := NormaliseEngine(a["databaseEngine"])
			if err != nil {
				skipped++
				continue
			}
			if region == "" || !strings.HasPrefix(a["instanceType"], "db.") || price <= 0 {
				return Overrides{}, 0, fmt.Errorf("price list item %s: RDS instance needs regionCode, a db.* instanceType and a price", it.SKU)
			}
			o.RDS = append(o.RDS, RDSPrice{Region: region, InstanceClass: a["instanceType"], Engine: eng, UsageType: a["usagetype"], USD: price})
		case it.ServiceCode == "AmazonEC2" && it.ProductFamily == "Storage" && it.OnDemand[0].Unit == "GB-Mo":
			if region == "" || a["volumeApiName"] == "" || price <= 0 {
				return Overrides{}, 0, fmt.Errorf("price list item %s: EBS storage needs regionCode, volumeApiName and a price", it.SKU)
			}
			o.EBS = append(o.EBS, EBSPrice{Region: region, VolumeType: a["volumeApiName"], UsageType: a["usagetype"], GBMonth: price})
		default:
			skipped++
		}
	}
	return o, skipped, nil
}
