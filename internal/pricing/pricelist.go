package pricing

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
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
	ServiceCode string         `json:"serviceCode"`
	Product     offerProduct   `json:"product"`
	Terms       priceListTerms `json:"terms"`
}

type priceListTerms struct {
	OnDemand map[string]offerTerm `json:"OnDemand"`
}

// offerProduct and offerTerm are spelled as both the Pricing API's
// PriceList documents and the bulk offer files spell them.
type offerProduct struct {
	ProductFamily string            `json:"productFamily"`
	SKU           string            `json:"sku"`
	Attributes    map[string]string `json:"attributes"`
}

type offerTerm struct {
	PriceDimensions map[string]struct {
		RateCode     string            `json:"rateCode"`
		Unit         string            `json:"unit"`
		Description  string            `json:"description"`
		BeginRange   string            `json:"beginRange"`
		EndRange     string            `json:"endRange"`
		PricePerUnit map[string]string `json:"pricePerUnit"`
	} `json:"priceDimensions"`
}

// ParsePriceListItem parses one GetProducts PriceList document.
func ParsePriceListItem(doc []byte) (PriceListItem, error) {
	var d priceListDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return PriceListItem{}, fmt.Errorf("parse price list item: %w", err)
	}
	return itemFromDoc(d.ServiceCode, d.Product, d.Terms.OnDemand)
}

// itemFromDoc checks a product and its on-demand terms: every price a
// number, not negative, NaN or infinite; an error names the SKU and the
// field.
func itemFromDoc(serviceCode string, p offerProduct, onDemand map[string]offerTerm) (PriceListItem, error) {
	it := PriceListItem{
		ServiceCode:   serviceCode,
		SKU:           p.SKU,
		ProductFamily: p.ProductFamily,
		Attributes:    p.Attributes,
	}
	if it.SKU == "" {
		return PriceListItem{}, fmt.Errorf("parse price list item: product.sku: missing")
	}
	for term, t := range onDemand {
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
// software (capacitystatus Used), single-AZ MySQL/PostgreSQL RDS instances
// and gp2/gp3 storage, EBS storage per GB-month, idle public IPv4
// addresses, Lambda duration and requests (first tier) and S3 Standard
// storage (first tier). Other products (Windows, dedicated hosts,
// reservations of capacity, Multi-AZ…) are not what the catalogue keeps and
// are skipped; the count of skipped items is returned so a refresh can tell
// a useful answer from an empty one.
func OverridesFromPriceList(items []PriceListItem) (Overrides, int, error) {
	var o Overrides
	skipped := 0
	lambda := map[typeKey]*LambdaPrice{}
	seen := map[string]bool{}
	for _, it := range items {
		a := it.Attributes
		region := a["regionCode"]
		price := it.OnDemand[0].USD
		need := func(what string, ok bool) error {
			if region == "" || !ok || price <= 0 {
				return fmt.Errorf("price list item %s: %s needs regionCode, %s and a positive price", it.SKU, it.ProductFamily, what)
			}
			return nil
		}
		switch {
		case it.ServiceCode == "AmazonEC2" && it.ProductFamily == "Compute Instance" &&
			a["operatingSystem"] == "Linux" && a["tenancy"] == "Shared" && a["preInstalledSw"] == "NA" && a["capacitystatus"] == "Used":
			if err := need("instanceType", a["instanceType"] != ""); err != nil {
				return Overrides{}, 0, err
			}
			o.EC2 = append(o.EC2, EC2Price{Region: region, InstanceType: a["instanceType"], UsageType: a["usagetype"], USD: price})
		case it.ServiceCode == "AmazonRDS" && it.ProductFamily == "Database Instance" && a["deploymentOption"] == "Single-AZ":
			eng, err := NormaliseEngine(a["databaseEngine"])
			if err != nil {
				skipped++
				continue
			}
			if err := need("a db.* instanceType", strings.HasPrefix(a["instanceType"], "db.")); err != nil {
				return Overrides{}, 0, err
			}
			o.RDS = append(o.RDS, RDSPrice{Region: region, InstanceClass: a["instanceType"], Engine: eng, UsageType: a["usagetype"], USD: price})
		case it.ServiceCode == "AmazonRDS" && it.ProductFamily == "Database Storage" && a["deploymentOption"] == "Single-AZ" &&
			rdsStorageTypes[a["volumeType"]] != "":
			st := rdsStorageTypes[a["volumeType"]]
			// Storage is listed once per engine at one price: keep the first.
			if k := "rds|" + region + "|" + st; !seen[k] {
				seen[k] = true
				if err := need("volumeType", true); err != nil {
					return Overrides{}, 0, err
				}
				o.RDSStorage = append(o.RDSStorage, RDSStoragePrice{Region: region, StorageType: st, UsageType: a["usagetype"], GBMonth: price})
			}
		case it.ServiceCode == "AmazonEC2" && it.ProductFamily == "Storage" && it.OnDemand[0].Unit == "GB-Mo":
			if err := need("volumeApiName", a["volumeApiName"] != ""); err != nil {
				return Overrides{}, 0, err
			}
			o.EBS = append(o.EBS, EBSPrice{Region: region, VolumeType: a["volumeApiName"], UsageType: a["usagetype"], GBMonth: price})
		case it.ServiceCode == "AmazonEC2" && strings.HasSuffix(a["usagetype"], "PublicIPv4:IdleAddress"):
			if err := need("usagetype", true); err != nil {
				return Overrides{}, 0, err
			}
			o.EIP = append(o.EIP, EIPPrice{Region: region, UsageType: a["usagetype"], USDPerHour: price})
		case it.ServiceCode == "AWSLambda" && lambdaGroups[a["group"]] != "":
			arch := ArchX86
			if strings.HasSuffix(a["group"], "-ARM") {
				arch = ArchARM
			}
			if err := need("group", true); err != nil {
				return Overrides{}, 0, err
			}
			k := typeKey{region, arch}
			lp := lambda[k]
			if lp == nil {
				lp = &LambdaPrice{Region: region, Architecture: arch}
				lambda[k] = lp
			}
			if lambdaGroups[a["group"]] == "duration" {
				lp.DurationUsageType, lp.USDPerGBSecond = a["usagetype"], price
			} else {
				lp.RequestUsageType, lp.USDPerRequest = a["usagetype"], price
			}
		case it.ServiceCode == "AmazonS3" && it.ProductFamily == "Storage" && a["volumeType"] == "Standard":
			if err := need("volumeType", true); err != nil {
				return Overrides{}, 0, err
			}
			o.S3 = append(o.S3, S3Price{Region: region, StorageClass: S3Standard, UsageType: a["usagetype"], GBMonth: price})
		default:
			skipped++
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(lambda), func(x, y typeKey) int { return strings.Compare(x.region+x.name, y.region+y.name) }) {
		lp := lambda[k]
		if lp.USDPerGBSecond == 0 || lp.USDPerRequest == 0 {
			// Half a price is no price: the catalogue keeps its row.
			skipped++
			continue
		}
		o.Lambda = append(o.Lambda, *lp)
	}
	return o, skipped, nil
}

// rdsStorageTypes maps the RDS price list's storage volumeType to the
// StorageType DescribeDBInstances reports.
var rdsStorageTypes = map[string]string{"General Purpose": "gp2", "General Purpose-GP3": "gp3"}

// lambdaGroups are the Lambda price list groups the catalogue keeps.
var lambdaGroups = map[string]string{
	"AWS-Lambda-Duration": "duration", "AWS-Lambda-Duration-ARM": "duration",
	"AWS-Lambda-Requests": "requests", "AWS-Lambda-Requests-ARM": "requests",
}
