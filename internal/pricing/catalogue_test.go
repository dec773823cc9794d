package pricing

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func embeddedT(t testing.TB) *Catalogue {
	t.Helper()
	c, err := Embedded()
	if err != nil {
		t.Fatalf("Embedded: %v", err)
	}
	return c
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

var requiredFamilies = []string{"t3", "t3a", "t4g", "m5", "m6i", "m6g", "m7i", "m7g", "c5", "c6i", "c6g", "c7i", "c7g", "r5", "r6i", "r6g", "r7i"}
var requiredRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"}

func TestEmbeddedCoversEveryTypeInEveryRegion(t *testing.T) {
	c := embeddedT(t)
	if c.SnapshotDate() == "" {
		t.Fatal("snapshot date missing")
	}
	for _, fam := range requiredFamilies {
		types := c.Types(TypeFilter{Families: []string{fam}})
		sizes := map[string]bool{}
		for _, s := range types {
			sizes[strings.TrimPrefix(s.Name, fam+".")] = true
			for _, r := range requiredRegions {
				p, err := c.EC2Hourly(r, s.Name)
				if err != nil || p <= 0 {
					t.Errorf("EC2Hourly(%s, %s) = %v, %v", r, s.Name, p, err)
				}
			}
		}
		want := []string{"large", "xlarge", "2xlarge", "4xlarge"}
		if strings.HasPrefix(fam, "t") {
			want = []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"}
		} else if fam != "c5" {
			want = append(want, "8xlarge")
		}
		for _, w := range want {
			if !sizes[w] {
				t.Errorf("family %s lacks size %s", fam, w)
			}
		}
	}
	for _, fam := range []string{"db.t3", "db.t4g", "db.m5", "db.m6i", "db.m6g", "db.m7g", "db.r5", "db.r6i", "db.r6g"} {
		for _, r := range requiredRegions {
			for _, eng := range []string{"mysql", "postgres"} {
				if p, err := c.RDSHourly(r, fam+".large", eng); err != nil || p <= 0 {
					t.Errorf("RDSHourly(%s, %s.large, %s) = %v, %v", r, fam, eng, p, err)
				}
			}
		}
	}
}

func TestEmbeddedSpecsAndPricesAreSane(t *testing.T) {
	c := embeddedT(t)
	for _, s := range c.Types(TypeFilter{}) {
		wantArm := strings.HasSuffix(s.Family, "g")
		if (s.Architecture == ArchARM) != wantArm {
			t.Errorf("%s: architecture %s", s.Name, s.Architecture)
		}
		if s.Burstable != strings.HasPrefix(s.Family, "t") {
			t.Errorf("%s: burstable %v", s.Name, s.Burstable)
		}
		// AWS prices a family in proportion to vCPUs (t-types by size,
		// all 2 vCPUs up to large), so per-vCPU prices above large agree.
		if !s.Burstable {
			large := s.Family + ".large"
			for _, r := range requiredRegions {
				pl, _ := c.EC2Hourly(r, large)
				p, _ := c.EC2Hourly(r, s.Name)
				if math.Abs(p/float64(s.VCPU)-pl/2) > 1e-6 {
					t.Errorf("%s in %s: %v/h is not proportional to %s %v/h", s.Name, r, p, large, pl)
				}
			}
		}
		// No region is cheaper than us-east-1 for these families.
		base, _ := c.EC2Hourly("us-east-1", s.Name)
		for _, r := range requiredRegions {
			if p, _ := c.EC2Hourly(r, s.Name); p < base || p > base*1.4 {
				t.Errorf("%s in %s: %v/h, us-east-1 %v/h: regional ratio unrealistic", s.Name, r, p, base)
			}
		}
	}
	m5, ok := c.InstanceType("m5.large")
	if !ok || m5.VCPU != 2 || m5.MemoryGiB != 8 || m5.Generation != 5 || m5.Architecture != ArchX86 {
		t.Errorf("m5.large spec = %+v, %v", m5, ok)
	}
	db, ok := c.InstanceType("db.r6g.xlarge")
	if !ok || db.VCPU != 4 || db.MemoryGiB != 32 || db.Family != "db.r6g" || db.Architecture != ArchARM {
		t.Errorf("db.r6g.xlarge spec = %+v, %v", db, ok)
	}
	if _, ok := c.InstanceType("m5.huge"); ok {
		t.Error("m5.huge found")
	}
	if p, _ := c.EC2Hourly("us-east-1", "m5.large"); !near(p, 0.096) {
		t.Errorf("m5.large us-east-1 = %v, want 0.096 (price list BoxUsage:m5.large)", p)
	}
	if p, _ := c.EC2Hourly("us-east-1", "t3.nano"); !near(p, 0.0052) {
		t.Errorf("t3.nano us-east-1 = %v, want 0.0052", p)
	}
	if p, _ := c.EIPHourly("eu-west-1"); !near(p, 0.005) {
		t.Errorf("EIPHourly = %v, want 0.005", p)
	}
	lp, err := c.LambdaPrice("us-east-1", ArchARM)
	if err != nil || !near(lp.USDPerGBSecond, 0.0000133334) || !near(lp.USDPerRequest, 0.0000002) {
		t.Errorf("LambdaPrice arm64 = %+v, %v", lp, err)
	}
}

func TestLookupErrors(t *testing.T) {
	c := embeddedT(t)
	if _, err := c.EC2Hourly("mars-north-1", "m5.large"); !errors.Is(err, ErrUnknownRegion) {
		t.Errorf("unknown region: %v", err)
	}
	if _, err := c.EC2Hourly("us-east-1", "m5.huge"); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := c.RDSHourly("us-east-1", "db.m5.large", "oracle-ee"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("unpriced engine: %v", err)
	}
	if _, err := c.EBSMonthly("us-east-1", "gp3", -1, 0, 0); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("negative size: %v", err)
	}
	if _, err := c.EBSMonthly("us-east-1", "standard", 10, 0, 0); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unpriced volume type: %v", err)
	}
}

