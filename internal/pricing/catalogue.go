package pricing

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
)

// HoursPerMonth is the month length AWS uses to turn hourly prices into
// monthly ones on its pricing pages and in the Pricing Calculator.
const HoursPerMonth = 730

// Lookup failures; returned errors wrap one of these so callers can tell a
// gap in the catalogue from bad input.
var (
	ErrUnknownRegion = errors.New("region not in price catalogue")
	ErrUnknownType   = errors.New("type not in price catalogue")
	ErrInvalidInput  = errors.New("invalid pricing input")
)

// Engines the RDS prices are kept for, spelled as the AWS price list's
// databaseEngine attribute.
const (
	EngineMySQL      = "MySQL"
	EnginePostgreSQL = "PostgreSQL"
)

// S3Standard is the storage class BucketSizeBytes is priced at when the
// bucket's class is not known.
const S3Standard = "STANDARD"

// Architectures as EC2 DescribeInstanceTypes spells them.
const (
	ArchX86 = "x86_64"
	ArchARM = "arm64"
)

// InstanceSpec describes an EC2 instance type (or, with a "db." name, the
// RDS class built on it).
type InstanceSpec struct {
	Name               string  `json:"name"`
	Family             string  `json:"family"`
	Generation         int     `json:"generation"`
	VCPU               int     `json:"vcpu"`
	MemoryGiB          float64 `json:"memoryGiB"`
	Architecture       string  `json:"architecture"`
	Burstable          bool    `json:"burstable"`
	NetworkPerformance string  `json:"networkPerformance"`
	// NetworkRank orders NetworkPerformance: a higher rank is a faster
	// network. Filled from NetworkPerformance by the catalogue.
	NetworkRank int `json:"-"`
}

// Region is a region the catalogue holds prices for.
type Region struct {
	Code            string `json:"code"`
	Location        string `json:"location"`
	UsageTypePrefix string `json:"usageTypePrefix"`
}

// EC2Price is the on-demand Linux hourly price of one instance type in one
// region.
type EC2Price struct {
	Region       string  `json:"region"`
	InstanceType string  `json:"instanceType"`
	UsageType    string  `json:"usageType"`
	USD          float64 `json:"usd"`
}

// RDSPrice is the single-AZ on-demand hourly price of one DB instance class
// for one engine in one region.
type RDSPrice struct {
	Region        string  `json:"region"`
	InstanceClass string  `json:"instanceClass"`
	Engine        string  `json:"engine"`
	UsageType     string  `json:"usageType"`
	USD           float64 `json:"usd"`
}

// IOPSTier prices provisioned IOPS up to UpTo (0: no upper bound) per
// IOPS-month.
type IOPSTier struct {
	UpTo      int     `json:"upTo,omitempty"`
	UsageType string  `json:"usageType"`
	USD       float64 `json:"usd"`
}

// EBSPrice is the monthly price of one volume type in one region.
type EBSPrice struct {
	Region                  string     `json:"region"`
	VolumeType              string     `json:"volumeType"`
	UsageType               string     `json:"usageType"`
	GBMonth                 float64    `json:"gbMonth"`
	IncludedIOPS            int        `json:"includedIops,omitempty"`
	IOPSTiers               []IOPSTier `json:"iopsTiers,omitempty"`
	IncludedThroughputMiBps int        `json:"includedThroughputMiBps,omitempty"`
	ThroughputUsageType     string     `json:"throughputUsageType,omitempty"`
	ThroughputMiBpsMonth    float64    `json:"throughputMiBpsMonth,omitempty"`
}

// EIPPrice is the hourly price of an idle public IPv4 address (an Elastic
// IP not attached to a running instance).
type EIPPrice struct {
	Region     string  `json:"region"`
	UsageType  string  `json:"usageType"`
	USDPerHour float64 `json:"usdPerHour"`
}

// LambdaPrice is the first-tier Lambda price for one architecture.
type LambdaPrice struct {
	Region            string  `json:"region"`
	Architecture      string  `json:"architecture"`
	DurationUsageType string  `json:"durationUsageType"`
	USDPerGBSecond    float64 `json:"usdPerGBSecond"`
	RequestUsageType  string  `json:"requestUsageType"`
	USDPerRequest     float64 `json:"usdPerRequest"`
}

