// Package resourceattr is the one home of the discovered-resource record
// schema that more than one package reads: the attribute names discovery
// writes and the estimator, optimizer and actuator read, and the EBS size
// format. Keeping writer and readers on the same constants is what stops
// an estimate from silently reading an attribute nobody writes.
package resourceattr

import (
	"fmt"
	"strconv"
	"strings"
)

// Attribute names (sirsiv1.Resource.Attributes keys).
const (
	// IOPS and Throughput (MiB/s) are an EBS volume's provisioned
	// performance, absent when the volume type has none to report.
	IOPS       = "iops"
	Throughput = "throughput"
	// AttachedTo is the instance (or, for an Elastic IP, the network
	// interface) a volume or address is attached to.
	AttachedTo = "attached_to"
	// SizeGiB is an EBS snapshot's source volume size.
	SizeGiB = "size_gib"
	// AssociationID and InstanceID describe an Elastic IP's association.
	AssociationID = "association_id"
	InstanceID    = "instance_id"
	// Engine, MultiAZ, StorageType and StorageGiB describe an RDS instance.
	Engine      = "engine"
	MultiAZ     = "multi_az"
	StorageType = "storage_type"
	StorageGiB  = "storage_gib"
	// InstanceType and InstanceClass override Size for EC2 and RDS.
	InstanceType  = "instance_type"
	InstanceClass = "instance_class"
	// Architecture is a Lambda function's (x86_64 or arm64).
	Architecture = "architecture"
	// RootDeviceType (ebs or instance-store), Lifecycle (on-demand, spot
	// or scheduled) and Hibernation ("true" when the instance was launched
	// with hibernation configured) are an EC2 instance's, read by
	// stopguard and off-hours.
	RootDeviceType = "root_device_type"
	Lifecycle      = "lifecycle"
	Hibernation    = "hibernation"
)

// VolumeSize splits an EBS volume's size ("gp3:100"), the two facts that
// set its storage price and that a migration changes together, into the
// volume type and GiB.
func VolumeSize(size string) (volumeType string, gib int, err error) {
	i := strings.LastIndexByte(size, ':')
	if i > 0 {
		if gib, err = strconv.Atoi(size[i+1:]); err == nil && gib >= 0 {
			return size[:i], gib, nil
		}
	}
	return "", 0, fmt.Errorf("volume size %q: want <volume type>:<GiB>", size)
}

// FormatVolumeSize is VolumeSize's inverse.
func FormatVolumeSize(volumeType string, gib int) string {
	return fmt.Sprintf("%s:%d", volumeType, gib)
}