// TestDBClassOffered: the classes offered are exactly those with a price
// row, so an EC2 type, a size the family lacks, or a made-up family is not.
func TestDBClassOffered(t *testing.T) {
	c := embeddedT(t)
	for class, want := range map[string]bool{"db.m5.large": true, "db.t4g.micro": true, "db.m5.3xlarge": false, "db.z9.large": false, "m5.large": false, "": false} {
		if got := c.DBClassOffered(class); got != want {
			t.Errorf("DBClassOffered(%q) = %v, want %v", class, got, want)
		}
		_, err := c.RDSHourly("us-east-1", class, "mysql")
		if (err == nil) != want {
			t.Errorf("%q offered %v but priced: %v", class, want, err)
		}
	}
}

func TestEBSMonthly(t *testing.T) {
	c := embeddedT(t)
	cases := []struct {
		region, vt       string
		size, iops, thru int
		want             float64
	}{
		{"us-east-1", "gp2", 100, 300, 0, 10},                           // 100 × 0.10; gp2 IOPS are not billed
		{"us-east-1", "gp3", 100, 3000, 125, 8},                         // baseline IOPS and throughput included
		{"us-east-1", "gp3", 100, 4000, 250, 8 + 5 + 5},                 // + 1000 × 0.005 + 125 × 0.04
		{"us-east-1", "io1", 100, 1000, 0, 12.5 + 65},                   // 100 × 0.125 + 1000 × 0.065
		{"us-east-1", "io2", 100, 70000, 0, 12.5 + 2080 + 1456 + 191.1}, // 32000 × 0.065 + 32000 × 0.0455 + 6000 × 0.03185
		{"eu-central-1", "st1", 500, 0, 0, 27},                          // 500 × 0.054
		{"ap-southeast-1", "sc1", 1000, 0, 0, 18},                       // 1000 × 0.018
	}
	for _, tc := range cases {
		got, err := c.EBSMonthly(tc.region, tc.vt, tc.size, tc.iops, tc.thru)
		if err != nil || math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("EBSMonthly(%s, %s, %d, %d, %d) = %v, %v; want %v", tc.region, tc.vt, tc.size, tc.iops, tc.thru, got, err, tc.want)
		}
	}
	if got := MonthlyFromHourly(0.096); !near(got, 70.08) {
		t.Errorf("MonthlyFromHourly(0.096) = %v, want 70.08", got)
	}
}

