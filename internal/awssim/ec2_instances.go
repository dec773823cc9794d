package awssim

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

type ec2InstanceXML struct {
	InstanceID            string           `xml:"instanceId"`
	ImageID               string           `xml:"imageId"`
	State                 ec2State         `xml:"instanceState"`
	PrivateDNSName        string           `xml:"privateDnsName"`
	DNSName               string           `xml:"dnsName"`
	Reason                string           `xml:"reason"`
	KeyName               string           `xml:"keyName,omitempty"`
	AmiLaunchIndex        int              `xml:"amiLaunchIndex"`
	InstanceType          string           `xml:"instanceType"`
	InstanceLifecycle     string           `xml:"instanceLifecycle,omitempty"`
	LaunchTime            string           `xml:"launchTime"`
	Placement             ec2Placement     `xml:"placement"`
	Monitoring            ec2Monitoring    `xml:"monitoring"`
	SubnetID              string           `xml:"subnetId,omitempty"`
	VpcID                 string           `xml:"vpcId,omitempty"`
	PrivateIPAddress      string           `xml:"privateIpAddress,omitempty"`
	IPAddress             string           `xml:"ipAddress,omitempty"`
	StateReason           *ec2StateReason  `xml:"stateReason,omitempty"`
	Architecture          string           `xml:"architecture"`
	RootDeviceType        string           `xml:"rootDeviceType"`
	RootDeviceName        string           `xml:"rootDeviceName"`
	BlockDeviceMapping    []ec2BlockDevice `xml:"blockDeviceMapping>item"`
	VirtualizationType    string           `xml:"virtualizationType"`
	ClientToken           string           `xml:"clientToken,omitempty"`
	TagSet                []ec2Tag         `xml:"tagSet>item,omitempty"`
	Hypervisor            string           `xml:"hypervisor"`
	EbsOptimized          bool             `xml:"ebsOptimized"`
	EnaSupport            bool             `xml:"enaSupport"`
	CPUOptions            ec2CPUOptions    `xml:"cpuOptions"`
	HibernationOptions    ec2Hibernation   `xml:"hibernationOptions"`
	PlatformDetails       string           `xml:"platformDetails"`
	UsageOperation        string           `xml:"usageOperation"`
	UsageOperationUpdated string           `xml:"usageOperationUpdateTime"`
}

type ec2Placement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	GroupName        string `xml:"groupName"`
	Tenancy          string `xml:"tenancy"`
}

type ec2Monitoring struct {
	State string `xml:"state"`
}

type ec2StateReason struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type ec2BlockDevice struct {
	DeviceName string `xml:"deviceName"`
	Ebs        struct {
		VolumeID            string `xml:"volumeId"`
		Status              string `xml:"status"`
		AttachTime          string `xml:"attachTime"`
		DeleteOnTermination bool   `xml:"deleteOnTermination"`
	} `xml:"ebs"`
}

// ec2Hibernation is HibernationOptions: EC2 always describes it.
type ec2Hibernation struct {
	Configured bool `xml:"configured"`
}

type ec2CPUOptions struct {
	CoreCount      int `xml:"coreCount"`
	ThreadsPerCore int `xml:"threadsPerCore"`
}

type ec2Reservation struct {
	ReservationID string           `xml:"reservationId"`
	OwnerID       string           `xml:"ownerId"`
	Instances     []ec2InstanceXML `xml:"instancesSet>item"`
}

type runInstancesResponse struct {
	XMLName       xml.Name         `xml:"RunInstancesResponse"`
	XMLNS         string           `xml:"xmlns,attr"`
	RequestID     string           `xml:"requestId"`
	ReservationID string           `xml:"reservationId"`
	OwnerID       string           `xml:"ownerId"`
	Instances     []ec2InstanceXML `xml:"instancesSet>item"`
}

type describeInstancesResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	XMLNS        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []ec2Reservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

type instanceStateChangeResponse struct {
	XMLName   xml.Name                 `xml:""`
	XMLNS     string                   `xml:"xmlns,attr"`
	RequestID string                   `xml:"requestId"`
	Changes   []ec2InstanceStateChange `xml:"instancesSet>item"`
}

