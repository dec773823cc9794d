package awssim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// recorded is what the pinned SDK put on the wire for one call.
type recorded struct {
	method, path, contentType string
	form                      url.Values
}

type recorder struct {
	mu   sync.Mutex
	last recorded
	next http.Handler
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	form, _ := url.ParseQuery(string(body))
	r.mu.Lock()
	r.last = recorded{method: req.Method, path: req.URL.Path, contentType: req.Header.Get("Content-Type"), form: form}
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.next.ServeHTTP(w, req)
}

// TestProtocolCanaries pins what aws-sdk-go-v2 (ec2 v1.344, sts v1.51) sends
// for every EC2 and STS operation the simulator serves, so an SDK upgrade
// that changes the protocol fails here first. Each call's result is beside
// the point (some fail by design); the request shape is what is checked.
func TestProtocolCanaries(t *testing.T) {
	sim, err := New(Options{Clock: NewManualClock(testStart)})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{next: sim.Handler()}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	ts := &testSim{Sim: sim, URL: srv.URL}
	e := ec2.NewFromConfig(ts.awsConfig("us-east-1", "AKIDTEST"))
	s := sts.NewFromConfig(ts.awsConfig("us-east-1", "AKIDTEST"))
	ctx := context.Background()
	id, vol, alloc := aws.String("i-0123456789abcdef0"), aws.String("vol-0123456789abcdef0"), aws.String("eipalloc-0123456789abcdef0")

	calls := []struct {
		action, version string
		call            func() error
		// params the SDK must send under these exact names
		params []string
	}{
		{"RunInstances", ec2Version, func() error {
			_, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: "t3.small", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}})
			return err
		}, []string{"ImageId", "InstanceType", "MinCount", "MaxCount", "TagSpecification.1.ResourceType", "TagSpecification.1.Tag.1.Key", "TagSpecification.1.Tag.1.Value"}},
		{"DescribeInstances", ec2Version, func() error {
			_, err := e.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:a"), Values: []string{"b"}}}, MaxResults: aws.Int32(5), NextToken: aws.String("t")})
			return err
		}, []string{"Filter.1.Name", "Filter.1.Value.1", "MaxResults", "NextToken"}},
		{"StopInstances", ec2Version, func() error {
			_, err := e.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{*id}})
			return err
		}, []string{"InstanceId.1"}},
		{"StartInstances", ec2Version, func() error {
			_, err := e.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{*id}})
			return err
		}, []string{"InstanceId.1"}},
		{"TerminateInstances", ec2Version, func() error {
			_, err := e.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{*id}})
			return err
		}, []string{"InstanceId.1"}},
		{"ModifyInstanceAttribute", ec2Version, func() error {
			_, err := e.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id, InstanceType: &types.AttributeValue{Value: aws.String("m5.large")}})
			return err
		}, []string{"InstanceId", "InstanceType.Value"}},
		{"DescribeInstanceStatus", ec2Version, func() error {
			_, err := e.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true), MaxResults: aws.Int32(5)})
			return err
		}, []string{"IncludeAllInstances", "MaxResults"}},
		{"DescribeInstanceTypes", ec2Version, func() error {
			_, err := e.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"m5.large"}})
			return err
		}, []string{"InstanceType.1"}},
		{"CreateVolume", ec2Version, func() error {
			_, err := e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(10), VolumeType: types.VolumeTypeGp3, Iops: aws.Int32(3000), Throughput: aws.Int32(125)})
			return err
		}, []string{"AvailabilityZone", "Size", "VolumeType", "Iops", "Throughput"}},
		{"DescribeVolumes", ec2Version, func() error {
			_, err := e.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{*vol}})
			return err
		}, []string{"VolumeId.1"}},
		{"DeleteVolume", ec2Version, func() error {
			_, err := e.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: vol})
			return err
		}, []string{"VolumeId"}},
		{"AttachVolume", ec2Version, func() error {
			_, err := e.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: vol, InstanceId: id, Device: aws.String("/dev/sdf")})
			return err
		}, []string{"VolumeId", "InstanceId", "Device"}},
		{"ModifyVolume", ec2Version, func() error {
			_, err := e.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: vol, VolumeType: types.VolumeTypeGp3, Size: aws.Int32(20)})
			return err
		}, []string{"VolumeId", "VolumeType", "Size"}},
		{"DescribeVolumesModifications", ec2Version, func() error {
			_, err := e.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{aws.ToString(vol)}})
			return err
		}, []string{"VolumeId.1"}},
		{"CreateSnapshot", ec2Version, func() error {
			_, err := e.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vol, Description: aws.String("d")})
			return err
		}, []string{"VolumeId", "Description"}},
		{"DescribeSnapshots", ec2Version, func() error {
			_, err := e.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, SnapshotIds: []string{"snap-0123456789abcdef0"}})
			return err
		}, []string{"Owner.1", "SnapshotId.1"}},
		{"DeleteSnapshot", ec2Version, func() error {
			_, err := e.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-0123456789abcdef0")})
			return err
		}, []string{"SnapshotId"}},
		{"AllocateAddress", ec2Version, func() error {
			_, err := e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
			return err
		}, []string{"Domain"}},
		{"DescribeAddresses", ec2Version, func() error {
			_, err := e.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{*alloc}, PublicIps: []string{"3.3.3.3"}})
			return err
		}, []string{"AllocationId.1", "PublicIp.1"}},
		{"AssociateAddress", ec2Version, func() error {
			_, err := e.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc, InstanceId: id, AllowReassociation: aws.Bool(true)})
			return err
		}, []string{"AllocationId", "InstanceId", "AllowReassociation"}},
		{"ReleaseAddress", ec2Version, func() error {
			_, err := e.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: alloc})
			return err
		}, []string{"AllocationId"}},
		{"CreateTags", ec2Version, func() error {
			_, err := e.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{*id}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, []string{"ResourceId.1", "Tag.1.Key", "Tag.1.Value"}},
		{"DeleteTags", ec2Version, func() error {
			_, err := e.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{*id}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, []string{"ResourceId.1", "Tag.1.Key", "Tag.1.Value"}},
		{"DescribeRegions", ec2Version, func() error {
			_, err := e.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"us-east-1"}, AllRegions: aws.Bool(false)})
			return err
		}, []string{"RegionName.1", "AllRegions"}},
		{"GetCallerIdentity", stsVersion, func() error {
			_, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, nil},
		{"AssumeRole", stsVersion, func() error {
			_, err := s.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/r"), RoleSessionName: aws.String("sess"), ExternalId: aws.String("ext-1"), DurationSeconds: aws.Int32(900)})
			return err
		}, []string{"RoleArn", "RoleSessionName", "ExternalId", "DurationSeconds"}},
	}
	for _, c := range calls {
		_ = c.call()
		rec.mu.Lock()
		got := rec.last
		rec.mu.Unlock()
		if got.method != http.MethodPost || got.path != "/" || got.contentType != "application/x-www-form-urlencoded" {
			t.Errorf("%s: %s %s Content-Type %q, want POST / application/x-www-form-urlencoded", c.action, got.method, got.path, got.contentType)
		}
		if got.form.Get("Action") != c.action || got.form.Get("Version") != c.version {
			t.Errorf("%s: Action=%q Version=%q, want %s %s", c.action, got.form.Get("Action"), got.form.Get("Version"), c.action, c.version)
		}
		for _, p := range c.params {
			if _, ok := got.form[p]; !ok {
				t.Errorf("%s: parameter %s not sent (sent %v)", c.action, p, got.form)
			}
		}
	}
	for action := range ec2Handlers {
		found := false
		for _, c := range calls {
			found = found || c.action == action
		}
		if !found {
			t.Errorf("EC2 action %s has no canary", action)
		}
	}
}