func TestNetworkRankOrder(t *testing.T) {
	order := []string{"Low", "Moderate", "Up to 5 Gigabit", "Up to 10 Gigabit", "Up to 12.5 Gigabit", "10 Gigabit", "12 Gigabit", "12.5 Gigabit", "18.75 Gigabit", "25 Gigabit"}
	prev := -1
	for _, s := range order {
		r, err := NetworkRank(s)
		if err != nil {
			t.Fatalf("NetworkRank(%q): %v", s, err)
		}
		if r <= prev {
			t.Errorf("NetworkRank(%q) = %d, not above the previous %d", s, r, prev)
		}
		prev = r
	}
	for _, bad := range []string{"", "Fast", "Up to Gigabit", "-1 Gigabit", "NaN Gigabit"} {
		if _, err := NetworkRank(bad); err == nil {
			t.Errorf("NetworkRank(%q) accepted", bad)
		}
	}
	c := embeddedT(t)
	fast := c.Types(TypeFilter{MinNetwork: mustRank(t, "10 Gigabit"), Families: []string{"m5"}})
	for _, s := range fast {
		if strings.HasPrefix(s.NetworkPerformance, "Up to") {
			t.Errorf("MinNetwork 10 Gigabit returned %s (%s)", s.Name, s.NetworkPerformance)
		}
	}
	if len(fast) == 0 {
		t.Error("no m5 type with a sustained 10 Gigabit network")
	}
}

