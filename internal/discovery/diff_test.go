package discovery

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

func firstOf(t *testing.T, man awssim.FleetManifest, kind string, attached bool) awssim.FleetResource {
	t.Helper()
	for _, r := range man.Resources {
		if r.Kind == kind && (r.AttachedTo != "") == attached {
			return r
		}
	}
	t.Fatalf("the fleet has no %s (attached=%v)", kind, attached)
	return awssim.FleetResource{}
}

func changeLines(d Delta) []string {
	var out []string
	for _, c := range d.Changes {
		out = append(out, c.Type+" "+c.ResourceId+" "+strings.Join(c.ChangedFields, ","))
	}
	slices.Sort(out)
	return out
}

func refLines(refs []*sirsiv1.ResourceRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Type+" "+r.Region+" "+r.ResourceId)
	}
	return out
}

func upsertIDs(d Delta) []string {
	var out []string
	for _, r := range d.Upserts {
		out = append(out, r.ResourceId)
	}
	slices.Sort(out)
	return out
}

// TestDiffDrift changes the fleet behind the agent's back and checks that
// Diff reports exactly those changes, and that a failed unit suppresses
// deletions.
func TestDiffDrift(t *testing.T) {
	sim, url := startSim(t, awssim.Options{Seed: 3, Regions: []string{"us-east-1"}})
	ctx := context.Background()
	cfg := awsConfig(t, url, awsclient.Options{})
	man, err := awssim.GenerateFleet(ctx, cfg, awssim.FleetSpec{N: 12, Regions: []string{"us-east-1"}, Seed: 5,
		PollInterval: 10 * time.Millisecond, Mix: awssim.FleetMix{Instances: 4, Volumes: 5, Addresses: 3}})
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(cfg)
	instance := firstOf(t, man, "instance", false)
	volume := firstOf(t, man, "volume", false)
	address := man.Resources[slices.IndexFunc(man.Resources, func(r awssim.FleetResource) bool { return r.Kind == "address" })]
	// ModifyInstanceAttribute needs a stopped instance; stopping it before
	// the first sweep keeps the state change out of the drift under test.
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{instance.ID}}); err != nil {
		t.Fatal(err)
	}
	d := newDiscoverer(t, Options{Config: cfg, Regions: []string{"us-east-1"},
		Types: []string{validation.ResourceEC2Instance, validation.ResourceEBSVolume, validation.ResourceEIP}})
	before, err := d.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first := Diff(nil, before); len(first.Upserts) != len(before.Resources) || len(first.Changes) != 0 || len(first.Deletions) != 0 {
		t.Fatalf("Diff(nil, first sweep): %d upserts %d changes %d deletions, want %d upserts only",
			len(first.Upserts), len(first.Changes), len(first.Deletions), len(before.Resources))
	}
	if !Diff(before, before).Empty() {
		t.Fatal("a sweep differs from itself")
	}

	newType := "m5.4xlarge"
	if instance.Type == newType {
		newType = "m5.8xlarge"
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(instance.ID),
		InstanceType: &ec2types.AttributeValue{Value: aws.String(newType)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(volume.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{address.ID},
		Tags: []ec2types.Tag{{Key: aws.String("owner"), Value: aws.String("finance")}}}); err != nil {
		t.Fatal(err)
	}
	after, err := d.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	delta := Diff(before, after)
	wantChanges := []string{
		validation.ResourceEIP + " " + address.ID + " tags",
		validation.ResourceEC2Instance + " " + instance.ID + " size",
	}
	slices.Sort(wantChanges)
	if got := changeLines(delta); !slices.Equal(got, wantChanges) {
		t.Errorf("changes %q, want %q", got, wantChanges)
	}
	if got, want := upsertIDs(delta), slices.Sorted(slices.Values([]string{address.ID, instance.ID})); !slices.Equal(got, want) {
		t.Errorf("upserts %v, want %v", got, want)
	}
	if got, want := refLines(delta.Deletions), []string{validation.ResourceEBSVolume + " us-east-1 " + volume.ID}; !slices.Equal(got, want) {
		t.Errorf("deletions %v, want %v", got, want)
	}
	for _, u := range delta.Upserts {
		if u.ResourceId == instance.ID && u.Size != newType {
			t.Errorf("upserted instance has size %q, want %q (a complete, current record)", u.Size, newType)
		}
	}

	t.Run("incomplete unit suppresses deletions", func(t *testing.T) {
		// Every DescribeVolumes fails with a 5xx and one attempt: the
		// volume unit is incomplete, the others are not.
		if err := sim.SetFaults(awssim.FaultConfig{ServerErrorRatio: 1, Actions: []string{"DescribeVolumes"}}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sim.ClearFaults)
		failing := newDiscoverer(t, Options{Config: awsConfig(t, url, awsclient.Options{MaxAttempts: 1}), Regions: []string{"us-east-1"},
			Types: []string{validation.ResourceEC2Instance, validation.ResourceEBSVolume, validation.ResourceEIP}})
		partial, err := failing.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(partial.Incomplete) != 1 || partial.Incomplete[0].Type != validation.ResourceEBSVolume || partial.Incomplete[0].Region != "us-east-1" {
			t.Fatalf("incomplete units %v, want only aws_ebs_volume in us-east-1", partial.Incomplete)
		}
		if got := Diff(before, partial); len(got.Deletions) != 0 || !slices.Equal(changeLines(got), wantChanges) {
			t.Errorf("Diff(before, partial): deletions %v changes %q; want no deletions and the same changes", refLines(got.Deletions), changeLines(got))
		}
		// Incomplete in the previous sweep: its missing volumes are no
		// deletion either way, and come back as upserts.
		if got := Diff(partial, after); len(got.Deletions) != 0 || len(got.Upserts) != countByType(after)[validation.ResourceEBSVolume] {
			t.Errorf("Diff(partial, after): %d deletions, %d upserts; want none and every volume", len(got.Deletions), len(got.Upserts))
		}
	})

	t.Run("a compacted snapshot holds and diffs the same", func(t *testing.T) {
		want, err := before.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		packed, err := UnmarshalSnapshot(want)
		if err != nil {
			t.Fatal(err)
		}
		if err := packed.Compact(); err != nil {
			t.Fatal(err)
		}
		if packed.Resources != nil || packed.Len() != len(before.Resources) {
			t.Fatalf("compacted: Resources %d, Len %d; want nil and %d", len(packed.Resources), packed.Len(), len(before.Resources))
		}
		i := 0
		for r := range packed.Each {
			if !proto.Equal(r, before.Resources[i]) {
				t.Fatalf("resource %d changed through Compact: %v != %v", i, r, before.Resources[i])
			}
			i++
		}
		if i != len(before.Resources) {
			t.Fatalf("Each yielded %d resources, want %d", i, len(before.Resources))
		}
		packed.Resource(0).Name = "changed by the caller"
		if packed.Resource(0).Name == "changed by the caller" {
			t.Fatal("a resource read from a compacted snapshot is shared with it")
		}
		if got, err := packed.Marshal(); err != nil || string(got) != string(want) {
			t.Fatalf("Marshal of the compacted snapshot differs (err %v)", err)
		}
		got := Diff(packed, after)
		if !slices.Equal(changeLines(got), wantChanges) || !slices.Equal(refLines(got.Deletions), refLines(delta.Deletions)) ||
			!slices.Equal(upsertIDs(got), upsertIDs(delta)) {
			t.Errorf("Diff(compacted, after): changes %q deletions %v upserts %v; want %q %v %v", changeLines(got), refLines(got.Deletions),
				upsertIDs(got), wantChanges, refLines(delta.Deletions), upsertIDs(delta))
		}
		if !Diff(packed, before).Empty() {
			t.Error("a sweep differs from its compacted self")
		}
	})

	t.Run("a restarted agent still reports deltas", func(t *testing.T) {
		b, err := before.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		restored, err := UnmarshalSnapshot(b)
		if err != nil {
			t.Fatal(err)
		}
		if !restored.Taken.Equal(before.Taken) || len(restored.Resources) != len(before.Resources) {
			t.Fatalf("restored %d resources taken %v, want %d taken %v", len(restored.Resources), restored.Taken, len(before.Resources), before.Taken)
		}
		for i := range before.Resources {
			if !proto.Equal(restored.Resources[i], before.Resources[i]) {
				t.Fatalf("resource %d changed through Marshal: %v != %v", i, restored.Resources[i], before.Resources[i])
			}
		}
		if got := Diff(restored, after); !slices.Equal(changeLines(got), wantChanges) || len(got.Deletions) != 1 {
			t.Errorf("Diff(restored, after): changes %q deletions %v", changeLines(got), refLines(got.Deletions))
		}
	})
}

