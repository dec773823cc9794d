package awssim

import (
	"bytes"
	"encoding/xml"
	"strconv"
)

// DescribeInstances pages of 1000 instances are the simulator's hottest
// answer (the agent's discovery sweep); encoding/xml's reflection spends most
// of the handler's time on them. describeInstancesResponse therefore writes
// itself directly, producing byte-for-byte what xml.Marshal produces for the
// same value (TestDescribeInstancesFastXMLMatchesMarshal holds it to that).

// appendXMLer is a response that can write its own XML document body.
type appendXMLer interface {
	appendXML(b *bytes.Buffer)
}

// xmlWriter appends each element to the buffer's spare capacity and
// writes it once (bytes.Buffer's AvailableBuffer idiom): a page has some
// 60,000 elements, and six buffer calls per element cost more than the
// bytes themselves.
type xmlWriter struct{ b *bytes.Buffer }

func (w xmlWriter) open(name string) {
	_, _ = w.b.Write(append(append(append(w.b.AvailableBuffer(), '<'), name...), '>'))
}

func (w xmlWriter) close(name string) {
	_, _ = w.b.Write(appendClose(w.b.AvailableBuffer(), name))
}

func appendClose(b []byte, name string) []byte {
	return append(append(append(b, '<', '/'), name...), '>')
}

func (w xmlWriter) str(name, v string) {
	if !plainASCII(v) {
		w.open(name)
		_ = xml.EscapeText(w.b, []byte(v))
		w.close(name)
		return
	}
	b := append(append(append(w.b.AvailableBuffer(), '<'), name...), '>')
	_, _ = w.b.Write(appendClose(append(b, v...), name))
}

// plainASCII is true when xml.EscapeText would copy v unchanged.
func plainASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c < 0x20, c >= 0x7f, c == '&', c == '<', c == '>', c == '"', c == '\'':
			return false
		}
	}
	return true
}

func (w xmlWriter) strOmitEmpty(name, v string) {
	if v != "" {
		w.str(name, v)
	}
}

func (w xmlWriter) int(name string, v int) {
	b := append(append(append(w.b.AvailableBuffer(), '<'), name...), '>')
	_, _ = w.b.Write(appendClose(strconv.AppendInt(b, int64(v), 10), name))
}

func (w xmlWriter) bool(name string, v bool) {
	b := append(append(append(w.b.AvailableBuffer(), '<'), name...), '>')
	_, _ = w.b.Write(appendClose(strconv.AppendBool(b, v), name))
}

// instanceXMLBytes is about what one instance item takes, so a page's
// buffer is allocated once instead of doubling its way up.
const instanceXMLBytes = 1600

func (r describeInstancesResponse) appendXML(b *bytes.Buffer) {
	n := 0
	for i := range r.Reservations {
		n += len(r.Reservations[i].Instances)
	}
	b.Grow(512 + n*instanceXMLBytes)
	w := xmlWriter{b}
	b.WriteString(`<DescribeInstancesResponse xmlns="`)
	_ = xml.EscapeText(b, []byte(r.XMLNS))
	b.WriteString(`">`)
	w.str("requestId", r.RequestID)
	// encoding/xml writes the parent of an a>item list even when the list
	// is empty, as AWS does.
	{
		w.open("reservationSet")
		for i := range r.Reservations {
			res := &r.Reservations[i]
			w.open("item")
			w.str("reservationId", res.ReservationID)
			w.str("ownerId", res.OwnerID)
			{
				w.open("instancesSet")
				for j := range res.Instances {
					w.open("item")
					res.Instances[j].appendXML(w)
					w.close("item")
				}
				w.close("instancesSet")
			}
			w.close("item")
		}
		w.close("reservationSet")
	}
	w.strOmitEmpty("nextToken", r.NextToken)
	w.close("DescribeInstancesResponse")
}

// appendXML writes the fields of ec2InstanceXML in declaration order with
// the same tags and omitempty rules.
func (x *ec2InstanceXML) appendXML(w xmlWriter) {
	w.str("instanceId", x.InstanceID)
	w.str("imageId", x.ImageID)
	w.open("instanceState")
	w.int("code", x.State.Code)
	w.str("name", x.State.Name)
	w.close("instanceState")
	w.str("privateDnsName", x.PrivateDNSName)
	w.str("dnsName", x.DNSName)
	w.str("reason", x.Reason)
	w.strOmitEmpty("keyName", x.KeyName)
	w.int("amiLaunchIndex", x.AmiLaunchIndex)
	w.str("instanceType", x.InstanceType)
	w.str("launchTime", x.LaunchTime)
	w.open("placement")
	w.str("availabilityZone", x.Placement.AvailabilityZone)
	w.str("groupName", x.Placement.GroupName)
	w.str("tenancy", x.Placement.Tenancy)
	w.close("placement")
	w.open("monitoring")
	w.str("state", x.Monitoring.State)
	w.close("monitoring")
	w.strOmitEmpty("subnetId", x.SubnetID)
	w.strOmitEmpty("vpcId", x.VpcID)
	w.strOmitEmpty("privateIpAddress", x.PrivateIPAddress)
	w.strOmitEmpty("ipAddress", x.IPAddress)
	if x.StateReason != nil {
		w.open("stateReason")
		w.str("code", x.StateReason.Code)
		w.str("message", x.StateReason.Message)
		w.close("stateReason")
	}
	w.strOmitEmpty("instanceLifecycle", x.InstanceLifecycle)
	w.str("architecture", x.Architecture)
	w.str("rootDeviceType", x.RootDeviceType)
	w.str("rootDeviceName", x.RootDeviceName)
	{
		w.open("blockDeviceMapping")
		for _, bd := range x.BlockDeviceMapping {
			w.open("item")
			w.str("deviceName", bd.DeviceName)
			w.open("ebs")
			w.str("volumeId", bd.Ebs.VolumeID)
			w.str("status", bd.Ebs.Status)
			w.str("attachTime", bd.Ebs.AttachTime)
			w.bool("deleteOnTermination", bd.Ebs.DeleteOnTermination)
			w.close("ebs")
			w.close("item")
		}
		w.close("blockDeviceMapping")
	}
	w.str("virtualizationType", x.VirtualizationType)
	w.strOmitEmpty("clientToken", x.ClientToken)
	{
		// encoding/xml writes the parent even for an omitempty list.
		w.open("tagSet")
		for _, t := range x.TagSet {
			w.open("item")
			w.str("key", t.Key)
			w.str("value", t.Value)
			w.close("item")
		}
		w.close("tagSet")
	}
	w.str("hypervisor", x.Hypervisor)
	w.bool("ebsOptimized", x.EbsOptimized)
	w.bool("enaSupport", x.EnaSupport)
	w.open("cpuOptions")
	w.int("coreCount", x.CPUOptions.CoreCount)
	w.int("threadsPerCore", x.CPUOptions.ThreadsPerCore)
	w.close("cpuOptions")
	w.open("hibernationOptions")
	w.bool("configured", x.HibernationOptions.Configured)
	w.close("hibernationOptions")
	w.str("platformDetails", x.PlatformDetails)
	w.str("usageOperation", x.UsageOperation)
	w.str("usageOperationUpdateTime", x.UsageOperationUpdated)
}