// RDSStoragePrice is the single-AZ price of one RDS storage type per
// GB-month (Multi-AZ storage costs twice as much).
type RDSStoragePrice struct {
	Region      string  `json:"region"`
	StorageType string  `json:"storageType"`
	UsageType   string  `json:"usageType"`
	GBMonth     float64 `json:"gbMonth"`
}

// S3Price is the first-tier price of one S3 storage class per GB-month.
type S3Price struct {
	Region       string  `json:"region"`
	StorageClass string  `json:"storageClass"`
	UsageType    string  `json:"usageType"`
	GBMonth      float64 `json:"gbMonth"`
}

// Snapshot is the serialised form of a catalogue (data/prices.json).
type Snapshot struct {
	SnapshotDate  string            `json:"snapshotDate"`
	Currency      string            `json:"currency"`
	Source        string            `json:"source"`
	Regions       []Region          `json:"regions"`
	InstanceTypes []InstanceSpec    `json:"instanceTypes"`
	EC2           []EC2Price        `json:"ec2"`
	RDS           []RDSPrice        `json:"rds"`
	EBS           []EBSPrice        `json:"ebs"`
	EIP           []EIPPrice        `json:"eip"`
	Lambda        []LambdaPrice     `json:"lambda"`
	RDSStorage    []RDSStoragePrice `json:"rdsStorage"`
	S3            []S3Price         `json:"s3"`
}

type typeKey struct{ region, name string }

type rdsKey struct{ region, class, engine string }

// Catalogue answers price and spec lookups. It is immutable and safe for
// concurrent use.
type Catalogue struct {
	snap    Snapshot
	regions map[string]Region
	specs   map[string]InstanceSpec
	ec2     map[typeKey]EC2Price
	rds     map[rdsKey]RDSPrice
	// dbClasses is every DB instance class with a price row.
	dbClasses map[string]bool
	ebs       map[typeKey]EBSPrice
	eip       map[string]EIPPrice
	lambda    map[typeKey]LambdaPrice
	rdsStor   map[typeKey]RDSStoragePrice
	s3        map[typeKey]S3Price
	// sorted lists every spec by family, then vCPU, then memory, so Types
	// returns a stable order without sorting per call.
	sorted []InstanceSpec
}

//go:embed data/prices.json
var embedded []byte

var loadEmbedded = sync.OnceValues(func() (*Catalogue, error) {
	return Parse(embedded)
})

// Embedded returns the catalogue built from the embedded snapshot. It is
// parsed and validated once; later calls return the same catalogue.
func Embedded() (*Catalogue, error) {
	c, err := loadEmbedded()
	if err != nil {
		return nil, fmt.Errorf("load embedded price snapshot: %w", err)
	}
	return c, nil
}

// Parse builds a catalogue from a snapshot document and validates it: every
// instance type and RDS class priced in every region, sane specs, known
// network classes and no duplicate rows.
func Parse(doc []byte) (*Catalogue, error) {
	var s Snapshot
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode price snapshot: %w", err)
	}
	return build(s)
}

// Snapshot returns a copy of the catalogue's data, e.g. to serve it or to
// store a refreshed catalogue.
func (c *Catalogue) Snapshot() Snapshot {
	s := c.snap
	s.Regions = append([]Region(nil), s.Regions...)
	s.InstanceTypes = append([]InstanceSpec(nil), s.InstanceTypes...)
	s.EC2 = append([]EC2Price(nil), s.EC2...)
	s.RDS = append([]RDSPrice(nil), s.RDS...)
	s.EBS = make([]EBSPrice, len(c.snap.EBS))
	for i, e := range c.snap.EBS {
		e.IOPSTiers = append([]IOPSTier(nil), e.IOPSTiers...)
		s.EBS[i] = e
	}
	s.EIP = append([]EIPPrice(nil), s.EIP...)
	s.Lambda = append([]LambdaPrice(nil), s.Lambda...)
	s.RDSStorage = append([]RDSStoragePrice(nil), s.RDSStorage...)
	s.S3 = append([]S3Price(nil), s.S3...)
	return s
}