type ec2InstanceStateChange struct {
	InstanceID    string   `xml:"instanceId"`
	CurrentState  ec2State `xml:"currentState"`
	PreviousState ec2State `xml:"previousState"`
}

// defaultRootVolumeGiB and type match the Amazon Linux 2023 AMIs, whose root
// device mapping is an 8 GiB gp3 volume deleted on termination.
const (
	defaultRootVolumeGiB  = 8
	defaultRootVolumeType = "gp3"
	rootDevice            = "/dev/xvda"
	maxInstancesPerCall   = 1000
)

func (s *Sim) instanceXML(rs *RegionState, in *Instance, launchIndex int) ec2InstanceXML {
	launched := ec2Timestamp(in.LaunchTime)
	x := ec2InstanceXML{
		InstanceID: in.ID, ImageID: in.ImageID, State: stateOf(in.State),
		Reason: in.StateTransitionReason, KeyName: in.KeyName, AmiLaunchIndex: launchIndex,
		InstanceType: in.Type, LaunchTime: launched,
		Placement:             ec2Placement{AvailabilityZone: in.AZ, Tenancy: "default"},
		Monitoring:            ec2Monitoring{State: "disabled"},
		Architecture:          in.Arch,
		RootDeviceType:        cmp.Or(in.RootDeviceType, "ebs"),
		InstanceLifecycle:     in.Lifecycle,
		HibernationOptions:    ec2Hibernation{Configured: in.HibernationConfigured},
		RootDeviceName:        rootDevice,
		VirtualizationType:    "hvm",
		ClientToken:           in.ClientToken,
		TagSet:                ec2Tags(in.Tags),
		Hypervisor:            "xen",
		EbsOptimized:          true,
		EnaSupport:            true,
		PlatformDetails:       "Linux/UNIX",
		UsageOperation:        "RunInstances",
		UsageOperationUpdated: launched,
	}
	if in.State != "terminated" {
		x.SubnetID, x.VpcID, x.PrivateIPAddress = in.SubnetID, in.VpcID, in.PrivateIP
		x.PrivateDNSName = "ip-" + strings.ReplaceAll(in.PrivateIP, ".", "-") + "." + rs.Name + ".compute.internal"
	}
	if in.StateReasonCode != "" {
		x.StateReason = &ec2StateReason{Code: in.StateReasonCode, Message: in.StateReasonMessage}
	}
	if spec, aerr := s.instanceSpec(in.Type); aerr == nil {
		threads := 2
		if in.Arch == "arm64" || spec.VCPU == 1 {
			threads = 1
		}
		x.CPUOptions = ec2CPUOptions{CoreCount: max(1, spec.VCPU/threads), ThreadsPerCore: threads}
	}
	if a := rs.Addresses[in.address]; a != nil {
		x.IPAddress = a.PublicIP
	}
	for _, id := range in.volumes {
		v := rs.Volumes[id]
		var bd ec2BlockDevice
		bd.DeviceName = v.Attachment.Device
		bd.Ebs.VolumeID = v.ID
		bd.Ebs.Status = "attached"
		bd.Ebs.AttachTime = ec2Timestamp(v.Attachment.AttachTime)
		bd.Ebs.DeleteOnTermination = v.Attachment.DeleteOnTermination
		x.BlockDeviceMapping = append(x.BlockDeviceMapping, bd)
	}
	return x
}

