package discovery

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/resourceattr"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

func startSim(t testing.TB, o awssim.Options) (*awssim.Sim, string) {
	t.Helper()
	sim, err := awssim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return sim, srv.URL
}

// awsConfig is the agent's configuration pointed at endpoint.
func awsConfig(t testing.TB, endpoint string, o awsclient.Options) aws.Config {
	t.Helper()
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	o.Endpoint = endpoint
	o.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	cfg, err := awsclient.Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newDiscoverer(t testing.TB, o Options) *Discoverer {
	t.Helper()
	if o.AccountID == "" {
		o.AccountID = awssim.DefaultAccountID
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// expected is one resource a test created, in the fields a sweep must
// reproduce exactly.
type expected struct {
	typ, region, id, size, attachedTo string
	tags                              map[string]string
}

func (e expected) line() string {
	return fmt.Sprintf("%s %s %s size=%q attached_to=%q tags=%s", e.typ, e.region, e.id, e.size, e.attachedTo, tagLine(e.tags))
}

func tagLine(tags map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, k+"="+tags[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func gotLine(r *sirsiv1.Resource) string {
	return expected{r.Type, r.Region, r.ResourceId, r.Size, r.Attributes["attached_to"], r.Tags}.line()
}

// fleetVolumeGiB is GenerateFleet's volume size rule (fleet.go: 20 GiB
// plus 10 per len(name) mod 5); the name is the volume's Name tag.
func fleetVolumeGiB(r awssim.FleetResource) int { return 20 + len(r.Tags["Name"])%5*10 }

// fromManifest maps a fleet manifest to the records a sweep must return.
func fromManifest(man awssim.FleetManifest) []expected {
	var out []expected
	for _, r := range man.Resources {
		e := expected{region: r.Region, id: r.ID, attachedTo: r.AttachedTo, tags: r.Tags}
		switch r.Kind {
		case "instance":
			e.typ, e.size = validation.ResourceEC2Instance, r.Type
		case "volume":
			e.typ, e.size = validation.ResourceEBSVolume, fmt.Sprintf("%s:%d", r.Type, fleetVolumeGiB(r))
		case "address":
			e.typ = validation.ResourceEIP
		case "db-instance":
			e.typ, e.size = validation.ResourceRDSInstance, r.Type
		case "bucket":
			e.typ = validation.ResourceS3Bucket
		case "function":
			e.typ, e.size = validation.ResourceLambdaFunction, r.Type
		default:
			panic("unknown fleet kind " + r.Kind)
		}
		out = append(out, e)
	}
	return out
}

// assertInventory fails unless snap holds exactly want: nothing missing,
// nothing extra, every compared field equal.
func assertInventory(t *testing.T, snap *Snapshot, want []expected) {
	t.Helper()
	var wantLines, gotLines []string
	for _, e := range want {
		wantLines = append(wantLines, e.line())
	}
	for _, r := range snap.Resources {
		gotLines = append(gotLines, gotLine(r))
	}
	slices.Sort(wantLines)
	slices.Sort(gotLines)
	if slices.Equal(wantLines, gotLines) {
		return
	}
	missing, extra := setDiff(wantLines, gotLines), setDiff(gotLines, wantLines)
	t.Fatalf("inventory differs from what was created (%d created, %d found)\nmissing:\n  %s\nextra:\n  %s",
		len(wantLines), len(gotLines), strings.Join(missing, "\n  "), strings.Join(extra, "\n  "))
}

func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func countByType(snap *Snapshot) map[string]int {
	n := map[string]int{}
	for _, r := range snap.Resources {
		n[r.Type]++
	}
	return n
}

// opRecorder records the service and operation of every call made through
// a config, for the IAM check.
type opRecorder struct {
	mu  sync.Mutex
	ops map[string]bool
}

func (o *opRecorder) install(cfg *aws.Config) {
	o.ops = map[string]bool{}
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("recordOperation",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				o.mu.Lock()
				o.ops[awsmiddleware.GetServiceID(ctx)+":"+awsmiddleware.GetOperationName(ctx)] = true
				o.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// iamActions maps SDK operations to the IAM actions AWS's Service
// Authorization Reference lists for them. GetFunction returns tags only to
// callers also allowed lambda:ListTags; ListBuckets is authorised by
// s3:ListAllMyBuckets.
var iamActions = map[string][]string{
	"EC2:DescribeInstances":   {"ec2:DescribeInstances"},
	"EC2:DescribeVolumes":     {"ec2:DescribeVolumes"},
	"EC2:DescribeSnapshots":   {"ec2:DescribeSnapshots"},
	"EC2:DescribeAddresses":   {"ec2:DescribeAddresses"},
	"RDS:DescribeDBInstances": {"rds:DescribeDBInstances"},
	"S3:ListBuckets":          {"s3:ListAllMyBuckets"},
	"S3:GetBucketLocation":    {"s3:GetBucketLocation"},
	"S3:GetBucketTagging":     {"s3:GetBucketTagging"},
	"Lambda:ListFunctions":    {"lambda:ListFunctions"},
	"Lambda:GetFunction":      {"lambda:GetFunction", "lambda:ListTags"},
}

var fleetRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-1"}

// TestDiscoveryMatchesSeededFleet creates ~150 resources of every kind in
// three regions through the API and checks that one sweep finds exactly
// them, plus the root volumes the simulator creates with each instance.
func TestDiscoveryMatchesSeededFleet(t *testing.T) {
	sim, url := startSim(t, awssim.Options{Seed: 7, Regions: append(slices.Clone(fleetRegions), "us-west-2")})
	ctx := context.Background()
	cfg := awsConfig(t, url, awsclient.Options{})
	man, err := awssim.GenerateFleet(ctx, cfg, awssim.FleetSpec{N: 150, Regions: fleetRegions, Seed: 11, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	want := fromManifest(man)
	want = append(want, createSnapshot(t, cfg, man))
	want = append(want, simRootVolumes(t, sim, man)...)

	var rec opRecorder
	rec.install(&cfg)
	reg := prometheus.NewRegistry()
	// us-west-2 is swept but empty: it must add nothing, and S3 must not
	// report a bucket there.
	d := newDiscoverer(t, Options{Config: cfg, Regions: append(slices.Clone(fleetRegions), "us-west-2"), Registerer: reg})
	snap, err := d.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Incomplete) > 0 {
		t.Fatalf("incomplete units: %v", snap.Incomplete)
	}
	assertInventory(t, snap, want)

	kinds := map[string]string{"instance": validation.ResourceEC2Instance, "address": validation.ResourceEIP,
		"db-instance": validation.ResourceRDSInstance, "bucket": validation.ResourceS3Bucket, "function": validation.ResourceLambdaFunction}
	counts := countByType(snap)
	for kind, typ := range kinds {
		if man.Count(kind) == 0 || counts[typ] != man.Count(kind) {
			t.Errorf("%s: %d found, %d created (every kind must be present)", typ, counts[typ], man.Count(kind))
		}
	}
	if got, w := counts[validation.ResourceEBSVolume], man.Count("volume")+man.Count("instance"); got != w {
		t.Errorf("volumes: %d found, want %d fleet volumes plus one root volume per instance (%d)", got, man.Count("volume"), w)
	}
	if got := gaugeValue(t, reg, "sirsi_discovery_resources", validation.ResourceEC2Instance); got != float64(man.Count("instance")) {
		t.Errorf("sirsi_discovery_resources{type=aws_ec2_instance} = %v, want %d", got, man.Count("instance"))
	}

	t.Run("records", func(t *testing.T) { checkRecords(t, snap) })

	t.Run("IAM actions are exactly the calls made", func(t *testing.T) {
		var called []string
		for op := range rec.ops {
			acts, ok := iamActions[op]
			if !ok {
				t.Errorf("the sweep called %s, which the test's IAM table does not know", op)
			}
			called = append(called, acts...)
		}
		slices.Sort(called)
		called = slices.Compact(called)
		if got := RequiredIAMActions(); !slices.Equal(got, called) {
			t.Errorf("RequiredIAMActions() = %v\nthe sweep needed      %v", got, called)
		}
	})
}

// checkRecords checks the facts beyond the manifest that every record must
// carry.
func checkRecords(t *testing.T, snap *Snapshot) {
	t.Helper()
	if !slices.IsSortedFunc(snap.Resources, func(a, b *sirsiv1.Resource) int {
		return strings.Compare(a.Type+" "+a.Region+" "+a.ResourceId, b.Type+" "+b.Region+" "+b.ResourceId)
	}) {
		t.Error("resources are not sorted by (type, region, resource_id)")
	}
	volumes := map[string]*sirsiv1.Resource{}
	for _, r := range snap.Resources {
		if r.Type == validation.ResourceEBSVolume {
			volumes[r.ResourceId] = r
		}
	}
	for _, r := range snap.Resources {
		if r.AccountId != awssim.DefaultAccountID || r.Arn == "" || r.Name == "" || r.LastSeenTime == nil {
			t.Errorf("%s %s: account %q arn %q name %q last seen %v", r.Type, r.ResourceId, r.AccountId, r.Arn, r.Name, r.LastSeenTime)
		}
		switch r.Type {
		case validation.ResourceEC2Instance:
			if r.State != "running" || r.LaunchTime == nil || r.Arn != "arn:aws:ec2:"+r.Region+":"+awssim.DefaultAccountID+":instance/"+r.ResourceId {
				t.Errorf("instance %s: state %q launch %v arn %q", r.ResourceId, r.State, r.LaunchTime, r.Arn)
			}
			for _, k := range []string{"architecture", "availability_zone", "platform", "vpc_id", "subnet_id", "lifecycle", "tenancy"} {
				if r.Attributes[k] == "" {
					t.Errorf("instance %s: attribute %s missing", r.ResourceId, k)
				}
			}
			root := volumes[r.Attributes["root_volume_id"]]
			if root == nil || root.Attributes["attached_to"] != r.ResourceId {
				t.Errorf("instance %s: root volume %q is not a volume attached to it", r.ResourceId, r.Attributes["root_volume_id"])
			}
		case validation.ResourceEBSVolume:
			if _, _, err := resourceattr.VolumeSize(r.Size); err != nil || r.LaunchTime == nil {
				t.Errorf("volume %s: %v, create time %v", r.ResourceId, err, r.LaunchTime)
			}
			if want := map[bool]string{true: "in-use", false: "available"}[r.Attributes["attached_to"] != ""]; r.State != want || (r.State == "in-use") != (r.Attributes["device"] != "") {
				t.Errorf("volume %s: state %q device %q, attached to %q", r.ResourceId, r.State, r.Attributes["device"], r.Attributes["attached_to"])
			}
		case validation.ResourceEIP:
			if want := map[bool]string{true: "associated", false: "unassociated"}[r.Attributes["attached_to"] != ""]; r.State != want || r.Attributes["public_ip"] == "" {
				t.Errorf("address %s: state %q public ip %q", r.ResourceId, r.State, r.Attributes["public_ip"])
			}
		case validation.ResourceRDSInstance:
			if r.Attributes["engine"] == "" || r.Attributes["multi_az"] == "" || r.Attributes["storage_gib"] != "100" || r.LaunchTime == nil {
				t.Errorf("DB %s: attributes %v launch %v", r.ResourceId, r.Attributes, r.LaunchTime)
			}
		case validation.ResourceS3Bucket:
			if r.LaunchTime == nil || r.Arn != "arn:aws:s3:::"+r.ResourceId {
				t.Errorf("bucket %s: creation %v arn %q", r.ResourceId, r.LaunchTime, r.Arn)
			}
		case validation.ResourceLambdaFunction:
			if r.Attributes["runtime"] != "python3.12" || r.Attributes["architecture"] == "" || r.Attributes["last_modified"] == "" {
				t.Errorf("function %s: attributes %v", r.ResourceId, r.Attributes)
			}
		}
	}
}

// createSnapshot snapshots the fleet's first volume, with a tag.
func createSnapshot(t *testing.T, cfg aws.Config, man awssim.FleetManifest) expected {
	t.Helper()
	for _, r := range man.Resources {
		if r.Kind != "volume" {
			continue
		}
		c := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = r.Region })
		out, err := c.CreateSnapshot(context.Background(), &ec2.CreateSnapshotInput{VolumeId: aws.String(r.ID),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot,
				Tags: []ec2types.Tag{{Key: aws.String("purpose"), Value: aws.String("backup")}}}}})
		if err != nil {
			t.Fatalf("creating a snapshot of %s: %v", r.ID, err)
		}
		return expected{typ: validation.ResourceEBSSnapshot, region: r.Region, id: aws.ToString(out.SnapshotId),
			size: fmt.Sprint(fleetVolumeGiB(r)), tags: map[string]string{"purpose": "backup"}}
	}
	t.Fatal("the fleet has no volume to snapshot")
	return expected{}
}

// simRootVolumes reads, from the simulator's event history, the volumes it
// created with the fleet's instances.
func simRootVolumes(t *testing.T, sim *awssim.Sim, man awssim.FleetManifest) []expected {
	t.Helper()
	inFleet := map[string]bool{}
	for _, r := range man.Resources {
		inFleet[r.ID] = true
	}
	var out []expected
	for _, e := range sim.Events(awssim.DefaultAccountID) {
		if e.ResourceType != "volume" || e.Kind != awssim.EventCreated || inFleet[e.ResourceID] {
			continue
		}
		if !inFleet[e.Attrs["instance-id"]] {
			t.Fatalf("volume %s was neither created by the fleet nor with one of its instances", e.ResourceID)
		}
		tags := e.Tags
		if tags == nil {
			tags = map[string]string{}
		}
		out = append(out, expected{typ: validation.ResourceEBSVolume, region: e.Region, id: e.ResourceID,
			size: fmt.Sprintf("%s:%d", e.Type, e.SizeGiB), attachedTo: e.Attrs["instance-id"], tags: tags})
	}
	if len(out) != man.Count("instance") {
		t.Fatalf("the simulator created %d root volumes for %d instances", len(out), man.Count("instance"))
	}
	return out
}

func gaugeValue(t *testing.T, g prometheus.Gatherer, name, typ string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelValue(m, "type") == typ {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("metric %s{type=%q} not found", name, typ)
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestNewValidatesOptions(t *testing.T) {
	good := Options{Config: aws.Config{Region: "us-east-1"}, AccountID: "123456789012", Regions: []string{"us-east-1"}}
	if _, err := New(good); err != nil {
		t.Fatalf("valid options rejected: %v", err)
	}
	for field, mutate := range map[string]func(*Options){
		"config.region": func(o *Options) { o.Config.Region = "" },
		"account_id":    func(o *Options) { o.AccountID = "12345" },
		"regions":       func(o *Options) { o.Regions = nil },
		"regions[1]":    func(o *Options) { o.Regions = []string{"us-east-1", "moon-1"} },
		"types[0]":      func(o *Options) { o.Types = []string{"aws_vpc"} },
		"concurrency":   func(o *Options) { o.Concurrency = -1 },
	} {
		o := good
		mutate(&o)
		_, err := New(o)
		if err == nil || !strings.HasPrefix(err.Error(), field+":") && !strings.HasPrefix(err.Error(), field+" ") {
			t.Errorf("%s: error %v, want one naming the field", field, err)
		}
	}
}

// TestEveryUnitFailing: when nothing at all can be collected (here: no
// region is served, as with credentials that work nowhere), Sweep fails and
// names the cause instead of returning an empty inventory.
func TestEveryUnitFailing(t *testing.T) {
	_, url := startSim(t, awssim.Options{Regions: []string{"us-east-1"}})
	cfg := awsConfig(t, url, awsclient.Options{Region: "eu-west-1", MaxAttempts: 1})
	d := newDiscoverer(t, Options{Config: cfg, Regions: []string{"eu-west-1"}, Types: []string{validation.ResourceEC2Instance, validation.ResourceS3Bucket}})
	_, err := d.Sweep(context.Background())
	if err == nil || !strings.Contains(err.Error(), "every resource type failed") || !strings.Contains(err.Error(), "aws_ec2_instance in eu-west-1") {
		t.Fatalf("Sweep error %v, want one naming the first failed unit", err)
	}
}
