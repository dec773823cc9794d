package awssim

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// FleetMix is the share of each resource kind in a generated fleet. The
// weights are relative; a zero weight leaves that kind out.
type FleetMix struct {
	Instances, Volumes, Addresses, DBInstances, Buckets, Functions int
}

// DefaultFleetMix is mostly EC2, as real estates are.
var DefaultFleetMix = FleetMix{Instances: 50, Volumes: 20, Addresses: 10, DBInstances: 10, Buckets: 5, Functions: 5}

// FleetSpec describes a fleet to generate.
type FleetSpec struct {
	// N is the number of resources to create (root volumes that come with
	// instances are not counted).
	N int
	// Regions to spread the fleet over, round-robin.
	Regions []string
	// Seed makes the fleet (names, types, profiles, tags) repeatable.
	Seed int64
	// Mix defaults to DefaultFleetMix.
	Mix FleetMix
	// ImageID is the AMI for instances; moto only accepts AMIs it knows.
	ImageID string
	// LambdaRole is the execution role ARN given to functions.
	LambdaRole string
	// PollInterval is how often the generator polls for instances to reach
	// running before attaching volumes and addresses (default 200ms). Against
	// a simulator on a ManualClock use StateDelay 0, or nobody moves the
	// clock that ends pending.
	PollInterval time.Duration
}

// MaxFleetSize bounds FleetSpec.N and the fleet-size flags of agentd dev
// and agentd sim.
const MaxFleetSize = 50_000

func (f *FleetSpec) defaults() error {
	if f.N < 1 || f.N > MaxFleetSize {
		return fmt.Errorf("FleetSpec.N %d: must be between 1 and %d", f.N, MaxFleetSize)
	}
	if len(f.Regions) == 0 {
		return errors.New("FleetSpec.Regions: at least one region is required")
	}
	for _, r := range f.Regions {
		if !regionPattern.MatchString(r) {
			return fmt.Errorf("FleetSpec.Regions: %q is not a region name", r)
		}
	}
	if f.Mix == (FleetMix{}) {
		f.Mix = DefaultFleetMix
	}
	m := f.Mix
	if m.Instances < 0 || m.Volumes < 0 || m.Addresses < 0 || m.DBInstances < 0 || m.Buckets < 0 || m.Functions < 0 {
		return errors.New("FleetSpec.Mix: weights must not be negative")
	}
	if f.ImageID == "" {
		f.ImageID = "ami-0abcdef1234567890"
	}
	if f.LambdaRole == "" {
		f.LambdaRole = "arn:aws:iam::" + DefaultAccountID + ":role/sim-lambda"
	}
	if f.PollInterval <= 0 {
		f.PollInterval = 200 * time.Millisecond
	}
	return nil
}

// FleetResource is one resource the generator created.
type FleetResource struct {
	Kind    string // instance, volume, address, db-instance, bucket, function
	ID      string // instance/volume/allocation id, DB identifier, bucket or function name
	Region  string
	Type    string // instance type, volume type, DB class, Lambda memory size ("1024")
	Profile Profile
	Tags    map[string]string
	// AttachedTo is the instance a volume or address was attached to.
	AttachedTo string
}

// FleetManifest is exactly what GenerateFleet created, in creation order.
type FleetManifest struct {
	Resources []FleetResource
}

// Count returns how many resources of kind the manifest holds.
func (m FleetManifest) Count(kind string) int {
	n := 0
	for _, r := range m.Resources {
		if r.Kind == kind {
			n++
		}
	}
	return n
}

// Instance types per profile: over-provisioned machines are big, idle ones
// mid-sized, so the right recommendation is unambiguous.
var fleetTypes = map[Profile][]string{
	ProfileIdle:            {"t3.medium", "m5.large", "m6i.large"},
	ProfileOverProvisioned: {"m5.2xlarge", "c5.2xlarge", "r5.2xlarge", "m6i.2xlarge"},
	ProfileRightSized:      {"t3.small", "m5.large", "c6i.large"},
	ProfileSpiky:           {"c5.xlarge", "m6i.xlarge"},
	ProfileBusinessHours:   {"m5.xlarge", "t3.large"},
}