func (s *Sim) ec2RunInstances(rc *Request, rs *RegionState) (any, *APIError) {
	f := rc.Form
	imageID := f.Get("ImageId")
	if imageID == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter ImageId")
	}
	if !imageIDPattern.MatchString(imageID) {
		return nil, Errorf("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", imageID)
	}
	typ := f.Get("InstanceType")
	if typ == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter InstanceType (the simulator has no default instance type)")
	}
	spec, aerr := s.instanceSpec(typ)
	if aerr != nil {
		return nil, aerr
	}
	minCount, minSet, aerr := OptionalInt(f, "MinCount", 1, maxInstancesPerCall)
	if aerr != nil {
		return nil, aerr
	}
	maxCount, maxSet, aerr := OptionalInt(f, "MaxCount", 1, maxInstancesPerCall)
	if aerr != nil {
		return nil, aerr
	}
	if !minSet || !maxSet {
		return nil, Errorf("MissingParameter", "The request must contain the parameters MinCount and MaxCount")
	}
	if minCount > maxCount {
		return nil, Errorf("InvalidParameterValue", "MinCount (%d) must not be greater than MaxCount (%d)", minCount, maxCount)
	}
	az := f.Get("Placement.AvailabilityZone")
	if az != "" {
		if aerr := zoneOf(rs.Name, az, "Placement.AvailabilityZone"); aerr != nil {
			return nil, aerr
		}
	}
	tagSpecs, aerr := tagSpecifications(rc, "instance", "volume")
	if aerr != nil {
		return nil, aerr
	}
	rootSize, rootType, aerr := rootVolumeParams(rc)
	if aerr != nil {
		return nil, aerr
	}
	lifecycle, spotType, aerr := marketOptions(rc)
	if aerr != nil {
		return nil, aerr
	}
	hibernation, aerr := hibernationOptions(rc, s.imageRootDeviceType(imageID))
	if aerr != nil {
		return nil, aerr
	}
	token := f.Get("ClientToken")
	if token != "" {
		if resp := s.replayRunInstances(rc, rs, token); resp != nil {
			return resp, nil
		}
	}
	if !s.takeResourceTokens(rc, maxCount) {
		return nil, throttleError("ec2", ProtoEC2)
	}
	resp := runInstancesResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, ReservationID: s.newID("r"), OwnerID: rc.Account}
	created := rc.Now.Add(-s.opts.Backfill)
	profile, _ := ParseProfile(tagSpecs["instance"][ProfileTag])
	for i := range maxCount {
		in := &Instance{
			ID: s.newID("i"), ReservationID: resp.ReservationID, ImageID: imageID, Type: typ, Arch: spec.Architecture,
			LaunchTime: created, AZ: az, KeyName: f.Get("KeyName"), ClientToken: token,
			Tags: maps.Clone(tagSpecs["instance"]), Profile: profile,
			SubnetID: f.Get("SubnetId"), VpcID: "vpc-" + pseudoHex(rc.Account+rs.Name, 17),
			RootDeviceType: s.imageRootDeviceType(imageID), Lifecycle: lifecycle, SpotType: spotType,
			HibernationConfigured: hibernation,
		}
		if in.Tags == nil {
			in.Tags = map[string]string{}
		}
		if in.AZ == "" {
			in.AZ = rs.Name + string(rune('a'+len(rs.InstanceOrder)%3))
		}
		if in.SubnetID == "" {
			in.SubnetID = "subnet-" + pseudoHex(rc.Account+in.AZ, 17)
		}
		n := len(rs.InstanceOrder) + 4
		in.PrivateIP = fmt.Sprintf("10.%d.%d.%d", in.AZ[len(in.AZ)-1]-'a', n/250%250, n%250+4)
		in.Seed = resourceSeed(s.opts.Seed, in.ID)
		rs.Instances[in.ID] = in
		rs.InstanceOrder = append(rs.InstanceOrder, in.ID)
		s.setInstanceState(rc.Account, rs, in, "pending", created)
		if s.opts.Backfill > 0 {
			// A backfilled instance has been running since its launch.
			s.settleInstance(rc.Account, rs, in, created.Add(s.opts.StateDelay))
		}
		root := &Volume{
			ID: s.newID("vol"), Type: rootType, SizeGiB: rootSize, AZ: in.AZ, CreateTime: created,
			SnapshotID: "snap-" + pseudoHex(imageID, 17), Tags: maps.Clone(tagSpecs["volume"]),
		}
		attachVolume(in, root, rootDevice, created, true)
		root.Iops, root.Throughput = defaultPerformance(rootType, rootSize)
		rs.Volumes[root.ID] = root
		rs.VolumeOrder = append(rs.VolumeOrder, root.ID)
		s.recordEvent(s.volumeEvent(rc.Account, rs.Name, root, EventCreated, created))
		resp.Instances = append(resp.Instances, s.instanceXML(rs, in, i))
	}
	return resp, nil
}