func TestDiffAttributes(t *testing.T) {
	base := &sirsiv1.Resource{ResourceId: "vol-1", Type: validation.ResourceEBSVolume, Region: "us-east-1", Size: "gp3:20",
		Attributes: map[string]string{"attached_to": "i-1", "device": "/dev/sdf", "iops": "3000"}, MonthlyCost: money.USDFromFloat(1)}
	next := proto.Clone(base).(*sirsiv1.Resource)
	delete(next.Attributes, "attached_to")
	delete(next.Attributes, "device")
	next.Attributes["throughput"] = "125"
	next.MonthlyCost = money.USDFromFloat(2)
	next.LastSeenTime = nil
	d := Diff(&Snapshot{Resources: []*sirsiv1.Resource{base}}, &Snapshot{Resources: []*sirsiv1.Resource{next}})
	want := []string{validation.ResourceEBSVolume + " vol-1 attributes.attached_to,attributes.device,attributes.throughput"}
	if got := changeLines(d); !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q (cost and seen times are not changes)", got, want)
	}

	// A new estimate alone is reported (upserted) but is no change made
	// to the resource.
	repriced := proto.Clone(base).(*sirsiv1.Resource)
	repriced.MonthlyCost = money.USDFromFloat(3)
	d = Diff(&Snapshot{Resources: []*sirsiv1.Resource{base}}, &Snapshot{Resources: []*sirsiv1.Resource{repriced}})
	if len(d.Upserts) != 1 || money.FloatOr(d.Upserts[0].GetMonthlyCost(), math.NaN()) != 3 || len(d.Changes) != 0 {
		t.Errorf("a new estimate: %d upserts, %d changes; want the resource upserted and no change", len(d.Upserts), len(d.Changes))
	}
}