var fleetDBClasses = map[Profile][]string{
	ProfileIdle:            {"db.t3.medium", "db.m5.large"},
	ProfileOverProvisioned: {"db.m5.2xlarge", "db.r5.2xlarge"},
	ProfileRightSized:      {"db.t3.medium", "db.m5.large"},
	ProfileSpiky:           {"db.m5.xlarge"},
	ProfileBusinessHours:   {"db.m5.large"},
}

// fleetPlan is the deterministic part of a fleet: what to create where.
type fleetPlan struct {
	kind    string
	region  string
	profile Profile
	typ     string
	name    string
	tags    map[string]string
	attach  bool
}

func planFleet(spec FleetSpec) []fleetPlan {
	rng := rand.New(rand.NewPCG(uint64(spec.Seed), 0xf1ee7))
	m := spec.Mix
	kinds := []struct {
		kind   string
		weight int
	}{{"instance", m.Instances}, {"volume", m.Volumes}, {"address", m.Addresses}, {"db-instance", m.DBInstances}, {"bucket", m.Buckets}, {"function", m.Functions}}
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	// Largest-remainder apportionment, so the counts add up to N exactly.
	counts := make([]int, len(kinds))
	assigned := 0
	for i, k := range kinds {
		counts[i] = spec.N * k.weight / total
		assigned += counts[i]
	}
	for i := 0; assigned < spec.N; i = (i + 1) % len(kinds) {
		if kinds[i].weight > 0 {
			counts[i]++
			assigned++
		}
	}
	var plans []fleetPlan
	seq := 0
	for i, k := range kinds {
		for j := range counts[i] {
			p := fleetPlan{kind: k.kind, region: spec.Regions[seq%len(spec.Regions)], profile: Profiles[rng.IntN(len(Profiles))]}
			p.name = fmt.Sprintf("sim%d-%s-%d", uint64(spec.Seed)%100000, k.kind, j)
			p.tags = map[string]string{"sirsi-sim:fleet": strconv.FormatInt(spec.Seed, 10), "Name": p.name,
				"team": []string{"payments", "search", "data", "web"}[rng.IntN(4)]}
			switch k.kind {
			case "instance", "db-instance", "function":
				p.tags[ProfileTag] = string(p.profile)
			default:
				p.profile = ""
			}
			switch k.kind {
			case "instance":
				opts := fleetTypes[p.profile]
				p.typ = opts[rng.IntN(len(opts))]
			case "db-instance":
				opts := fleetDBClasses[p.profile]
				p.typ = opts[rng.IntN(len(opts))]
			case "volume":
				p.typ = []string{"gp2", "gp3"}[rng.IntN(2)]
				p.attach = rng.IntN(2) == 0 && m.Instances > 0
			case "address":
				p.attach = rng.IntN(2) == 0 && m.Instances > 0
			case "function":
				p.typ = strconv.Itoa([]int{128, 256, 512, 1024, 2048}[rng.IntN(5)])
			}
			plans = append(plans, p)
			seq++
		}
	}
	return plans
}