// rootVolumeParams reads an optional BlockDeviceMapping for the root device.
func rootVolumeParams(rc *Request) (int, string, *APIError) {
	maps, aerr := SubForms(rc.Form, "BlockDeviceMapping")
	if aerr != nil {
		return 0, "", aerr
	}
	size, typ := defaultRootVolumeGiB, defaultRootVolumeType
	for i, m := range maps {
		if dev := m.Get("DeviceName"); dev != rootDevice {
			return 0, "", Errorf("InvalidParameterValue", "BlockDeviceMapping.%d.DeviceName: the simulator only maps the root device %s, got %q", i+1, rootDevice, dev)
		}
		if t := m.Get("Ebs.VolumeType"); t != "" {
			typ = t
		}
		n, set, aerr := OptionalInt(m, "Ebs.VolumeSize", 1, 16384)
		if aerr != nil {
			return 0, "", aerr
		}
		if set {
			size = n
		}
	}
	if aerr := validateVolumeShape(typ, size); aerr != nil {
		return 0, "", aerr
	}
	return size, typ, nil
}

// replayRunInstances answers a retried RunInstances with the reservation the
// same ClientToken created, as EC2's idempotency guarantees.
func (s *Sim) replayRunInstances(rc *Request, rs *RegionState, token string) any {
	var resp *runInstancesResponse
	idx := 0
	for _, id := range rs.InstanceOrder {
		in := rs.Instances[id]
		if in.ClientToken != token {
			continue
		}
		if resp == nil {
			resp = &runInstancesResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, ReservationID: in.ReservationID, OwnerID: rc.Account}
		}
		resp.Instances = append(resp.Instances, s.instanceXML(rs, in, idx))
		idx++
	}
	if resp == nil {
		return nil
	}
	return *resp
}

var instanceFilterNames = []string{
	"instance-id", "instance-state-name", "instance-state-code", "instance-type", "availability-zone",
	"architecture", "image-id", "vpc-id", "subnet-id", "reservation-id", "private-ip-address", "key-name",
}

func instanceFilterField(in *Instance, name string) ([]string, bool) {
	switch name {
	case "instance-id":
		return []string{in.ID}, true
	case "instance-state-name":
		return []string{in.State}, true
	case "instance-state-code":
		return []string{strconv.Itoa(instanceStateCode[in.State])}, true
	case "instance-type":
		return []string{in.Type}, true
	case "availability-zone":
		return []string{in.AZ}, true
	case "architecture":
		return []string{in.Arch}, true
	case "image-id":
		return []string{in.ImageID}, true
	case "vpc-id":
		return []string{in.VpcID}, true
	case "subnet-id":
		return []string{in.SubnetID}, true
	case "reservation-id":
		return []string{in.ReservationID}, true
	case "private-ip-address":
		return []string{in.PrivateIP}, true
	case "key-name":
		return []string{in.KeyName}, true
	}
	return tagFilterValues(in.Tags, name)
}