func mustRank(t *testing.T, s string) int {
	t.Helper()
	r, err := NetworkRank(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTypesFilter(t *testing.T) {
	c := embeddedT(t)
	burst := false
	got := c.Types(TypeFilter{Architecture: ArchARM, MinVCPU: 4, MaxVCPU: 8, MinMemoryGiB: 32, Burstable: &burst})
	names := map[string]bool{}
	for _, s := range got {
		names[s.Name] = true
		if s.Architecture != ArchARM || s.VCPU < 4 || s.VCPU > 8 || s.MemoryGiB < 32 || s.Burstable {
			t.Errorf("filter returned %+v", s)
		}
	}
	for _, want := range []string{"m6g.2xlarge", "r6g.xlarge", "r6g.2xlarge", "m7g.2xlarge"} {
		if !names[want] {
			t.Errorf("filter lacks %s; got %v", want, names)
		}
	}
	if names["c6g.2xlarge"] {
		t.Error("c6g.2xlarge has 16 GiB yet passed MinMemoryGiB 32")
	}
}

func snapshotDoc(t *testing.T, mutate func(*Snapshot)) []byte {
	t.Helper()
	s := embeddedT(t).Snapshot()
	mutate(&s)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRejectsBadSnapshots(t *testing.T) {
	cases := map[string]func(*Snapshot){
		"duplicate type":       func(s *Snapshot) { s.InstanceTypes = append(s.InstanceTypes, s.InstanceTypes[0]) },
		"duplicate price":      func(s *Snapshot) { s.EC2 = append(s.EC2, s.EC2[0]) },
		"missing price":        func(s *Snapshot) { s.EC2 = s.EC2[1:] },
		"missing RDS engine":   func(s *Snapshot) { s.RDS = s.RDS[1:] },
		"zero price":           func(s *Snapshot) { s.EC2[3].USD = 0 },
		"unknown region":       func(s *Snapshot) { s.EBS[0].Region = "xx-none-1" },
		"bad architecture":     func(s *Snapshot) { s.InstanceTypes[2].Architecture = "sparc" },
		"bad network class":    func(s *Snapshot) { s.InstanceTypes[2].NetworkPerformance = "Blazing" },
		"name/family mismatch": func(s *Snapshot) { s.InstanceTypes[2].Family = "m5" },
		"zero vcpu":            func(s *Snapshot) { s.InstanceTypes[2].VCPU = 0 },
		"unbounded mid tier":   func(s *Snapshot) { s.EBS[3].IOPSTiers[0].UpTo = 0 },
		"currency":             func(s *Snapshot) { s.Currency = "EUR" },
		"missing lambda":       func(s *Snapshot) { s.Lambda = s.Lambda[1:] },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(snapshotDoc(t, mutate)); err == nil {
				t.Fatal("Parse accepted a bad snapshot")
			}
		})
	}
	if _, err := Parse([]byte(`{"snapshotDate":"x","bogus":1}`)); err == nil {
		t.Error("Parse accepted an unknown field")
	}
	if _, err := Parse(snapshotDoc(t, func(*Snapshot) {})); err != nil {
		t.Errorf("Parse of the unchanged snapshot: %v", err)
	}
}

func TestMergeReturnsNewCatalogue(t *testing.T) {
	c := embeddedT(t)
	n, err := c.Merge(Overrides{
		EC2: []EC2Price{{Region: "us-east-1", InstanceType: "m5.large", UsageType: "BoxUsage:m5.large", USD: 0.1}},
		RDS: []RDSPrice{{Region: "us-east-1", InstanceClass: "db.m5.large", Engine: "postgres", USD: 0.2}},
		EBS: []EBSPrice{{Region: "us-east-1", VolumeType: "gp3", UsageType: "EBS:VolumeUsage.gp3", GBMonth: 0.09}},
		InstanceTypes: []InstanceSpec{{Name: "m8g.large", Family: "m8g", Generation: 8, VCPU: 2, MemoryGiB: 8,
			Architecture: ArchARM, NetworkPerformance: "Up to 12.5 Gigabit"}},
	})
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if p, _ := n.EC2Hourly("us-east-1", "m5.large"); !near(p, 0.1) {
		t.Errorf("merged m5.large = %v", p)
	}
	if p, _ := c.EC2Hourly("us-east-1", "m5.large"); !near(p, 0.096) {
		t.Errorf("original changed: m5.large = %v", p)
	}
	if p, _ := n.RDSHourly("us-east-1", "db.m5.large", "PostgreSQL"); !near(p, 0.2) {
		t.Errorf("merged db.m5.large postgres = %v", p)
	}
	// The storage-only override keeps gp3's IOPS price: 100 × 0.09 + 1000 × 0.005.
	if p, _ := n.EBSMonthly("us-east-1", "gp3", 100, 4000, 125); !near(p, 14) {
		t.Errorf("merged gp3 = %v, want 14", p)
	}
	if s, ok := n.InstanceType("m8g.large"); !ok || s.NetworkRank == 0 {
		t.Errorf("merged spec = %+v, %v", s, ok)
	}
	if _, err := c.Merge(Overrides{EC2: []EC2Price{{Region: "us-east-1", InstanceType: "x9.large", USD: 1}}}); err == nil {
		t.Error("Merge accepted a price for a type without a spec")
	}
	if _, err := c.Merge(Overrides{EC2: []EC2Price{{Region: "us-east-1", InstanceType: "m5.large", USD: -1}}}); err == nil {
		t.Error("Merge accepted a negative price")
	}
}

func BenchmarkEC2Hourly(b *testing.B) {
	c := embeddedT(b)
	for b.Loop() {
		if _, err := c.EC2Hourly("eu-west-1", "m6i.2xlarge"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRDSHourly(b *testing.B) {
	c := embeddedT(b)
	for b.Loop() {
		if _, err := c.RDSHourly("eu-west-1", "db.r6g.xlarge", "postgres"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEBSMonthly(b *testing.B) {
	c := embeddedT(b)
	for b.Loop() {
		if _, err := c.EBSMonthly("us-east-1", "io2", 500, 70000, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTypesFilter(b *testing.B) {
	c := embeddedT(b)
	f := TypeFilter{Architecture: ArchARM, MinVCPU: 4}
	for b.Loop() {
		if len(c.Types(f)) == 0 {
			b.Fatal("no types")
		}
	}
}