// GenerateFleet creates spec's fleet through the AWS API at cfg (the
// simulator, moto or any endpoint cfg points to), so the same generator
// seeds every implementation. It returns what it created even when it fails
// part-way, with the error.
func GenerateFleet(ctx context.Context, cfg aws.Config, spec FleetSpec) (FleetManifest, error) {
	var man FleetManifest
	if err := spec.defaults(); err != nil {
		return man, fmt.Errorf("generating fleet: %w", err)
	}
	plans := planFleet(spec)
	// Instances go first so volumes and addresses have something to attach to.
	instancesByRegion := map[string][]FleetResource{}
	for _, p := range plans {
		if p.kind != "instance" {
			continue
		}
		c := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = p.region })
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: aws.String(spec.ImageID), InstanceType: ec2types.InstanceType(p.typ),
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: ec2Tagset(p.tags)}},
		})
		if err != nil {
			return man, fmt.Errorf("generating fleet: RunInstances %s in %s: %w", p.name, p.region, err)
		}
		if len(out.Instances) != 1 {
			return man, fmt.Errorf("generating fleet: RunInstances %s returned %d instances, want 1", p.name, len(out.Instances))
		}
		in := out.Instances[0]
		r := FleetResource{Kind: "instance", ID: aws.ToString(in.InstanceId), Region: p.region, Type: p.typ, Profile: p.profile, Tags: p.tags}
		man.Resources = append(man.Resources, r)
		instancesByRegion[p.region] = append(instancesByRegion[p.region], r)
	}
	if err := waitRunning(ctx, cfg, instancesByRegion, spec.PollInterval); err != nil {
		return man, fmt.Errorf("generating fleet: %w", err)
	}
	// Volumes cycle through the region's instances; addresses take one
	// instance each (a second address would displace the first, as EC2
	// does), so the manifest stays exact.
	nextVol, nextAddr := map[string]int{}, map[string]int{}
	pickVol := func(region string) (FleetResource, bool) {
		ins := instancesByRegion[region]
		if len(ins) == 0 {
			return FleetResource{}, false
		}
		i := nextVol[region] % len(ins)
		nextVol[region]++
		return ins[i], true
	}
	pickAddr := func(region string) (FleetResource, bool) {
		ins := instancesByRegion[region]
		i := nextAddr[region]
		if i >= len(ins) {
			return FleetResource{}, false
		}
		nextAddr[region]++
		return ins[i], true
	}
	att := &attachments{zones: map[string]string{}, devices: map[string]int{}}
	for _, p := range plans {
		var (
			r   FleetResource
			err error
		)
		switch p.kind {
		case "instance":
			continue
		case "volume":
			r, err = fleetVolume(ctx, cfg, p, pickVol, att)
		case "address":
			r, err = fleetAddress(ctx, cfg, p, pickAddr)
		case "db-instance":
			r, err = fleetDB(ctx, cfg, p)
		case "bucket":
			r, err = fleetBucket(ctx, cfg, p)
		case "function":
			r, err = fleetFunction(ctx, cfg, p, spec.LambdaRole)
		}
		if err != nil {
			return man, fmt.Errorf("generating fleet: %s %s in %s: %w", p.kind, p.name, p.region, err)
		}
		man.Resources = append(man.Resources, r)
	}
	return man, nil
}

func ec2Tagset(tags map[string]string) []ec2types.Tag {
	out := make([]ec2types.Tag, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// waitRunning polls DescribeInstances until every generated instance runs.
func waitRunning(ctx context.Context, cfg aws.Config, byRegion map[string][]FleetResource, poll time.Duration) error {
	for region, ins := range byRegion {
		c := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = region })
		ids := make([]string, len(ins))
		for i, r := range ins {
			ids[i] = r.ID
		}
		for start := 0; start < len(ids); start += 500 {
			batch := ids[start:min(start+500, len(ids))]
			for {
				pending := 0
				p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
					{Name: aws.String("instance-id"), Values: batch},
					{Name: aws.String("instance-state-name"), Values: []string{"pending"}},
				}})
				for p.HasMorePages() {
					out, err := p.NextPage(ctx)
					if err != nil {
						return fmt.Errorf("waiting for instances in %s to run: %w", region, err)
					}
					for _, r := range out.Reservations {
						pending += len(r.Instances)
					}
				}
				if pending == 0 {
					break
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("waiting for %d instances in %s to run: %w", pending, region, ctx.Err())
				case <-time.After(poll):
				}
			}
		}
	}
	return nil
}