// MarshalSnapshot writes c as a snapshot document that Parse reads back,
// indented.
func MarshalSnapshot(c *Catalogue) ([]byte, error) {
	b, err := json.MarshalIndent(c.Snapshot(), "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode price snapshot: %w", err)
	}
	return append(b, '\n'), nil
}

// SnapshotDate is the date of the catalogue's prices.
func (c *Catalogue) SnapshotDate() string { return c.snap.SnapshotDate }

// Source says where the catalogue's prices came from.
func (c *Catalogue) Source() string { return c.snap.Source }

// Regions lists the regions priced, in snapshot order.
func (c *Catalogue) Regions() []Region { return append([]Region(nil), c.snap.Regions...) }

// Region returns a priced region by code.
func (c *Catalogue) Region(code string) (Region, bool) {
	r, ok := c.regions[code]
	return r, ok
}

// InstanceType returns the spec of an EC2 instance type ("m5.large") or of
// an RDS instance class ("db.m5.large", the spec of the type it runs on).
func (c *Catalogue) InstanceType(name string) (InstanceSpec, bool) {
	if base, ok := strings.CutPrefix(name, "db."); ok {
		s, found := c.specs[base]
		if !found {
			return InstanceSpec{}, false
		}
		s.Name = name
		s.Family = "db." + s.Family
		return s, true
	}
	s, ok := c.specs[name]
	return s, ok
}

// EC2Hourly is the on-demand Linux price of an instance type, USD/hour.
func (c *Catalogue) EC2Hourly(region, instanceType string) (float64, error) {
	p, err := c.EC2Price(region, instanceType)
	return p.USD, err
}

// EC2Price returns the full price row of an instance type, with its usage
// type.
func (c *Catalogue) EC2Price(region, instanceType string) (EC2Price, error) {
	p, ok := c.ec2[typeKey{region, instanceType}]
	if !ok {
		return EC2Price{}, c.missing(region, "EC2 instance type", instanceType)
	}
	return p, nil
}

// DBClassOffered reports whether RDS offers DB instance class at all, as
// far as the catalogue knows: it has a price for it in some region and
// engine. The simulator refuses the classes it does not list, as RDS
// refuses classes that do not exist.
func (c *Catalogue) DBClassOffered(class string) bool { return c.dbClasses[class] }

// RDSHourly is the single-AZ on-demand price of a DB instance class for an
// engine, USD/hour. Engine names are matched as RDS spells them too
// ("mysql", "postgres").
func (c *Catalogue) RDSHourly(region, instanceClass, engine string) (float64, error) {
	p, err := c.RDSPrice(region, instanceClass, engine)
	return p.USD, err
}

// RDSPrice returns the full price row of a DB instance class.
func (c *Catalogue) RDSPrice(region, instanceClass, engine string) (RDSPrice, error) {
	eng, err := NormaliseEngine(engine)
	if err != nil {
		return RDSPrice{}, err
	}
	p, ok := c.rds[rdsKey{region, instanceClass, eng}]
	if !ok {
		return RDSPrice{}, c.missing(region, "RDS instance class", instanceClass)
	}
	return p, nil
}

// NormaliseEngine maps an RDS API engine name ("mysql", "postgres") or a
// price-list databaseEngine ("MySQL", "PostgreSQL") to the price-list
// spelling.
func NormaliseEngine(engine string) (string, error) {
	switch strings.ToLower(engine) {
	case "mysql":
		return EngineMySQL, nil
	case "postgres", "postgresql":
		return EnginePostgreSQL, nil
	}
	return "", fmt.Errorf("%w: engine %q: only MySQL and PostgreSQL are priced", ErrInvalidInput, engine)
}

