package processtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fact is what a test compares per resource, field by field: read from
// the simulated account with the EC2 API directly (not through discovery),
// and from the control plane's list.
type fact struct {
	size, state, name, zone string
	tags                    map[string]string
	stale                   bool
}

func (f fact) String() string {
	return fmt.Sprintf("size=%s state=%s name=%s zone=%s tags=%v stale=%v", f.size, f.state, f.name, f.zone, f.tags, f.stale)
}

func (f fact) equal(g fact) bool {
	return f.size == g.size && f.state == g.state && f.name == g.name && f.zone == g.zone && maps.Equal(f.tags, g.tags) && f.stale == g.stale
}

func (w *world) ec2(region string) *ec2.Client {
	// More attempts than the default three: the truth must not fail a test
	// because a loaded machine dropped a connection.
	return ec2.New(ec2.Options{Region: region, BaseEndpoint: aws.String(w.simURL), RetryMaxAttempts: 8,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDPROCTEST", "secret", "")})
}

func tagMap(ts []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func nameOr(tags map[string]string, id string) string {
	if n := tags["Name"]; n != "" {
		return n
	}
	return id
}

// truth lists the instances and volumes of the simulated account, keyed
// type/region/id.
func (w *world) truth(tb testing.TB) map[string]fact {
	tb.Helper()
	ctx := context.Background()
	out := map[string]fact{}
	for _, region := range fleetRegions {
		c := w.ec2(region)
		ip := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{})
		for ip.HasMorePages() {
			page, err := ip.NextPage(ctx)
			if err != nil {
				tb.Fatalf("DescribeInstances in %s: %v", region, err)
			}
			for _, rv := range page.Reservations {
				for _, in := range rv.Instances {
					tags := tagMap(in.Tags)
					out["aws_ec2_instance/"+region+"/"+aws.ToString(in.InstanceId)] = fact{size: string(in.InstanceType), state: string(in.State.Name),
						name: nameOr(tags, aws.ToString(in.InstanceId)), zone: aws.ToString(in.Placement.AvailabilityZone), tags: tags}
				}
			}
		}
		vp := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{})
		for vp.HasMorePages() {
			page, err := vp.NextPage(ctx)
			if err != nil {
				tb.Fatalf("DescribeVolumes in %s: %v", region, err)
			}
			for _, v := range page.Volumes {
				tags := tagMap(v.Tags)
				out["aws_ebs_volume/"+region+"/"+aws.ToString(v.VolumeId)] = fact{size: fmt.Sprintf("%s:%d", v.VolumeType, aws.ToInt32(v.Size)), state: string(v.State),
					name: nameOr(tags, aws.ToString(v.VolumeId)), zone: aws.ToString(v.AvailabilityZone), tags: tags}
			}
		}
	}
	return out
}

// listed is the control plane's inventory of instances and volumes in the
// same shape, with every key that is stored more than once reported.
func (w *world) listed(tb testing.TB) (map[string]fact, []string) {
	tb.Helper()
	out := map[string]fact{}
	var twice []string
	for _, r := range w.inventory(tb) {
		if r.GetType() != "aws_ec2_instance" && r.GetType() != "aws_ebs_volume" {
			continue
		}
		k := r.GetType() + "/" + r.GetRegion() + "/" + r.GetResourceId()
		if _, ok := out[k]; ok {
			twice = append(twice, k)
		}
		tags := r.GetTags()
		if tags == nil {
			tags = map[string]string{}
		}
		out[k] = fact{size: r.GetSize(), state: r.GetState(), name: r.GetName(), zone: r.GetAttributes()["availability_zone"], tags: tags, stale: r.GetStale()}
	}
	return out, twice
}

// differences describes how the control plane's list differs from the
// account, field by field; empty when they are equal.
func differences(truth, listed map[string]fact, twice []string) string {
	var d []string
	for _, k := range twice {
		d = append(d, "stored twice: "+k)
	}
	for _, k := range slices.Sorted(maps.Keys(truth)) {
		got, ok := listed[k]
		switch {
		case !ok:
			d = append(d, "missing: "+k)
		case !got.equal(truth[k]):
			d = append(d, fmt.Sprintf("differs: %s\n  account: %v\n  listed:  %v", k, truth[k], got))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(listed)) {
		if _, ok := truth[k]; !ok {
			d = append(d, "phantom: "+k)
		}
	}
	if len(d) > 12 {
		d = append(d[:12], fmt.Sprintf("... and %d more", len(d)-12))
	}
	return strings.Join(d, "\n")
}