// attachments remembers instance zones and the data devices already used.
type attachments struct {
	zones   map[string]string
	devices map[string]int
}

func fleetVolume(ctx context.Context, cfg aws.Config, p fleetPlan, pick func(string) (FleetResource, bool), att *attachments) (FleetResource, error) {
	c := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = p.region })
	r := FleetResource{Kind: "volume", Region: p.region, Type: p.typ, Tags: p.tags}
	az := p.region + "a"
	var target FleetResource
	if p.attach {
		var ok bool
		if target, ok = pick(p.region); ok {
			z, err := instanceZone(ctx, c, target.ID, att.zones)
			if err != nil {
				return r, err
			}
			az = z
		}
	}
	out, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(az), Size: aws.Int32(20 + int32(len(p.name)%5)*10),
		VolumeType:        ec2types.VolumeType(p.typ),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: ec2Tagset(p.tags)}}})
	if err != nil {
		return r, fmt.Errorf("CreateVolume: %w", err)
	}
	r.ID = aws.ToString(out.VolumeId)
	if target.ID == "" {
		return r, nil
	}
	if err := waitVolumeAvailable(ctx, c, r.ID); err != nil {
		return r, err
	}
	n := att.devices[target.ID]
	if n >= 11 {
		// /dev/sdf../dev/sdp are the documented data device names; a
		// twelfth volume stays unattached.
		return r, nil
	}
	att.devices[target.ID] = n + 1
	if _, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(r.ID), InstanceId: aws.String(target.ID),
		Device: aws.String(fmt.Sprintf("/dev/sd%c", 'f'+n))}); err != nil {
		return r, fmt.Errorf("AttachVolume %s to %s: %w", r.ID, target.ID, err)
	}
	r.AttachedTo = target.ID
	return r, nil
}

func instanceZone(ctx context.Context, c *ec2.Client, id string, cache map[string]string) (string, error) {
	if z, ok := cache[id]; ok {
		return z, nil
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return "", fmt.Errorf("DescribeInstances %s: %w", id, err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 || out.Reservations[0].Instances[0].Placement == nil {
		return "", fmt.Errorf("DescribeInstances %s: no placement in the answer", id)
	}
	z := aws.ToString(out.Reservations[0].Instances[0].Placement.AvailabilityZone)
	cache[id] = z
	return z, nil
}

func waitVolumeAvailable(ctx context.Context, c *ec2.Client, id string) error {
	for {
		out, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
		if err != nil {
			return fmt.Errorf("DescribeVolumes %s: %w", id, err)
		}
		if len(out.Volumes) == 1 && out.Volumes[0].State == ec2types.VolumeStateAvailable {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for volume %s: %w", id, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func fleetAddress(ctx context.Context, cfg aws.Config, p fleetPlan, pick func(string) (FleetResource, bool)) (FleetResource, error) {
	c := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = p.region })
	r := FleetResource{Kind: "address", Region: p.region, Tags: p.tags}
	out, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeElasticIp, Tags: ec2Tagset(p.tags)}}})
	if err != nil {
		return r, fmt.Errorf("AllocateAddress: %w", err)
	}
	r.ID = aws.ToString(out.AllocationId)
	if !p.attach {
		return r, nil
	}
	target, ok := pick(p.region)
	if !ok {
		return r, nil
	}
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(r.ID), InstanceId: aws.String(target.ID),
		AllowReassociation: aws.Bool(true)}); err != nil {
		return r, fmt.Errorf("AssociateAddress %s to %s: %w", r.ID, target.ID, err)
	}
	r.AttachedTo = target.ID
	return r, nil
}