// TestDiffMergesInKeyOrder covers what the merge pass must pair: resources
// only in prev on either side of shared ones, and a next whose Resources
// were reordered after the sweep.
func TestDiffMergesInKeyOrder(t *testing.T) {
	res := func(id, size string) *sirsiv1.Resource {
		return &sirsiv1.Resource{ResourceId: id, Type: validation.ResourceEC2Instance, Region: "us-east-1", Size: size}
	}
	prev := &Snapshot{Resources: []*sirsiv1.Resource{res("i-1", "t3.small"), res("i-2", "t3.small"), res("i-4", "t3.small"), res("i-6", "t3.small")}}
	if err := prev.Compact(); err != nil {
		t.Fatal(err)
	}
	next := &Snapshot{Resources: []*sirsiv1.Resource{res("i-5", "t3.small"), res("i-4", "t3.large"), res("i-2", "t3.small"), res("i-3", "t3.small")}}
	d := Diff(prev, next)
	if got, want := upsertIDs(d), []string{"i-3", "i-4", "i-5"}; !slices.Equal(got, want) {
		t.Errorf("upserts %v, want %v", got, want)
	}
	if got, want := changeLines(d), []string{validation.ResourceEC2Instance + " i-4 size"}; !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if got, want := refLines(d.Deletions), []string{validation.ResourceEC2Instance + " us-east-1 i-1", validation.ResourceEC2Instance + " us-east-1 i-6"}; !slices.Equal(got, want) {
		t.Errorf("deletions %v, want %v", got, want)
	}
	if next.Resources[0].ResourceId != "i-5" {
		t.Error("Diff reordered the caller's Resources")
	}
}