// lookupInstances resolves ids, answering InvalidInstanceID.NotFound with
// every missing id like EC2 does.
func lookupInstances(rs *RegionState, ids []string) ([]*Instance, *APIError) {
	var missing []string
	out := make([]*Instance, 0, len(ids))
	for _, id := range ids {
		in, ok := rs.Instances[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		out = append(out, in)
	}
	if len(missing) > 0 {
		return nil, notFound("InvalidInstanceID.NotFound", "instance", missing)
	}
	return out, nil
}

func (s *Sim) ec2DescribeInstances(rc *Request, rs *RegionState) (any, *APIError) {
	ids, aerr := idList(rc, "InstanceId", instanceIDPattern, "InvalidInstanceID.Malformed")
	if aerr != nil {
		return nil, aerr
	}
	fs, aerr := parseFilters(rc, instanceFilterField, func(n string) bool { return slices.Contains(instanceFilterNames, n) || isTagFilter(n) })
	if aerr != nil {
		return nil, aerr
	}
	p, aerr := parsePage(rc, rs.InstanceOrder, 5, 1000, len(ids) > 0, "instancesSet")
	if aerr != nil {
		return nil, aerr
	}
	order := rs.InstanceOrder
	if len(ids) > 0 {
		if _, aerr := lookupInstances(rs, ids); aerr != nil {
			return nil, aerr
		}
		order = ids
	}
	found, next := collect(order, func(id string) (*Instance, bool) {
		in := rs.Instances[id]
		return in, fs.match(in)
	}, p)
	resp := describeInstancesResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, NextToken: next}
	for _, in := range found {
		last := len(resp.Reservations) - 1
		if last < 0 || resp.Reservations[last].ReservationID != in.ReservationID {
			resp.Reservations = append(resp.Reservations, ec2Reservation{ReservationID: in.ReservationID, OwnerID: rc.Account})
			last++
		}
		r := &resp.Reservations[last]
		r.Instances = append(r.Instances, s.instanceXML(rs, in, len(r.Instances)))
	}
	return resp, nil
}

// changeInstances applies a lifecycle action to the named instances after
// validating all of them, so one bad id changes nothing.
func (s *Sim) changeInstances(rc *Request, rs *RegionState, action string, apply func(in *Instance) (string, *APIError)) (any, *APIError) {
	ids, aerr := idList(rc, "InstanceId", instanceIDPattern, "InvalidInstanceID.Malformed")
	if aerr != nil {
		return nil, aerr
	}
	if len(ids) == 0 {
		return nil, Errorf("MissingParameter", "The request must contain the parameter InstanceId")
	}
	ins, aerr := lookupInstances(rs, ids)
	if aerr != nil {
		return nil, aerr
	}
	targets := make([]string, len(ins))
	for i, in := range ins {
		t, aerr := apply(in)
		if aerr != nil {
			return nil, aerr
		}
		targets[i] = t
	}
	if !s.takeResourceTokens(rc, len(ins)) {
		return nil, throttleError("ec2", ProtoEC2)
	}
	resp := instanceStateChangeResponse{XMLName: xml.Name{Local: action + "Response"}, XMLNS: ec2XMLNS, RequestID: rc.RequestID}
	for i, in := range ins {
		prev := in.State
		if targets[i] != "" && targets[i] != in.State {
			in.next = ""
			s.setInstanceState(rc.Account, rs, in, targets[i], rc.Now)
		}
		resp.Changes = append(resp.Changes, ec2InstanceStateChange{InstanceID: in.ID, CurrentState: stateOf(in.State), PreviousState: stateOf(prev)})
	}
	return resp, nil
}

func incorrectState(in *Instance, verb string) *APIError {
	return Errorf("IncorrectInstanceState", "This instance '%s' is not in a state from which it can be %s.", in.ID, verb)
}

func (s *Sim) ec2StopInstances(rc *Request, rs *RegionState) (any, *APIError) {
	hibernate, aerr := boolParam(rc, "Hibernate")
	if aerr != nil {
		return nil, aerr
	}
	return s.changeInstances(rc, rs, "StopInstances", func(in *Instance) (string, *APIError) {
		if aerr := stoppable(in); aerr != nil {
			return "", aerr
		}
		if hibernate && !in.HibernationConfigured {
			return "", Errorf("UnsupportedHibernationConfiguration", "The instance can't be hibernated because it was not configured at launch for hibernation: %s", in.ID)
		}
		switch in.State {
		case "running":
			in.StateTransitionReason = fmt.Sprintf("User initiated (%s)", rc.Now.Format("2006-01-02 15:04:05 MST"))
			in.StateReasonCode, in.StateReasonMessage = "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"
			if hibernate {
				in.StateReasonCode, in.StateReasonMessage = "Client.UserInitiatedHibernate", "Client.UserInitiatedHibernate: User initiated hibernate"
			}
			return "stopping", nil
		case "stopping", "stopped":
			return "", nil
		}
		return "", incorrectState(in, "stopped")
	})
}

