package awssim

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// Cost Explorer's SERVICE dimension values for what the simulator bills.
const (
	ceServiceEC2Compute = "Amazon Elastic Compute Cloud - Compute"
	ceServiceEC2Other   = "EC2 - Other"
	ceServiceRDS        = "Amazon Relational Database Service"
	ceServiceLambda     = "AWS Lambda"
	ceServiceS3         = "Amazon Simple Storage Service"
)

// charge is one billed line: either a rate over [start, end) (instances,
// volumes, addresses) or, when lump is set, amount at start (Lambda, whose
// cost is summed per hour).
type charge struct {
	account, region, service, usageType, instanceType string
	// resourceID is the billed resource's id (RESOURCE_ID).
	resourceID               string
	tags                     map[string]string
	start, end               time.Time
	usdPerHour, usagePerHour float64
	lump                     bool
	amount, usage            float64
	// open marks a rate still accruing at the end of the history (the
	// forecast extends it).
	open bool
	// engine and multiAZ are an RDS instance's, which its reservations
	// must match.
	engine  string
	multiAZ bool
}

// overlap returns the cost and usage of c within [from, to).
func (c *charge) overlap(from, to time.Time) (cost, usage float64) {
	if c.lump {
		if !c.start.Before(from) && c.start.Before(to) {
			return c.amount, c.usage
		}
		return 0, 0
	}
	s, e := maxTime(c.start, from), minTime(c.end, to)
	if !s.Before(e) {
		return 0, 0
	}
	h := e.Sub(s).Hours()
	return h * c.usdPerHour, h * c.usagePerHour
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// charges prices the history of the given accounts up to until: EC2
// instance-hours while running, EBS volumes while they exist (GB-month
// prices over a 730-hour month), idle Elastic IP hours, RDS instance-hours
// while running (Multi-AZ at twice the single-AZ price, as AWS prices
// MySQL/PostgreSQL), and Lambda requests and GB-seconds from each function's
// profile, the same invocations CloudWatch reports. Caller holds s.mu.
func (s *Sim) charges(cat *pricing.Catalogue, accounts []string, until time.Time) ([]charge, error) {
	var out []charge
	for _, acct := range accounts {
		a, ok := s.accounts[acct]
		if !ok {
			continue
		}
		byRes := map[string][]Event{}
		var order []string
		for _, e := range a.History {
			k := e.Region + "/" + e.Service + "/" + e.ResourceType + "/" + e.ResourceID
			if _, seen := byRes[k]; !seen {
				order = append(order, k)
			}
			byRes[k] = append(byRes[k], e)
		}
		for _, k := range order {
			evs := byRes[k]
			slices.SortStableFunc(evs, func(x, y Event) int { return x.Time.Compare(y.Time) })
			for i, e := range evs {
				if e.Kind == EventDeleted || !e.Time.Before(until) {
					continue
				}
				end, open := until, true
				if i+1 < len(evs) && evs[i+1].Time.Before(until) {
					end, open = evs[i+1].Time, false
				}
				if !e.Time.Before(end) {
					continue
				}
				cs, err := priceSegment(cat, s.opts.Seed, e, end)
				if err != nil {
					return nil, err
				}
				for _, c := range cs {
					c.open = open && !c.lump
					out = append(out, c)
				}
			}
		}
	}
	return out, nil
}

// priceSegment prices resource state e held from e.Time until end.
func priceSegment(cat *pricing.Catalogue, simSeed int64, e Event, end time.Time) ([]charge, error) {
	base := charge{account: e.Account, region: e.Region, resourceID: e.ResourceID, tags: e.Tags, start: e.Time, end: end}
	switch {
	case e.Service == "ec2" && e.ResourceType == "instance":
		if e.State != "running" {
			return nil, nil
		}
		p, err := cat.EC2Price(e.Region, e.Type)
		if err != nil {
			return nil, fmt.Errorf("pricing instance %s: %w", e.ResourceID, err)
		}
		base.service, base.usageType, base.instanceType = ceServiceEC2Compute, p.UsageType, e.Type
		base.usdPerHour, base.usagePerHour = p.USD, 1
		return []charge{base}, nil
	case e.Service == "ec2" && e.ResourceType == "volume":
		monthly, err := cat.EBSMonthly(e.Region, e.Type, e.SizeGiB, e.Iops, e.Throughput)
		if err != nil {
			return nil, fmt.Errorf("pricing volume %s: %w", e.ResourceID, err)
		}
		p, _ := cat.EBSPrice(e.Region, e.Type)
		base.service, base.usageType = ceServiceEC2Other, p.UsageType
		base.usdPerHour, base.usagePerHour = monthly/pricing.HoursPerMonth, float64(e.SizeGiB)/pricing.HoursPerMonth
		return []charge{base}, nil
	case e.Service == "ec2" && e.ResourceType == "address":
		if e.State != "unassociated" {
			return nil, nil
		}
		usd, err := cat.EIPHourly(e.Region)
		if err != nil {
			return nil, fmt.Errorf("pricing address %s: %w", e.ResourceID, err)
		}
		r, _ := cat.Region(e.Region)
		base.service, base.usageType = ceServiceEC2Other, r.UsageTypePrefix+"ElasticIP:IdleAddress"
		base.usdPerHour, base.usagePerHour = usd, 1
		return []charge{base}, nil
	case e.Service == "rds" && e.ResourceType == "db-instance":
		if !runningState("rds", e.State) {
			return nil, nil
		}
		p, err := cat.RDSPrice(e.Region, e.Type, e.Attrs["engine"])
		if err != nil {
			return nil, fmt.Errorf("pricing DB instance %s: %w", e.ResourceID, err)
		}
		mult := 1.0
		if multi, _ := strconv.ParseBool(e.Attrs["multi-az"]); multi {
			mult, base.multiAZ = 2, true
		}
		base.engine = e.Attrs["engine"]
		base.service, base.usageType, base.instanceType = ceServiceRDS, p.UsageType, e.Type
		base.usdPerHour, base.usagePerHour = p.USD*mult, 1
		return []charge{base}, nil
	case e.Service == "lambda" && e.ResourceType == "function":
		return lambdaCharges(cat, simSeed, e, end)
	}
	return nil, nil
}

// lambdaCharges sums a function's per-minute invocations and durations (the
// AWS/Lambda metrics) into one lump charge per hour each for requests and
// duration.
func lambdaCharges(cat *pricing.Catalogue, simSeed int64, e Event, end time.Time) ([]charge, error) {
	arch := e.Type
	if arch == "" {
		arch = pricing.ArchX86
	}
	p, err := cat.LambdaPrice(e.Region, arch)
	if err != nil {
		return nil, fmt.Errorf("pricing function %s: %w", e.ResourceID, err)
	}
	r := &builtinResource{profile: e.Profile, seed: resourceSeed(simSeed, e.ResourceID)}
	inv := builtinNamespaces["AWS/Lambda"].metrics["Invocations"].value
	dur := builtinNamespaces["AWS/Lambda"].metrics["Duration"].value
	gb := float64(e.MemoryMiB) / 1024
	var out []charge
	from := e.Time.Truncate(time.Minute)
	if from.Before(e.Time) {
		from = from.Add(time.Minute)
	}
	hour := from.Truncate(time.Hour)
	var reqs, gbs float64
	flush := func() {
		if reqs > 0 {
			c := charge{account: e.Account, region: e.Region, resourceID: e.ResourceID, tags: e.Tags, start: hour, lump: true}
			req, d := c, c
			req.service, req.usageType, req.amount, req.usage = ceServiceLambda, p.RequestUsageType, reqs*p.USDPerRequest, reqs
			d.service, d.usageType, d.amount, d.usage = ceServiceLambda, p.DurationUsageType, gbs*p.USDPerGBSecond, gbs
			out = append(out, req, d)
		}
		reqs, gbs = 0, 0
	}
	for t := from; t.Before(end); t = t.Add(time.Minute) {
		if h := t.Truncate(time.Hour); !h.Equal(hour) {
			flush()
			hour = h
		}
		u := t.Unix()
		n := inv(r, u)
		reqs += n
		gbs += n * dur(r, u) / 1000 * gb
	}
	flush()
	return out, nil
}