func fleetDB(ctx context.Context, cfg aws.Config, p fleetPlan) (FleetResource, error) {
	c := rds.NewFromConfig(cfg, func(o *rds.Options) { o.Region = p.region })
	r := FleetResource{Kind: "db-instance", ID: p.name, Region: p.region, Type: p.typ, Profile: p.profile, Tags: p.tags}
	engine := []string{"mysql", "postgres"}[len(p.name)%2]
	tags := make([]rdstypes.Tag, 0, len(p.tags))
	for _, k := range sortedKeys(p.tags) {
		tags = append(tags, rdstypes.Tag{Key: aws.String(k), Value: aws.String(p.tags[k])})
	}
	_, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(p.name),
		DBInstanceClass: aws.String(p.typ), Engine: aws.String(engine), AllocatedStorage: aws.Int32(100),
		MasterUsername: aws.String("simadmin"), MasterUserPassword: aws.String("sim-password-1"), Tags: tags})
	if err != nil {
		return r, fmt.Errorf("CreateDBInstance: %w", err)
	}
	return r, nil
}

func fleetBucket(ctx context.Context, cfg aws.Config, p fleetPlan) (FleetResource, error) {
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.Region = p.region; o.UsePathStyle = true })
	r := FleetResource{Kind: "bucket", ID: p.name, Region: p.region, Tags: p.tags}
	in := &s3.CreateBucketInput{Bucket: aws.String(p.name)}
	if p.region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(p.region)}
	}
	if _, err := c.CreateBucket(ctx, in); err != nil {
		return r, fmt.Errorf("CreateBucket: %w", err)
	}
	tags := make([]s3types.Tag, 0, len(p.tags))
	for _, k := range sortedKeys(p.tags) {
		tags = append(tags, s3types.Tag{Key: aws.String(k), Value: aws.String(p.tags[k])})
	}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(p.name), Tagging: &s3types.Tagging{TagSet: tags}}); err != nil {
		return r, fmt.Errorf("PutBucketTagging: %w", err)
	}
	return r, nil
}

// fleetFunctionZip is a valid zip holding a handler that is never run.
var fleetFunctionZip = func() []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("index.py")
	if err == nil {
		_, err = w.Write([]byte("def handler(event, context):\n    return {}\n"))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		panic("awssim: building the fleet's function zip: " + err.Error())
	}
	return buf.Bytes()
}()

func fleetFunction(ctx context.Context, cfg aws.Config, p fleetPlan, role string) (FleetResource, error) {
	c := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Region = p.region })
	r := FleetResource{Kind: "function", ID: p.name, Region: p.region, Type: p.typ, Profile: p.profile, Tags: p.tags}
	mem, err := strconv.Atoi(p.typ)
	if err != nil {
		return r, fmt.Errorf("memory size %q: %w", p.typ, err)
	}
	_, err = c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(p.name), Role: aws.String(role),
		Runtime: lambdatypes.RuntimePython312, Handler: aws.String("index.handler"), MemorySize: aws.Int32(int32(mem)),
		Code: &lambdatypes.FunctionCode{ZipFile: fleetFunctionZip}, Tags: p.tags})
	if err != nil {
		return r, fmt.Errorf("CreateFunction: %w", err)
	}
	return r, nil
}

