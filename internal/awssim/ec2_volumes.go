package awssim

import (
	"encoding/xml"
	"maps"
	"slices"
	"strconv"
)

// volumeLimits are EBS's documented size (GiB) ranges per volume type
// (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-volume-types.html).
var volumeLimits = map[string][2]int{
	"gp2": {1, 16384}, "gp3": {1, 16384}, "io1": {4, 16384}, "io2": {4, 65536},
	"st1": {125, 16384}, "sc1": {125, 16384}, "standard": {1, 1024},
}

func validateVolumeShape(typ string, size int) *APIError {
	lim, ok := volumeLimits[typ]
	if !ok {
		return Errorf("InvalidParameterValue", "Value (%s) for parameter volumeType is invalid. Valid types: gp2, gp3, io1, io2, st1, sc1, standard", typ)
	}
	if size < lim[0] || size > lim[1] {
		return Errorf("InvalidParameterValue", "Volume of %dGiB is outside the %s range of %d-%dGiB", size, typ, lim[0], lim[1])
	}
	return nil
}

// defaultPerformance is the IOPS and throughput a volume gets when the
// request does not say: gp2 earns 3 IOPS/GiB (100..16000), gp3 has a 3000
// IOPS / 125 MiB/s baseline.
func defaultPerformance(typ string, size int) (iops, throughput int) {
	switch typ {
	case "gp2":
		return min(16000, max(100, 3*size)), 0
	case "gp3":
		return 3000, 125
	}
	return 0, 0
}

// volumePerformance validates Iops/Throughput against the volume type.
func volumePerformance(rc *Request, typ string, size int) (int, int, *APIError) {
	iops, iopsSet, aerr := OptionalInt(rc.Form, "Iops", 100, 256000)
	if aerr != nil {
		return 0, 0, aerr
	}
	thru, thruSet, aerr := OptionalInt(rc.Form, "Throughput", 125, 2000)
	if aerr != nil {
		return 0, 0, aerr
	}
	defIops, defThru := defaultPerformance(typ, size)
	switch typ {
	case "gp3":
		if iopsSet && (iops < 3000 || iops > 16000) {
			return 0, 0, Errorf("InvalidParameterValue", "Iops %d: gp3 volumes take 3000-16000 IOPS", iops)
		}
		if thruSet && thru > 1000 {
			return 0, 0, Errorf("InvalidParameterValue", "Throughput %d: gp3 volumes take 125-1000 MiB/s", thru)
		}
		if !iopsSet {
			iops = defIops
		}
		if !thruSet {
			thru = defThru
		}
	case "io1", "io2":
		if !iopsSet {
			return 0, 0, Errorf("MissingParameter", "The request must contain the parameter iops for volume type %s", typ)
		}
		if thruSet {
			return 0, 0, Errorf("InvalidParameterCombination", "Throughput can only be specified for gp3 volumes")
		}
	default:
		if iopsSet {
			return 0, 0, Errorf("InvalidParameterCombination", "The parameter iops is not supported for %s volumes", typ)
		}
		if thruSet {
			return 0, 0, Errorf("InvalidParameterCombination", "Throughput can only be specified for gp3 volumes")
		}
		iops, thru = defIops, defThru
	}
	return iops, thru, nil
}

type ec2VolumeXML struct {
	VolumeID           string                `xml:"volumeId"`
	Size               int                   `xml:"size"`
	SnapshotID         string                `xml:"snapshotId"`
	AvailabilityZone   string                `xml:"availabilityZone"`
	Status             string                `xml:"status"`
	CreateTime         string                `xml:"createTime"`
	Attachments        []ec2VolumeAttachment `xml:"attachmentSet>item"`
	VolumeType         string                `xml:"volumeType"`
	Iops               int                   `xml:"iops,omitempty"`
	Throughput         int                   `xml:"throughput,omitempty"`
	Encrypted          bool                  `xml:"encrypted"`
	MultiAttachEnabled bool                  `xml:"multiAttachEnabled"`
	TagSet             []ec2Tag              `xml:"tagSet>item,omitempty"`
}