func (s *Sim) ec2StartInstances(rc *Request, rs *RegionState) (any, *APIError) {
	return s.changeInstances(rc, rs, "StartInstances", func(in *Instance) (string, *APIError) {
		switch in.State {
		case "stopped":
			return "pending", nil
		case "pending", "running":
			return "", nil
		}
		return "", incorrectState(in, "started")
	})
}

func (s *Sim) ec2TerminateInstances(rc *Request, rs *RegionState) (any, *APIError) {
	return s.changeInstances(rc, rs, "TerminateInstances", func(in *Instance) (string, *APIError) {
		switch in.State {
		case "shutting-down", "terminated":
			return "", nil
		}
		in.StateTransitionReason = fmt.Sprintf("User initiated (%s)", rc.Now.Format("2006-01-02 15:04:05 MST"))
		in.StateReasonCode, in.StateReasonMessage = "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"
		return "shutting-down", nil
	})
}

func (s *Sim) ec2ModifyInstanceAttribute(rc *Request, rs *RegionState) (any, *APIError) {
	id := rc.Form.Get("InstanceId")
	if id == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter InstanceId")
	}
	if !instanceIDPattern.MatchString(id) {
		return nil, Errorf("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
	}
	typ := rc.Form.Get("InstanceType.Value")
	if attr := rc.Form.Get("Attribute"); attr != "" {
		if attr != "instanceType" {
			return nil, Errorf("InvalidParameterValue", "Attribute %q: the simulator supports modifying only instanceType", attr)
		}
		typ = rc.Form.Get("Value")
	}
	for k := range rc.Form {
		if k != "Action" && k != "Version" && k != "InstanceId" && k != "InstanceType.Value" && k != "Attribute" && k != "Value" && k != "DryRun" {
			return nil, Errorf("InvalidParameterValue", "parameter %s: the simulator supports modifying only the instance type", k)
		}
	}
	if typ == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter InstanceType.Value")
	}
	in, ok := rs.Instances[id]
	if !ok {
		return nil, notFound("InvalidInstanceID.NotFound", "instance", []string{id})
	}
	spec, aerr := s.instanceSpec(typ)
	if aerr != nil {
		return nil, aerr
	}
	if in.State != "stopped" {
		return nil, Errorf("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", id)
	}
	if spec.Architecture != in.Arch {
		return nil, Errorf("InvalidParameterValue", "The instance type '%s' does not support the architecture of instance '%s' (%s)", typ, id, in.Arch)
	}
	if aerr := s.faults.takeFailNext("ec2", "ModifyInstanceAttribute", id, ProtoEC2); aerr != nil {
		return nil, aerr
	}
	if in.Type != typ {
		in.Type = typ
		s.recordEvent(s.instanceEvent(rc.Account, rs.Name, in, EventModified, rc.Now))
	}
	return ec2ReturnTrue(rc, "ModifyInstanceAttribute"), nil
}

type describeInstanceStatusResponse struct {
	XMLName   xml.Name            `xml:"DescribeInstanceStatusResponse"`
	XMLNS     string              `xml:"xmlns,attr"`
	RequestID string              `xml:"requestId"`
	Statuses  []ec2InstanceStatus `xml:"instanceStatusSet>item"`
	NextToken string              `xml:"nextToken,omitempty"`
}

type ec2InstanceStatus struct {
	InstanceID       string           `xml:"instanceId"`
	AvailabilityZone string           `xml:"availabilityZone"`
	InstanceState    ec2State         `xml:"instanceState"`
	SystemStatus     ec2StatusSummary `xml:"systemStatus"`
	InstanceStatus   ec2StatusSummary `xml:"instanceStatus"`
}