// SeedFleet creates spec's EC2 part (instances, volumes, addresses) directly
// in account's state, bypassing HTTP: the fast path for benchmark fleets of
// tens of thousands of resources. Instances start running, with history from
// Options.Backfill ago. Other kinds need their services' APIs: use
// GenerateFleet for them.
func (s *Sim) SeedFleet(account string, spec FleetSpec) (FleetManifest, error) {
	var man FleetManifest
	if err := spec.defaults(); err != nil {
		return man, fmt.Errorf("seeding fleet: %w", err)
	}
	if spec.Mix.DBInstances > 0 || spec.Mix.Buckets > 0 || spec.Mix.Functions > 0 {
		return man, errors.New("seeding fleet: in-process seeding covers EC2 instances, volumes and addresses only; set the other Mix weights to 0 or use GenerateFleet")
	}
	for _, r := range spec.Regions {
		if !s.regions[r] {
			return man, fmt.Errorf("seeding fleet: region %q is not served by this simulator", r)
		}
	}
	if !accountIDPattern.MatchString(account) {
		return man, fmt.Errorf("seeding fleet: account %q: must be 12 digits", account)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.Now().Add(-s.opts.Backfill)
	byRegion := map[string][]*Instance{}
	volNext, addrNext, devices := map[string]int{}, map[string]int{}, map[string]int{}
	for _, p := range planFleet(spec) {
		rs := s.region(account, p.region)
		r := FleetResource{Kind: p.kind, Region: p.region, Type: p.typ, Profile: p.profile, Tags: p.tags}
		switch p.kind {
		case "instance":
			spec, aerr := s.instanceSpec(p.typ)
			if aerr != nil {
				return man, fmt.Errorf("seeding fleet: %w", aerr)
			}
			in := &Instance{ID: s.newID("i"), ReservationID: s.newID("r"), ImageID: "ami-0abcdef1234567890", Type: p.typ,
				Arch: spec.Architecture, LaunchTime: at, AZ: p.region + string(rune('a'+len(rs.InstanceOrder)%3)),
				Tags: maps.Clone(p.tags), Profile: p.profile}
			n := len(rs.InstanceOrder) + 4
			in.PrivateIP = fmt.Sprintf("10.%d.%d.%d", in.AZ[len(in.AZ)-1]-'a', n/250%250, n%250+4)
			in.VpcID = "vpc-" + pseudoHex(account+p.region, 17)
			in.SubnetID = "subnet-" + pseudoHex(account+in.AZ, 17)
			in.Seed = resourceSeed(s.opts.Seed, in.ID)
			rs.Instances[in.ID] = in
			rs.InstanceOrder = append(rs.InstanceOrder, in.ID)
			s.setInstanceState(account, rs, in, "pending", at)
			s.settleInstance(account, rs, in, at.Add(s.opts.StateDelay))
			byRegion[p.region] = append(byRegion[p.region], in)
			r.ID = in.ID
		case "volume":
			v := &Volume{ID: s.newID("vol"), Type: p.typ, SizeGiB: 20 + len(p.name)%5*10, AZ: p.region + "a", State: "available",
				CreateTime: at, Tags: maps.Clone(p.tags)}
			v.Iops, v.Throughput = defaultPerformance(v.Type, v.SizeGiB)
			if ins := byRegion[p.region]; p.attach && len(ins) > 0 && devices[ins[volNext[p.region]%len(ins)].ID] < 11 {
				in := ins[volNext[p.region]%len(ins)]
				volNext[p.region]++
				dev := devices[in.ID]
				devices[in.ID]++
				v.AZ = in.AZ
				attachVolume(in, v, fmt.Sprintf("/dev/sd%c", 'f'+dev), at, false)
				r.AttachedTo = in.ID
			}
			rs.Volumes[v.ID] = v
			rs.VolumeOrder = append(rs.VolumeOrder, v.ID)
			s.recordEvent(s.volumeEvent(account, p.region, v, EventCreated, at))
			r.ID = v.ID
		case "address":
			u := s.rng.Uint32()
			a := &Address{AllocationID: s.newID("eipalloc"), PublicIP: fmt.Sprintf("3.%d.%d.%d", 1+u>>16%254, u>>8%256, 1+u%254),
				NetworkBorderGroup: p.region, AllocTime: at, Tags: maps.Clone(p.tags)}
			if ins := byRegion[p.region]; p.attach && addrNext[p.region] < len(ins) {
				in := ins[addrNext[p.region]]
				addrNext[p.region]++
				s.associate(rs, in, a)
				r.AttachedTo = in.ID
			}
			rs.Addresses[a.AllocationID] = a
			rs.AddressOrder = append(rs.AddressOrder, a.AllocationID)
			s.recordEvent(addressEvent(account, p.region, a, EventCreated, at))
			r.ID = a.AllocationID
		}
		man.Resources = append(man.Resources, r)
	}
	return man, nil
}
