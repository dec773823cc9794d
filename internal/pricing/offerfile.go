package pricing

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// OfferFile is one AWS Price List bulk offer file, e.g.
// offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json: offerCode,
// publicationDate, products by SKU and terms.OnDemand by SKU.
type OfferFile struct {
	// Name identifies the file in errors and in the snapshot's source.
	Name string
	R    io.Reader
}

// ImportReport says what an import used.
type ImportReport struct {
	// Prices is how many catalogue rows the offer files priced.
	Prices int
	// Skipped counts products the catalogue does not keep, or of regions
	// and types outside the frame.
	Skipped int
}

// ImportOfferFiles rebuilds a catalogue from bulk offer files. frame (the
// embedded catalogue) gives the regions, instance specs and usage types;
// every price the files carry for them replaces frame's, and the result
// must still price every type in every region, as the embedded snapshot
// must. The snapshot date becomes the files' latest publication date and
// the source names the files. Offer files run to gigabytes, so each is
// read as a stream, keeping only the products the catalogue prices.
func ImportOfferFiles(frame *Catalogue, files []OfferFile) (*Catalogue, ImportReport, error) {
	var rep ImportReport
	if len(files) == 0 {
		return nil, rep, errors.New("importing offer files: none given")
	}
	var items []PriceListItem
	var published []string
	for _, f := range files {
		date, got, err := readOfferFile(f.R)
		if err != nil {
			return nil, rep, fmt.Errorf("importing offer file %s: %w", f.Name, err)
		}
		if len(date) < len("2006-01-02") {
			return nil, rep, fmt.Errorf("importing offer file %s: publicationDate %q: not a date", f.Name, date)
		}
		published = append(published, date[:10])
		items = append(items, got...)
	}
	over, skipped, err := OverridesFromPriceList(items)
	if err != nil {
		return nil, rep, fmt.Errorf("importing offer files: %w", err)
	}
	rep.Skipped = skipped
	inFrame := func(region string) bool {
		_, ok := frame.Region(region)
		if !ok {
			rep.Skipped++
		}
		return ok
	}
	over.EC2 = slices.DeleteFunc(over.EC2, func(p EC2Price) bool {
		_, known := frame.InstanceType(p.InstanceType)
		if !known {
			rep.Skipped++
		}
		return !known || !inFrame(p.Region)
	})
	over.RDS = slices.DeleteFunc(over.RDS, func(p RDSPrice) bool {
		_, known := frame.rds[rdsKey{p.Region, p.InstanceClass, p.Engine}]
		if !known {
			rep.Skipped++
		}
		return !known
	})
	over.EBS = slices.DeleteFunc(over.EBS, func(p EBSPrice) bool {
		_, known := frame.ebs[typeKey{p.Region, p.VolumeType}]
		if !known {
			rep.Skipped++
		}
		return !known
	})
	over.EIP = slices.DeleteFunc(over.EIP, func(p EIPPrice) bool { return !inFrame(p.Region) })
	over.Lambda = slices.DeleteFunc(over.Lambda, func(p LambdaPrice) bool { return !inFrame(p.Region) })
	over.RDSStorage = slices.DeleteFunc(over.RDSStorage, func(p RDSStoragePrice) bool { return !inFrame(p.Region) })
	over.S3 = slices.DeleteFunc(over.S3, func(p S3Price) bool { return !inFrame(p.Region) })
	rep.Prices = len(over.EC2) + len(over.RDS) + len(over.EBS) + len(over.EIP) + len(over.Lambda) + len(over.RDSStorage) + len(over.S3)
	if rep.Prices == 0 {
		return nil, rep, fmt.Errorf("importing offer files: they price nothing the catalogue keeps (%d products skipped)", rep.Skipped)
	}
	merged, err := frame.Merge(over)
	if err != nil {
		return nil, rep, fmt.Errorf("importing offer files: %w", err)
	}
	s := merged.Snapshot()
	slices.Sort(published)
	s.SnapshotDate = published[len(published)-1]
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	s.Source = fmt.Sprintf("AWS Price List bulk offer files %s (published %s to %s), imported by agentd pricing import over the embedded catalogue's regions, types and usage types; %d prices replaced, rows the files did not price are the embedded catalogue's",
		strings.Join(names, ", "), published[0], s.SnapshotDate, rep.Prices)
	cat, err := build(s)
	if err != nil {
		return nil, rep, fmt.Errorf("importing offer files: the result is incomplete: %w", err)
	}
	return cat, rep, nil
}

// readOfferFile streams one offer file, keeping the on-demand terms of the
// products whose family the catalogue prices.
func readOfferFile(r io.Reader) (published string, items []PriceListItem, err error) {
	var offerCode string
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{', "the file"); err != nil {
		return "", nil, err
	}
	products := map[string]offerProduct{}
	terms := map[string]map[string]offerTerm{}
	for dec.More() {
		key, err := stringToken(dec)
		if err != nil {
			return "", nil, err
		}
		switch key {
		case "offerCode":
			err = dec.Decode(&offerCode)
		case "publicationDate":
			err = dec.Decode(&published)
		case "products":
			err = eachEntry(dec, "products", func(sku string) error {
				var p offerProduct
				if err := dec.Decode(&p); err != nil {
					return fmt.Errorf("products.%s: %w", sku, err)
				}
				if pricedFamilies[p.ProductFamily] {
					products[sku] = p
				}
				return nil
			})
		case "terms":
			err = eachEntry(dec, "terms", func(kind string) error {
				if kind != "OnDemand" {
					return skipValue(dec)
				}
				return eachEntry(dec, "terms.OnDemand", func(sku string) error {
					if _, ok := products[sku]; !ok {
						return skipValue(dec)
					}
					var t map[string]offerTerm
					if err := dec.Decode(&t); err != nil {
						return fmt.Errorf("terms.OnDemand.%s: %w", sku, err)
					}
					terms[sku] = t
					return nil
				})
			})
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return "", nil, err
		}
	}
	if offerCode == "" {
		return "", nil, errors.New("offerCode: missing")
	}
	for _, sku := range slices.Sorted(maps.Keys(products)) {
		t, ok := terms[sku]
		if !ok {
			continue
		}
		it, err := itemFromDoc(offerCode, products[sku], t)
		if err != nil {
			return "", nil, err
		}
		items = append(items, it)
	}
	return published, items, nil
}

// pricedFamilies are the product families OverridesFromPriceList reads;
// the rest of an offer file is skipped unread.
var pricedFamilies = map[string]bool{
	"Compute Instance": true, "Storage": true, "IP Address": true,
	"Database Instance": true, "Database Storage": true, "Serverless": true,
}

func expectDelim(dec *json.Decoder, want json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%s: want %q, found %v", what, want, tok)
	}
	return nil
}

func stringToken(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("want an object key, found %v", tok)
	}
	return s, nil
}

// eachEntry calls fn with each key of the object that comes next; fn
// reads the value.
func eachEntry(dec *json.Decoder, what string, fn func(key string) error) error {
	if err := expectDelim(dec, '{', what); err != nil {
		return err
	}
	for dec.More() {
		key, err := stringToken(dec)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	return expectDelim(dec, '}', what)
}

func skipValue(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}