// TestCompactSpansBlocks reads a compacted snapshot of several blocks in
// order, out of order and from several goroutines at once.
func TestCompactSpansBlocks(t *testing.T) {
	const n = 3*blockRecords + 7
	var want []*sirsiv1.Resource
	for i := range n {
		want = append(want, &sirsiv1.Resource{ResourceId: fmt.Sprintf("vol-%05d", i), Type: validation.ResourceEBSVolume, Region: "eu-west-1",
			Size: "gp3:20", Tags: map[string]string{"team": fmt.Sprint("t", i%7), "Name": fmt.Sprint("volume ", i)},
			Attributes: map[string]string{"iops": fmt.Sprint(3000 + i)}})
	}
	snap := &Snapshot{Resources: slices.Clone(want)}
	if err := snap.Compact(); err != nil {
		t.Fatal(err)
	}
	if snap.Len() != n {
		t.Fatalf("Len %d, want %d", snap.Len(), n)
	}
	check := func(i int) error {
		if got := snap.Resource(i); !proto.Equal(got, want[i]) {
			return fmt.Errorf("resource %d: %v, want %v", i, got, want[i])
		}
		return nil
	}
	for _, i := range []int{n - 1, 0, blockRecords, blockRecords - 1, 2*blockRecords + 3} {
		if err := check(i); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := g; i < n; i += 4 {
				if err := check(i); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestUnmarshalSnapshotRejectsGarbage(t *testing.T) {
	good := &Snapshot{Taken: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Resources:  []*sirsiv1.Resource{{ResourceId: "i-1", Type: validation.ResourceEC2Instance, Region: "us-east-1", Size: "t3.small"}},
		Incomplete: []UnitError{{Type: validation.ResourceS3Bucket, Region: "eu-west-1", Err: errors.New("AccessDenied")}}}
	b, err := good.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalSnapshot(b)
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if len(back.Incomplete) != 1 || back.Incomplete[0].Err.Error() != "AccessDenied" {
		t.Errorf("incomplete units after the round trip: %v", back.Incomplete)
	}
	doc := string(b)
	for name, c := range map[string]struct{ in, want string }{
		"not json":        {"\x00\x01garbage", "not a discovery snapshot"},
		"other document":  {`{"hello":"world"}`, "not a discovery snapshot"},
		"future version":  {strings.Replace(doc, `"version":1`, `"version":2`, 1), "version 2"},
		"no time":         {strings.Replace(doc, `"taken":"2026-01-02T03:04:05Z"`, `"taken":"0001-01-01T00:00:00Z"`, 1), "taken"},
		"bad type":        {strings.Replace(doc, `"aws_ec2_instance"`, `"aws_vpc"`, 1), "resources[0].type"},
		"bad region":      {strings.Replace(doc, `"us-east-1"`, `"moon-1"`, 1), "resources[0].region"},
		"no id":           {strings.Replace(doc, `"i-1"`, `""`, 1), "resources[0].resource_id"},
		"bad incomplete":  {strings.Replace(doc, `"eu-west-1"`, `"nowhere"`, 1), "incomplete[0].region"},
		"trailing data":   {doc + `{}`, "after the snapshot"},
		"duplicate entry": {strings.Replace(doc, `"resources":[`, `"resources":[{"resourceId":"i-1","region":"us-east-1","type":"aws_ec2_instance"},`, 1), "listed twice"},
	} {
		_, err := UnmarshalSnapshot([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
}