// EBSMonthly is the monthly price of one volume, USD/month: its size, plus
// for gp3 the IOPS and throughput above the included baseline, plus for
// io1/io2 every provisioned IOPS (io2 in tiers). iops and throughputMiBps
// are ignored for types that do not bill them (gp2, st1, sc1).
func (c *Catalogue) EBSMonthly(region, volumeType string, sizeGiB, iops, throughputMiBps int) (float64, error) {
	if sizeGiB < 0 || iops < 0 || throughputMiBps < 0 {
		return 0, fmt.Errorf("%w: EBS size %d GiB, iops %d, throughput %d MiB/s: must not be negative", ErrInvalidInput, sizeGiB, iops, throughputMiBps)
	}
	p, err := c.EBSPrice(region, volumeType)
	if err != nil {
		return 0, err
	}
	total := float64(sizeGiB) * p.GBMonth
	billed := max(iops-p.IncludedIOPS, 0)
	lower := 0
	for _, t := range p.IOPSTiers {
		if billed <= 0 {
			break
		}
		n := billed
		if t.UpTo > 0 {
			n = min(billed, t.UpTo-lower)
			lower = t.UpTo
		}
		total += float64(n) * t.USD
		billed -= n
	}
	if p.ThroughputMiBpsMonth > 0 {
		total += float64(max(throughputMiBps-p.IncludedThroughputMiBps, 0)) * p.ThroughputMiBpsMonth
	}
	return total, nil
}

// EBSPrice returns the price row of a volume type.
func (c *Catalogue) EBSPrice(region, volumeType string) (EBSPrice, error) {
	p, ok := c.ebs[typeKey{region, volumeType}]
	if !ok {
		return EBSPrice{}, c.missing(region, "EBS volume type", volumeType)
	}
	return p, nil
}

// EIPHourly is the price of an idle public IPv4 address, USD/hour.
func (c *Catalogue) EIPHourly(region string) (float64, error) {
	p, ok := c.eip[region]
	if !ok {
		return 0, fmt.Errorf("%w: %q (Elastic IP)", ErrUnknownRegion, region)
	}
	return p.USDPerHour, nil
}

// LambdaPrice returns the per GB-second and per request prices for an
// architecture ("x86_64" or "arm64").
func (c *Catalogue) LambdaPrice(region, architecture string) (LambdaPrice, error) {
	p, ok := c.lambda[typeKey{region, architecture}]
	if !ok {
		return LambdaPrice{}, c.missing(region, "Lambda architecture", architecture)
	}
	return p, nil
}

// RDSStorageGBMonth is the single-AZ price of an RDS storage type ("gp2",
// "gp3"), USD per GB-month.
func (c *Catalogue) RDSStorageGBMonth(region, storageType string) (float64, error) {
	p, ok := c.rdsStor[typeKey{region, storageType}]
	if !ok {
		return 0, c.missing(region, "RDS storage type", storageType)
	}
	return p.GBMonth, nil
}

// S3GBMonth is the first-tier price of an S3 storage class ("STANDARD"),
// USD per GB-month.
func (c *Catalogue) S3GBMonth(region, storageClass string) (float64, error) {
	p, ok := c.s3[typeKey{region, storageClass}]
	if !ok {
		return 0, c.missing(region, "S3 storage class", storageClass)
	}
	return p.GBMonth, nil
}

func (c *Catalogue) missing(region, what, name string) error {
	if _, ok := c.regions[region]; !ok {
		return fmt.Errorf("%w: %q (looking up %s %q)", ErrUnknownRegion, region, what, name)
	}
	return fmt.Errorf("%w: %s %q in %s", ErrUnknownType, what, name, region)
}

// MonthlyFromHourly converts an hourly price to a monthly one the way AWS
// does (730 hours).
func MonthlyFromHourly(usdPerHour float64) float64 { return usdPerHour * HoursPerMonth }

// TypeFilter selects instance types; zero fields do not filter.
type TypeFilter struct {
	Families     []string
	Architecture string
	MinVCPU      int
	MaxVCPU      int
	MinMemoryGiB float64
	Burstable    *bool
	MinNetwork   int
}