type ec2VolumeAttachment struct {
	VolumeID            string `xml:"volumeId"`
	InstanceID          string `xml:"instanceId"`
	Device              string `xml:"device"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

func volumeXML(v *Volume) ec2VolumeXML {
	x := ec2VolumeXML{
		VolumeID: v.ID, Size: v.SizeGiB, SnapshotID: v.SnapshotID, AvailabilityZone: v.AZ, Status: v.State,
		CreateTime: ec2Timestamp(v.CreateTime), VolumeType: v.Type, Iops: v.Iops, Throughput: v.Throughput,
		Encrypted: v.Encrypted, TagSet: ec2Tags(v.Tags),
	}
	if a := v.Attachment; a != nil {
		x.Attachments = []ec2VolumeAttachment{{VolumeID: v.ID, InstanceID: a.InstanceID, Device: a.Device, Status: "attached",
			AttachTime: ec2Timestamp(a.AttachTime), DeleteOnTermination: a.DeleteOnTermination}}
	}
	return x
}

type createVolumeResponse struct {
	XMLName   xml.Name `xml:"CreateVolumeResponse"`
	XMLNS     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	ec2VolumeXML
}

func (s *Sim) ec2CreateVolume(rc *Request, rs *RegionState) (any, *APIError) {
	az := rc.Form.Get("AvailabilityZone")
	if az == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter AvailabilityZone")
	}
	if aerr := zoneOf(rs.Name, az, "AvailabilityZone"); aerr != nil {
		return nil, aerr
	}
	typ := rc.Form.Get("VolumeType")
	if typ == "" {
		typ = "gp2"
	}
	size, sizeSet, aerr := OptionalInt(rc.Form, "Size", 1, 65536)
	if aerr != nil {
		return nil, aerr
	}
	snapID := rc.Form.Get("SnapshotId")
	if snapID != "" {
		sn, ok := rs.Snapshots[snapID]
		if !ok {
			return nil, Errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", snapID)
		}
		if !sizeSet {
			size = sn.VolumeSize
		} else if size < sn.VolumeSize {
			return nil, Errorf("InvalidParameterValue", "Volume of %dGiB is smaller than snapshot '%s', which is %dGiB", size, snapID, sn.VolumeSize)
		}
	} else if !sizeSet {
		return nil, Errorf("MissingParameter", "The request must contain the parameter size or snapshotId")
	}
	if aerr := validateVolumeShape(typ, size); aerr != nil {
		return nil, aerr
	}
	iops, thru, aerr := volumePerformance(rc, typ, size)
	if aerr != nil {
		return nil, aerr
	}
	encrypted, aerr := OptionalBool(rc.Form, "Encrypted")
	if aerr != nil {
		return nil, aerr
	}
	tagSpecs, aerr := tagSpecifications(rc, "volume")
	if aerr != nil {
		return nil, aerr
	}
	created := rc.Now.Add(-s.opts.Backfill)
	v := &Volume{
		ID: s.newID("vol"), Type: typ, SizeGiB: size, Iops: iops, Throughput: thru, AZ: az, State: "creating",
		next: "available", nextAt: created.Add(s.opts.StateDelay), CreateTime: created, SnapshotID: snapID,
		Encrypted: encrypted, Tags: maps.Clone(tagSpecs["volume"]),
	}
	rs.Volumes[v.ID] = v
	rs.VolumeOrder = append(rs.VolumeOrder, v.ID)
	rs.due(v.nextAt)
	s.recordEvent(s.volumeEvent(rc.Account, rs.Name, v, EventCreated, created))
	if s.opts.Backfill > 0 {
		s.settleVolume(rc.Account, rs, v, rc.Now)
	}
	return createVolumeResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, ec2VolumeXML: volumeXML(v)}, nil
}

type describeVolumesResponse struct {
	XMLName   xml.Name       `xml:"DescribeVolumesResponse"`
	XMLNS     string         `xml:"xmlns,attr"`
	RequestID string         `xml:"requestId"`
	Volumes   []ec2VolumeXML `xml:"volumeSet>item"`
	NextToken string         `xml:"nextToken,omitempty"`
}

var volumeFilterNames = []string{"volume-id", "status", "volume-type", "size", "availability-zone", "encrypted",
	"snapshot-id", "attachment.instance-id", "attachment.status", "attachment.device", "attachment.delete-on-termination"}

func volumeFilterField(v *Volume, name string) ([]string, bool) {
	switch name {
	case "volume-id":
		return []string{v.ID}, true
	case "status":
		return []string{v.State}, true
	case "volume-type":
		return []string{v.Type}, true
	case "size":
		return []string{strconv.Itoa(v.SizeGiB)}, true
	case "availability-zone":
		return []string{v.AZ}, true
	case "encrypted":
		return []string{strconv.FormatBool(v.Encrypted)}, true
	case "snapshot-id":
		return []string{v.SnapshotID}, true
	case "attachment.instance-id", "attachment.status", "attachment.device", "attachment.delete-on-termination":
		a := v.Attachment
		if a == nil {
			return nil, true
		}
		switch name {
		case "attachment.instance-id":
			return []string{a.InstanceID}, true
		case "attachment.status":
			return []string{"attached"}, true
		case "attachment.device":
			return []string{a.Device}, true
		}
		return []string{strconv.FormatBool(a.DeleteOnTermination)}, true
	}
	return tagFilterValues(v.Tags, name)
}

func (s *Sim) ec2DescribeVolumes(rc *Request, rs *RegionState) (any, *APIError) {
	ids, aerr := idList(rc, "VolumeId", volumeIDPattern, "InvalidVolumeID.Malformed")
	if aerr != nil {
		return nil, aerr
	}
	fs, aerr := parseFilters(rc, volumeFilterField, func(n string) bool { return slices.Contains(volumeFilterNames, n) || isTagFilter(n) })
	if aerr != nil {
		return nil, aerr
	}
	p, aerr := parsePage(rc, rs.VolumeOrder, 5, 500, len(ids) > 0, "volumeId")
	if aerr != nil {
		return nil, aerr
	}
	order := rs.VolumeOrder
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			if rs.Volumes[id] == nil {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, notFound("InvalidVolume.NotFound", "volume", missing)
		}
		order = ids
	}
	found, next := collect(order, func(id string) (*Volume, bool) {
		v := rs.Volumes[id]
		return v, fs.match(v)
	}, p)
	resp := describeVolumesResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, NextToken: next}
	for _, v := range found {
		resp.Volumes = append(resp.Volumes, volumeXML(v))
	}
	return resp, nil
}

func (s *Sim) volumeByID(rs *RegionState, id string) (*Volume, *APIError) {
	if id == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter VolumeId")
	}
	if !volumeIDPattern.MatchString(id) {
		return nil, Errorf("InvalidVolumeID.Malformed", "Invalid id: \"%s\"", id)
	}
	v, ok := rs.Volumes[id]
	if !ok {
		return nil, Errorf("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	}
	return v, nil
}

func (s *Sim) ec2DeleteVolume(rc *Request, rs *RegionState) (any, *APIError) {
	v, aerr := s.volumeByID(rs, rc.Form.Get("VolumeId"))
	if aerr != nil {
		return nil, aerr
	}
	if v.Attachment != nil {
		return nil, Errorf("VolumeInUse", "Volume %s is currently attached to %s", v.ID, v.Attachment.InstanceID)
	}
	if v.State != "available" {
		return nil, Errorf("IncorrectState", "The volume '%s' is '%s' and cannot be deleted", v.ID, v.State)
	}
	s.deleteVolume(rc.Account, rs, v, rc.Now)
	return ec2ReturnTrue(rc, "DeleteVolume"), nil
}

type attachVolumeResponse struct {
	XMLName   xml.Name `xml:"AttachVolumeResponse"`
	XMLNS     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	ec2VolumeAttachment
}

func (s *Sim) ec2AttachVolume(rc *Request, rs *RegionState) (any, *APIError) {
	v, aerr := s.volumeByID(rs, rc.Form.Get("VolumeId"))
	if aerr != nil {
		return nil, aerr
	}
	id, dev := rc.Form.Get("InstanceId"), rc.Form.Get("Device")
	if id == "" || dev == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameters InstanceId and Device")
	}
	ins, aerr := lookupInstances(rs, []string{id})
	if aerr != nil {
		return nil, aerr
	}
	in := ins[0]
	switch {
	case v.Attachment != nil:
		return nil, Errorf("VolumeInUse", "%s is already attached to an instance", v.ID)
	case v.State != "available":
		return nil, Errorf("IncorrectState", "vol '%s' is not 'available'.", v.ID)
	case in.State != "running" && in.State != "stopped":
		return nil, Errorf("IncorrectInstanceState", "Instance '%s' is not 'running' or 'stopped'.", in.ID)
	case v.AZ != in.AZ:
		return nil, Errorf("InvalidVolume.ZoneMismatch", "The volume '%s' is not in the same availability zone as instance '%s'", v.ID, in.ID)
	}
	for _, other := range in.volumes {
		if rs.Volumes[other].Attachment.Device == dev {
			return nil, Errorf("InvalidParameterValue", "Invalid value '%s' for unixDevice. Attachment point %s is already in use", dev, dev)
		}
	}
	attachVolume(in, v, dev, rc.Now, false)
	s.recordEvent(s.volumeEvent(rc.Account, rs.Name, v, EventState, rc.Now))
	return attachVolumeResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, ec2VolumeAttachment: ec2VolumeAttachment{
		VolumeID: v.ID, InstanceID: in.ID, Device: dev, Status: "attaching", AttachTime: ec2Timestamp(rc.Now)}}, nil
}

type modifyVolumeResponse struct {
	XMLName      xml.Name              `xml:"ModifyVolumeResponse"`
	XMLNS        string                `xml:"xmlns,attr"`
	RequestID    string                `xml:"requestId"`
	Modification ec2VolumeModification `xml:"volumeModification"`
}

type ec2VolumeModification struct {
	VolumeID           string `xml:"volumeId"`
	ModificationState  string `xml:"modificationState"`
	TargetSize         int    `xml:"targetSize"`
	TargetIops         int    `xml:"targetIops,omitempty"`
	TargetVolumeType   string `xml:"targetVolumeType"`
	TargetThroughput   int    `xml:"targetThroughput,omitempty"`
	OriginalSize       int    `xml:"originalSize"`
	OriginalIops       int    `xml:"originalIops,omitempty"`
	OriginalVolumeType string `xml:"originalVolumeType"`
	OriginalThroughput int    `xml:"originalThroughput,omitempty"`
	Progress           int    `xml:"progress"`
	StartTime          string `xml:"startTime"`
	EndTime            string `xml:"endTime,omitempty"`
}

// ec2ModifyVolume applies the new type/size/performance at once (EBS bills
// the new configuration from the start of the modification) and walks the
// modification through modifying -> optimizing -> completed.
func (s *Sim) ec2ModifyVolume(rc *Request, rs *RegionState) (any, *APIError) {
	v, aerr := s.volumeByID(rs, rc.Form.Get("VolumeId"))
	if aerr != nil {
		return nil, aerr
	}
	if v.Mod != nil && v.Mod.State != "completed" {
		return nil, Errorf("IncorrectModificationState", "Cannot modify volume '%s' while a previous modification is %s", v.ID, v.Mod.State)
	}
	typ := rc.Form.Get("VolumeType")
	if typ == "" {
		typ = v.Type
	}
	size, sizeSet, aerr := OptionalInt(rc.Form, "Size", 1, 65536)
	if aerr != nil {
		return nil, aerr
	}
	if !sizeSet {
		size = v.SizeGiB
	}
	if size < v.SizeGiB {
		return nil, Errorf("InvalidParameterValue", "New size (%d GiB) cannot be smaller than the existing size (%d GiB) of volume '%s'", size, v.SizeGiB, v.ID)
	}
	if aerr := validateVolumeShape(typ, size); aerr != nil {
		return nil, aerr
	}
	iops, thru, aerr := volumePerformance(rc, typ, size)
	if aerr != nil {
		return nil, aerr
	}
	if typ == v.Type && size == v.SizeGiB && iops == v.Iops && thru == v.Throughput {
		return nil, Errorf("InvalidParameterValue", "Modification of volume '%s' requests no change", v.ID)
	}
	m := &VolumeModification{State: "modifying", StartTime: rc.Now,
		OrigType: v.Type, TargetType: typ, OrigSize: v.SizeGiB, TargetSize: size,
		OrigIops: v.Iops, TargetIops: iops, OrigThru: v.Throughput, TargetThru: thru}
	v.Mod = m
	v.Type, v.SizeGiB, v.Iops, v.Throughput = typ, size, iops, thru
	s.recordEvent(s.volumeEvent(rc.Account, rs.Name, v, EventModified, rc.Now))
	s.settleVolume(rc.Account, rs, v, rc.Now)
	return modifyVolumeResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, Modification: modificationXML(v.ID, m)}, nil
}

type describeVolumesModificationsResponse struct {
	XMLName       xml.Name                `xml:"DescribeVolumesModificationsResponse"`
	XMLNS         string                  `xml:"xmlns,attr"`
	RequestID     string                  `xml:"requestId"`
	Modifications []ec2VolumeModification `xml:"volumeModificationSet>item"`
}

// ec2DescribeVolumesModifications answers for the volumes named (every
// volume when none is) with the latest modification of each that has
// one, as EC2 keeps it. Filters and paging are not served: the callers
// we simulate name their volumes.
func (s *Sim) ec2DescribeVolumesModifications(rc *Request, rs *RegionState) (any, *APIError) {
	ids, aerr := idList(rc, "VolumeId", volumeIDPattern, "InvalidVolumeID.Malformed")
	if aerr != nil {
		return nil, aerr
	}
	if len(ids) == 0 {
		ids = rs.VolumeOrder
	}
	resp := describeVolumesModificationsResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID}
	for _, id := range ids {
		v, aerr := s.volumeByID(rs, id)
		if aerr != nil {
			return nil, aerr
		}
		s.settleVolume(rc.Account, rs, v, rc.Now)
		if v.Mod != nil {
			resp.Modifications = append(resp.Modifications, modificationXML(v.ID, v.Mod))
		}
	}
	return resp, nil
}

func modificationXML(id string, m *VolumeModification) ec2VolumeModification {
	x := ec2VolumeModification{VolumeID: id, ModificationState: m.State,
		TargetSize: m.TargetSize, TargetIops: m.TargetIops, TargetVolumeType: m.TargetType, TargetThroughput: m.TargetThru,
		OriginalSize: m.OrigSize, OriginalIops: m.OrigIops, OriginalVolumeType: m.OrigType, OriginalThroughput: m.OrigThru,
		StartTime: ec2Timestamp(m.StartTime)}
	if m.State == "completed" {
		x.Progress, x.EndTime = 100, ec2Timestamp(m.EndTime)
	}
	return x
}

type ec2SnapshotXML struct {
	SnapshotID   string   `xml:"snapshotId"`
	VolumeID     string   `xml:"volumeId"`
	Status       string   `xml:"status"`
	StartTime    string   `xml:"startTime"`
	Progress     string   `xml:"progress"`
	OwnerID      string   `xml:"ownerId"`
	VolumeSize   int      `xml:"volumeSize"`
	Description  string   `xml:"description"`
	Encrypted    bool     `xml:"encrypted"`
	StorageTier  string   `xml:"storageTier"`
	StateMessage string   `xml:"stateMessage,omitempty"`
	TagSet       []ec2Tag `xml:"tagSet>item,omitempty"`
}

func snapshotXML(sn *Snapshot) ec2SnapshotXML {
	progress := "0%"
	if sn.State == "completed" {
		progress = "100%"
	}
	return ec2SnapshotXML{SnapshotID: sn.ID, VolumeID: sn.VolumeID, Status: sn.State, StartTime: ec2Timestamp(sn.StartTime),
		Progress: progress, OwnerID: sn.OwnerID, VolumeSize: sn.VolumeSize, Description: sn.Description,
		Encrypted: sn.Encrypted, StorageTier: "standard", StateMessage: sn.StateMessage, TagSet: ec2Tags(sn.Tags)}
}

type createSnapshotResponse struct {
	XMLName   xml.Name `xml:"CreateSnapshotResponse"`
	XMLNS     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	ec2SnapshotXML
}

func (s *Sim) ec2CreateSnapshot(rc *Request, rs *RegionState) (any, *APIError) {
	v, aerr := s.volumeByID(rs, rc.Form.Get("VolumeId"))
	if aerr != nil {
		return nil, aerr
	}
	desc := rc.Form.Get("Description")
	if len(desc) > 255 {
		return nil, Errorf("InvalidParameterValue", "Description: longer than 255 characters")
	}
	tagSpecs, aerr := tagSpecifications(rc, "snapshot")
	if aerr != nil {
		return nil, aerr
	}
	next := "completed"
	if s.faults.failsSnapshots(v.ID) {
		next = "error"
	}
	sn := &Snapshot{ID: s.newID("snap"), VolumeID: v.ID, VolumeSize: v.SizeGiB, State: "pending", next: next,
		nextAt: rc.Now.Add(s.opts.StateDelay), StartTime: rc.Now, OwnerID: rc.Account, Description: desc,
		Encrypted: v.Encrypted, Tags: maps.Clone(tagSpecs["snapshot"])}
	rs.Snapshots[sn.ID] = sn
	rs.SnapshotOrder = append(rs.SnapshotOrder, sn.ID)
	rs.due(sn.nextAt)
	s.recordEvent(Event{Time: rc.Now, Account: rc.Account, Region: rs.Name, Service: "ec2", ResourceType: "snapshot",
		ResourceID: sn.ID, Kind: EventCreated, State: sn.State, SizeGiB: sn.VolumeSize, Tags: sn.Tags,
		Attrs: map[string]string{"volume-id": v.ID}})
	return createSnapshotResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, ec2SnapshotXML: snapshotXML(sn)}, nil
}

// ec2DeleteSnapshot deletes a snapshot of any state, as EC2 does (a
// pending one is cancelled).
func (s *Sim) ec2DeleteSnapshot(rc *Request, rs *RegionState) (any, *APIError) {
	id := rc.Form.Get("SnapshotId")
	if id == "" {
		return nil, Errorf("MissingParameter", "The request must contain the parameter SnapshotId")
	}
	if !snapshotIDPattern.MatchString(id) {
		return nil, Errorf("InvalidSnapshotID.Malformed", "Invalid id: \"%s\" (expecting \"snap-...\")", id)
	}
	sn, ok := rs.Snapshots[id]
	if !ok {
		return nil, Errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
	}
	delete(rs.Snapshots, id)
	rs.SnapshotOrder = slices.DeleteFunc(rs.SnapshotOrder, func(x string) bool { return x == id })
	s.recordEvent(Event{Time: rc.Now, Account: rc.Account, Region: rs.Name, Service: "ec2", ResourceType: "snapshot",
		ResourceID: sn.ID, Kind: EventDeleted, State: "deleted", SizeGiB: sn.VolumeSize, Tags: sn.Tags,
		Attrs: map[string]string{"volume-id": sn.VolumeID}})
	return ec2ReturnTrue(rc, "DeleteSnapshot"), nil
}

type describeSnapshotsResponse struct {
	XMLName   xml.Name         `xml:"DescribeSnapshotsResponse"`
	XMLNS     string           `xml:"xmlns,attr"`
	RequestID string           `xml:"requestId"`
	Snapshots []ec2SnapshotXML `xml:"snapshotSet>item"`
	NextToken string           `xml:"nextToken,omitempty"`
}

func (s *Sim) ec2DescribeSnapshots(rc *Request, rs *RegionState) (any, *APIError) {
	ids, aerr := idList(rc, "SnapshotId", snapshotIDPattern, "InvalidSnapshotID.Malformed")
	if aerr != nil {
		return nil, aerr
	}
	owners, aerr := IndexedList(rc.Form, "Owner")
	if aerr != nil {
		return nil, aerr
	}
	for _, o := range owners {
		if o != "self" && o != "amazon" && !accountIDPattern.MatchString(o) {
			return nil, Errorf("InvalidUserID.Malformed", "Invalid user id: \"%s\"", o)
		}
	}
	names := []string{"snapshot-id", "volume-id", "status", "owner-id", "volume-size", "description", "encrypted"}
	fs, aerr := parseFilters(rc, func(sn *Snapshot, name string) ([]string, bool) {
		switch name {
		case "snapshot-id":
			return []string{sn.ID}, true
		case "volume-id":
			return []string{sn.VolumeID}, true
		case "status":
			return []string{sn.State}, true
		case "owner-id":
			return []string{sn.OwnerID}, true
		case "volume-size":
			return []string{strconv.Itoa(sn.VolumeSize)}, true
		case "description":
			return []string{sn.Description}, true
		case "encrypted":
			return []string{strconv.FormatBool(sn.Encrypted)}, true
		}
		return tagFilterValues(sn.Tags, name)
	}, func(n string) bool { return slices.Contains(names, n) || isTagFilter(n) })
	if aerr != nil {
		return nil, aerr
	}
	p, aerr := parsePage(rc, rs.SnapshotOrder, 5, 1000, len(ids) > 0, "snapshotId")
	if aerr != nil {
		return nil, aerr
	}
	order := rs.SnapshotOrder
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			if rs.Snapshots[id] == nil {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, notFound("InvalidSnapshot.NotFound", "snapshot", missing)
		}
		order = ids
	}
	// Every simulated snapshot is owned by the caller's account; asking for
	// only Amazon's or another account's snapshots finds none.
	ownerOK := len(owners) == 0 || slices.ContainsFunc(owners, func(o string) bool { return o == "self" || o == rc.Account })
	found, next := collect(order, func(id string) (*Snapshot, bool) {
		sn := rs.Snapshots[id]
		return sn, ownerOK && fs.match(sn)
	}, p)
	resp := describeSnapshotsResponse{XMLNS: ec2XMLNS, RequestID: rc.RequestID, NextToken: next}
	for _, sn := range found {
		resp.Snapshots = append(resp.Snapshots, snapshotXML(sn))
	}
	return resp, nil
}
