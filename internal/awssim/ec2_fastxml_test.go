package awssim

import (
	"bytes"
	"encoding/xml"
	"testing"
)

func TestDescribeInstancesFastXMLMatchesMarshal(t *testing.T) {
	inst := ec2InstanceXML{InstanceID: "i-0123456789abcdef0", ImageID: "ami-1", State: ec2State{Code: 16, Name: "running"},
		PrivateDNSName: "ip-10-0-0-4.ec2.internal", Reason: `User initiated (2026-01-01 00:00:00 UTC) <&'">`, AmiLaunchIndex: 2,
		InstanceType: "m5.large", LaunchTime: "2026-01-01T00:00:00.000Z", Placement: ec2Placement{AvailabilityZone: "us-east-1a", Tenancy: "default"},
		Monitoring: ec2Monitoring{State: "disabled"}, SubnetID: "subnet-1", VpcID: "vpc-1", PrivateIPAddress: "10.0.0.4",
		IPAddress: "3.3.3.3", StateReason: &ec2StateReason{Code: "Client.UserInitiatedShutdown", Message: "m\n\t\r"},
		Architecture: "x86_64", RootDeviceType: "ebs", RootDeviceName: "/dev/xvda", VirtualizationType: "hvm",
		ClientToken: "tok", TagSet: []ec2Tag{{Key: "Name", Value: "a&b"}, {Key: "ünï", Value: "\x01bad"}},
		Hypervisor: "xen", EbsOptimized: true, CPUOptions: ec2CPUOptions{CoreCount: 1, ThreadsPerCore: 2},
		PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances", UsageOperationUpdated: "2026-01-01T00:00:00.000Z"}
	var bd ec2BlockDevice
	bd.DeviceName, bd.Ebs.VolumeID, bd.Ebs.Status, bd.Ebs.AttachTime, bd.Ebs.DeleteOnTermination = "/dev/xvda", "vol-1", "attached", "t", true
	inst.BlockDeviceMapping = []ec2BlockDevice{bd, bd}
	bare := ec2InstanceXML{InstanceID: "i-2", State: ec2State{Name: "terminated", Code: 48}}
	for _, resp := range []describeInstancesResponse{
		{XMLNS: ec2XMLNS, RequestID: "req"},
		{XMLNS: ec2XMLNS, RequestID: "req", NextToken: "tok&", Reservations: []ec2Reservation{
			{ReservationID: "r-1", OwnerID: "123456789012", Instances: []ec2InstanceXML{inst, bare}},
			{ReservationID: "r-2", OwnerID: "123456789012"},
		}},
	} {
		want, err := xml.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		resp.appendXML(&got)
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("fast XML differs from encoding/xml:\n got %s\nwant %s", got.Bytes(), want)
		}
	}
}