// Types lists the EC2 instance types matching f, ordered by family, vCPU
// and memory.
func (c *Catalogue) Types(f TypeFilter) []InstanceSpec {
	var out []InstanceSpec
	for _, s := range c.sorted {
		if len(f.Families) > 0 && !contains(f.Families, s.Family) {
			continue
		}
		if f.Architecture != "" && s.Architecture != f.Architecture {
			continue
		}
		if s.VCPU < f.MinVCPU || (f.MaxVCPU > 0 && s.VCPU > f.MaxVCPU) || s.MemoryGiB < f.MinMemoryGiB {
			continue
		}
		if f.Burstable != nil && s.Burstable != *f.Burstable {
			continue
		}
		if s.NetworkRank < f.MinNetwork {
			continue
		}
		out = append(out, s)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Overrides replaces or adds catalogue rows, e.g. from a Pricing API refresh
// or DescribeInstanceTypes. Rows are matched on their keys (region + type,
// + engine for RDS). An EBS row without IOPS tiers or throughput price
// replaces the storage rate only.
type Overrides struct {
	InstanceTypes []InstanceSpec
	EC2           []EC2Price
	RDS           []RDSPrice
	EBS           []EBSPrice
	EIP           []EIPPrice
	Lambda        []LambdaPrice
	RDSStorage    []RDSStoragePrice
	S3            []S3Price
}

// Merge returns a new catalogue with o applied; c is unchanged. The result
// is validated like a snapshot except for completeness, so a refresh may
// add a region or type that is priced only partly; a bad row fails the
// whole merge.
func (c *Catalogue) Merge(o Overrides) (*Catalogue, error) {
	s := c.Snapshot()
	s.InstanceTypes = mergeRows(s.InstanceTypes, o.InstanceTypes, func(v InstanceSpec) string { return v.Name })
	s.EC2 = mergeRows(s.EC2, o.EC2, func(v EC2Price) string { return v.Region + "|" + v.InstanceType })
	rds := make([]RDSPrice, len(o.RDS))
	for i, p := range o.RDS {
		eng, err := NormaliseEngine(p.Engine)
		if err != nil {
			return nil, fmt.Errorf("merge RDS price %s/%s: %w", p.Region, p.InstanceClass, err)
		}
		p.Engine = eng
		rds[i] = p
	}
	s.RDS = mergeRows(s.RDS, rds, func(v RDSPrice) string { return v.Region + "|" + v.InstanceClass + "|" + v.Engine })
	ebs := make([]EBSPrice, len(o.EBS))
	for i, p := range o.EBS {
		// A price list refresh carries the storage rate alone; the IOPS and
		// throughput rates are separate products and stay as they were.
		if len(p.IOPSTiers) == 0 && p.ThroughputMiBpsMonth == 0 {
			if old, err := c.EBSPrice(p.Region, p.VolumeType); err == nil {
				p.IncludedIOPS, p.IOPSTiers = old.IncludedIOPS, old.IOPSTiers
				p.IncludedThroughputMiBps, p.ThroughputUsageType, p.ThroughputMiBpsMonth = old.IncludedThroughputMiBps, old.ThroughputUsageType, old.ThroughputMiBpsMonth
			}
		}
		ebs[i] = p
	}
	s.EBS = mergeRows(s.EBS, ebs, func(v EBSPrice) string { return v.Region + "|" + v.VolumeType })
	s.EIP = mergeRows(s.EIP, o.EIP, func(v EIPPrice) string { return v.Region })
	s.Lambda = mergeRows(s.Lambda, o.Lambda, func(v LambdaPrice) string { return v.Region + "|" + v.Architecture })
	s.RDSStorage = mergeRows(s.RDSStorage, o.RDSStorage, func(v RDSStoragePrice) string { return v.Region + "|" + v.StorageType })
	s.S3 = mergeRows(s.S3, o.S3, func(v S3Price) string { return v.Region + "|" + v.StorageClass })
	known := map[string]bool{}
	for _, r := range s.Regions {
		known[r.Code] = true
	}
	addRegion := func(code string) {
		if !known[code] {
			known[code] = true
			s.Regions = append(s.Regions, Region{Code: code})
		}
	}
	for _, p := range o.EC2 {
		addRegion(p.Region)
	}
	for _, p := range o.RDS {
		addRegion(p.Region)
	}
	for _, p := range o.EBS {
		addRegion(p.Region)
	}
	cat, err := buildWith(s, false)
	if err != nil {
		return nil, fmt.Errorf("merge price overrides: %w", err)
	}
	return cat, nil
}

func mergeRows[T any](base, over []T, key func(T) string) []T {
	idx := make(map[string]int, len(base))
	for i, v := range base {
		idx[key(v)] = i
	}
	for _, v := range over {
		if i, ok := idx[key(v)]; ok {
			base[i] = v
			continue
		}
		idx[key(v)] = len(base)
		base = append(base, v)
	}
	return base
}

func build(s Snapshot) (*Catalogue, error) { return buildWith(s, true) }

func buildWith(s Snapshot, complete bool) (*Catalogue, error) {
	c := &Catalogue{
		snap:      s,
		regions:   make(map[string]Region, len(s.Regions)),
		specs:     make(map[string]InstanceSpec, len(s.InstanceTypes)),
		ec2:       make(map[typeKey]EC2Price, len(s.EC2)),
		rds:       make(map[rdsKey]RDSPrice, len(s.RDS)),
		dbClasses: map[string]bool{},
		ebs:       make(map[typeKey]EBSPrice, len(s.EBS)),
		eip:       make(map[string]EIPPrice, len(s.EIP)),
		lambda:    make(map[typeKey]LambdaPrice, len(s.Lambda)),
		rdsStor:   make(map[typeKey]RDSStoragePrice, len(s.RDSStorage)),
		s3:        make(map[typeKey]S3Price, len(s.S3)),
	}
	if s.Currency != "USD" {
		return nil, fmt.Errorf("%w: currency %q: only USD is supported", ErrInvalidInput, s.Currency)
	}
	if len(s.Regions) == 0 {
		return nil, fmt.Errorf("%w: regions: none listed", ErrInvalidInput)
	}
	for _, r := range s.Regions {
		if r.Code == "" {
			return nil, fmt.Errorf("%w: regions: empty code", ErrInvalidInput)
		}
		if _, dup := c.regions[r.Code]; dup {
			return nil, fmt.Errorf("%w: regions: duplicate %q", ErrInvalidInput, r.Code)
		}
		c.regions[r.Code] = r
	}
	for i := range s.InstanceTypes {
		spec := &s.InstanceTypes[i]
		if err := checkSpec(*spec); err != nil {
			return nil, err
		}
		rank, err := NetworkRank(spec.NetworkPerformance)
		if err != nil {
			return nil, fmt.Errorf("instance type %q: %w", spec.Name, err)
		}
		spec.NetworkRank = rank
		if _, dup := c.specs[spec.Name]; dup {
			return nil, fmt.Errorf("%w: instanceTypes: duplicate %q", ErrInvalidInput, spec.Name)
		}
		c.specs[spec.Name] = *spec
	}
	region := func(what, code string) error {
		if _, ok := c.regions[code]; !ok {
			return fmt.Errorf("%w: %s: region %q not listed under regions", ErrInvalidInput, what, code)
		}
		return nil
	}
	for _, p := range s.EC2 {
		what := "ec2 price " + p.InstanceType
		if err := region(what, p.Region); err != nil {
			return nil, err
		}
		if _, ok := c.specs[p.InstanceType]; !ok {
			return nil, fmt.Errorf("%w: %s: no instanceTypes entry", ErrInvalidInput, what)
		}
		if err := checkPrice(what, p.USD); err != nil {
			return nil, err
		}
		k := typeKey{p.Region, p.InstanceType}
		if _, dup := c.ec2[k]; dup {
			return nil, fmt.Errorf("%w: %s in %s: duplicate", ErrInvalidInput, what, p.Region)
		}
		c.ec2[k] = p
	}
	rdsClasses := c.dbClasses
	for _, p := range s.RDS {
		what := "rds price " + p.InstanceClass
		if err := region(what, p.Region); err != nil {
			return nil, err
		}
		base, ok := strings.CutPrefix(p.InstanceClass, "db.")
		if _, known := c.specs[base]; !ok || !known {
			return nil, fmt.Errorf("%w: %s: class must be db.<instance type in instanceTypes>", ErrInvalidInput, what)
		}
		if p.Engine != EngineMySQL && p.Engine != EnginePostgreSQL {
			return nil, fmt.Errorf("%w: %s: engine %q: want %s or %s", ErrInvalidInput, what, p.Engine, EngineMySQL, EnginePostgreSQL)
		}
		if err := checkPrice(what, p.USD); err != nil {
			return nil, err
		}
		k := rdsKey{p.Region, p.InstanceClass, p.Engine}
		if _, dup := c.rds[k]; dup {
			return nil, fmt.Errorf("%w: %s %s in %s: duplicate", ErrInvalidInput, what, p.Engine, p.Region)
		}
		c.rds[k] = p
		rdsClasses[p.InstanceClass] = true
	}
	for _, p := range s.EBS {
		what := "ebs price " + p.VolumeType
		if err := region(what, p.Region); err != nil {
			return nil, err
		}
		if err := checkPrice(what, p.GBMonth); err != nil {
			return nil, err
		}
		for i, t := range p.IOPSTiers {
			if err := checkPrice(what+" iops tier", t.USD); err != nil {
				return nil, err
			}
			last := i == len(p.IOPSTiers)-1
			if (t.UpTo == 0) != last || (i > 0 && !last && t.UpTo <= p.IOPSTiers[i-1].UpTo) {
				return nil, fmt.Errorf("%w: %s: iopsTiers must ascend and only the last may be unbounded", ErrInvalidInput, what)
			}
		}
		k := typeKey{p.Region, p.VolumeType}
		if _, dup := c.ebs[k]; dup {
			return nil, fmt.Errorf("%w: %s in %s: duplicate", ErrInvalidInput, what, p.Region)
		}
		c.ebs[k] = p
	}
	for _, p := range s.EIP {
		if err := region("eip price", p.Region); err != nil {
			return nil, err
		}
		if err := checkPrice("eip price", p.USDPerHour); err != nil {
			return nil, err
		}
		if _, dup := c.eip[p.Region]; dup {
			return nil, fmt.Errorf("%w: eip price in %s: duplicate", ErrInvalidInput, p.Region)
		}
		c.eip[p.Region] = p
	}
	for _, p := range s.Lambda {
		what := "lambda price " + p.Architecture
		if err := region(what, p.Region); err != nil {
			return nil, err
		}
		if p.Architecture != ArchX86 && p.Architecture != ArchARM {
			return nil, fmt.Errorf("%w: %s: architecture must be %s or %s", ErrInvalidInput, what, ArchX86, ArchARM)
		}
		if err := checkPrice(what, p.USDPerGBSecond); err != nil {
			return nil, err
		}
		if err := checkPrice(what, p.USDPerRequest); err != nil {
			return nil, err
		}
		k := typeKey{p.Region, p.Architecture}
		if _, dup := c.lambda[k]; dup {
			return nil, fmt.Errorf("%w: %s in %s: duplicate", ErrInvalidInput, what, p.Region)
		}
		c.lambda[k] = p
	}
	for _, p := range s.RDSStorage {
		if err := addGBMonthRow(c.rdsStor, region, "rds storage price", p.Region, p.StorageType, p.GBMonth, p); err != nil {
			return nil, err
		}
	}
	for _, p := range s.S3 {
		if err := addGBMonthRow(c.s3, region, "s3 price", p.Region, p.StorageClass, p.GBMonth, p); err != nil {
			return nil, err
		}
	}
	if complete {
		if err := c.checkComplete(rdsClasses); err != nil {
			return nil, err
		}
	}
	c.sorted = make([]InstanceSpec, 0, len(c.specs))
	for _, s := range c.specs {
		c.sorted = append(c.sorted, s)
	}
	sort.Slice(c.sorted, func(i, j int) bool {
		a, b := c.sorted[i], c.sorted[j]
		if a.Family != b.Family {
			return a.Family < b.Family
		}
		if a.VCPU != b.VCPU {
			return a.VCPU < b.VCPU
		}
		return a.MemoryGiB < b.MemoryGiB
	})
	return c, nil
}

// addGBMonthRow checks a per-GB-month price row (listed region, sane
// price, no duplicate of region and name) and keeps it in m.
func addGBMonthRow[T any](m map[typeKey]T, region func(what, code string) error, what, code, name string, gbMonth float64, row T) error {
	what += " " + name
	if err := region(what, code); err != nil {
		return err
	}
	if err := checkPrice(what, gbMonth); err != nil {
		return err
	}
	k := typeKey{code, name}
	if _, dup := m[k]; dup {
		return fmt.Errorf("%w: %s in %s: duplicate", ErrInvalidInput, what, code)
	}
	m[k] = row
	return nil
}

// checkComplete insists that a snapshot prices everything everywhere, so a
// lookup for a listed type never fails for a listed region.
func (c *Catalogue) checkComplete(rdsClasses map[string]bool) error {
	for code := range c.regions {
		for name := range c.specs {
			if _, ok := c.ec2[typeKey{code, name}]; !ok {
				return fmt.Errorf("%w: no EC2 price for %s in %s", ErrInvalidInput, name, code)
			}
		}
		for class := range rdsClasses {
			for _, eng := range []string{EngineMySQL, EnginePostgreSQL} {
				if _, ok := c.rds[rdsKey{code, class, eng}]; !ok {
					return fmt.Errorf("%w: no RDS %s price for %s in %s", ErrInvalidInput, eng, class, code)
				}
			}
		}
		for _, vt := range []string{"gp2", "gp3", "io1", "io2", "st1", "sc1"} {
			if _, ok := c.ebs[typeKey{code, vt}]; !ok {
				return fmt.Errorf("%w: no EBS %s price in %s", ErrInvalidInput, vt, code)
			}
		}
		if _, ok := c.eip[code]; !ok {
			return fmt.Errorf("%w: no Elastic IP price in %s", ErrInvalidInput, code)
		}
		for _, a := range []string{ArchX86, ArchARM} {
			if _, ok := c.lambda[typeKey{code, a}]; !ok {
				return fmt.Errorf("%w: no Lambda %s price in %s", ErrInvalidInput, a, code)
			}
		}
		for _, st := range []string{"gp2", "gp3"} {
			if _, ok := c.rdsStor[typeKey{code, st}]; !ok {
				return fmt.Errorf("%w: no RDS %s storage price in %s", ErrInvalidInput, st, code)
			}
		}
		if _, ok := c.s3[typeKey{code, S3Standard}]; !ok {
			return fmt.Errorf("%w: no S3 %s price in %s", ErrInvalidInput, S3Standard, code)
		}
	}
	return nil
}

func checkSpec(s InstanceSpec) error {
	family, size, ok := strings.Cut(s.Name, ".")
	switch {
	case !ok || size == "" || family != s.Family:
		return fmt.Errorf("%w: instance type %q: name must be <family>.<size> with family %q", ErrInvalidInput, s.Name, s.Family)
	case s.Generation < 1 || s.Generation > 20:
		return fmt.Errorf("%w: instance type %q: generation %d out of range", ErrInvalidInput, s.Name, s.Generation)
	case s.VCPU < 1 || s.VCPU > 1024:
		return fmt.Errorf("%w: instance type %q: vcpu %d out of range", ErrInvalidInput, s.Name, s.VCPU)
	case !(s.MemoryGiB >= 0.5) || s.MemoryGiB > 32768:
		return fmt.Errorf("%w: instance type %q: memoryGiB %v out of range", ErrInvalidInput, s.Name, s.MemoryGiB)
	case s.Architecture != ArchX86 && s.Architecture != ArchARM:
		return fmt.Errorf("%w: instance type %q: architecture %q: want %s or %s", ErrInvalidInput, s.Name, s.Architecture, ArchX86, ArchARM)
	}
	return nil
}

func checkPrice(what string, usd float64) error {
	if math.IsNaN(usd) || usd <= 0 || usd > 1000 {
		return fmt.Errorf("%w: %s: price %v USD out of range (0, 1000]", ErrInvalidInput, what, usd)
	}
	return nil
}