type ec2StatusSummary struct {
	Status  string            `xml:"status"`
	Details []ec2StatusDetail `xml:"details>item,omitempty"`
}

type ec2StatusDetail struct {
	Name          string `xml:"name"`
	Status        string `xml:"status"`
	ImpairedSince string `xml:"impairedSince,omitempty"`
}

// statusChecks answers the system and instance status checks: running
// instances initialise for StateDelay after each start, then pass, unless a
// fault makes them fail; other states are not-applicable.
func (s *Sim) statusChecks(in *Instance, now time.Time) ec2StatusSummary {
	if in.State != "running" {
		return ec2StatusSummary{Status: "not-applicable"}
	}
	if now.Before(in.RunningSince.Add(s.opts.StateDelay)) {
		return ec2StatusSummary{Status: "initializing", Details: []ec2StatusDetail{{Name: "reachability", Status: "initializing"}}}
	}
	if s.faults.failsStatusChecks(in.ID, in.Type) {
		return ec2StatusSummary{Status: "impaired", Details: []ec2StatusDetail{{Name: "reachability", Status: "failed",
			ImpairedSince: ec2Timestamp(in.RunningSince.Add(s.opts.StateDelay))}}}
	}
	return ec2StatusSummary{Status: "ok", Details: []ec2StatusDetail{{Name: "reachability", Status: "passed"}}}
}

func (s *Sim) ec2DescribeInstanceStatus(rc *Request, rs *RegionState) (any, *APIError) {
	ids, aerr := idList(rc, "InstanceId", instanceIDPattern, "InvalidInstanceID.Malformed")
	if aerr != nil {
		return nil, aerr
	}
	all, aerr := OptionalBool(rc.Form, "IncludeAllInstances")
	if aerr != nil {
		return nil, aerr
	}
	statusOf := func(in *Instance) ec2InstanceStatus {
		st := s.statusChecks(in, rc.Now)
		return ec2InstanceStatus{InstanceID: in.ID, AvailabilityZone: in.AZ, InstanceState: stateOf(in.State), SystemStatus: st, InstanceStatus: st}
	}
	names := []string{"availability-zone", "instance-state-name", "instance-state-code", "system-status.status", "instance-status.status", "system-status.reachability", "instance-status.reachability"}
	fs, aerr := parseFilters(rc, func(in *Instance, name string) ([]string, bool) {
		st := statusOf(in)
		switch name {
		case "availability-zone":
			return []string{in.AZ}, true
		case "instance-state-name":
			return []string{in.State}, true
		case "instance-state-code":
			return []string{strconv.Itoa(instanceStateCode[in.State])}, true
		case "system-status.status", "instance-status.status":
			return []string{st.SystemStatus.Status}, true
		case "system-status.reachability", "instance-status.reachability":
			if len(st.SystemStatus.Details) > 0 {
				return []string{st.SystemStatus.Details[0].Status}, true
			}
			return nil, true
		}
		return nil, false
	}, func(n string) bool { return slices.Contains(names, n) })
	if aerr != nil {
		return nil, aerr
	}
	p, aerr := parsePage(rc, rs.InstanceOrder, 5, 1000, len(ids) > 0, "instancesSet")
	if aerr != nil {
		return nil, aerr
	}
	order := rs.InstanceOrder
	if len(ids) > 0 {
		if _, aerr := lookupInstances(rs, ids); aerr != nil {
			return nil, aerr
		}
		order = ids
	}
	found, next := collect(order, func(id string) (*Instance, bool) {
		in := rs.Instances[id]
		return in, (all || in.State == "running") && fs.match(in)
	}, p)
	resp := describeInstanceStatusResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, NextToken: next}
	for _, in := range found {
		resp.Statuses = append(resp.Statuses, statusOf(in))
	}
	return resp, nil
}

// pseudoHex derives stable lower-case hex of length n from key (VPC and
// subnet ids that are the same for every instance of an account-zone).
func pseudoHex(key string, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%016x", uint64(resourceSeed(int64(i), key)))
	}
	return b.String()[:n]
}
