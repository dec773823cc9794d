package awssim

import (
	"slices"
	"time"
)

// EC2 instance state codes as the API reports them (the low byte of
// InstanceState.Code).
var instanceStateCode = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

// settleRegion applies every timed transition that is due at now and drops
// terminated instances past their retention. Caller holds s.mu.
func (s *Sim) settleRegion(account string, rs *RegionState, now time.Time) {
	if !rs.nextDue.IsZero() && now.Before(rs.nextDue) {
		return
	}
	// Recompute the next due instant while scanning; transitions scheduled
	// during the scan lower it through rs.due.
	rs.nextDue = farFuture
	// RDS and Lambda settle here too, so the history Events, CloudWatch and
	// Cost Explorer read is complete even when no RDS or Lambda call has
	// come in since a transition fell due; their settle registers what is
	// still pending through rs.due.
	if st, ok := rs.Ext["rds"].(*rdsState); ok {
		st.settle(s, account, rs, now)
	}
	if st, ok := rs.Ext["lambda"].(*lambdaState); ok {
		st.settle(s, account, rs, now)
	}
	dropped := false
	for _, id := range rs.InstanceOrder {
		in := rs.Instances[id]
		s.settleInstance(account, rs, in, now)
		if in.next != "" {
			rs.due(in.nextAt)
		}
		if in.State == "terminated" {
			gone := in.TerminatedAt.Add(s.opts.TerminatedRetention)
			if !now.Before(gone) {
				delete(rs.Instances, id)
				dropped = true
			} else {
				rs.due(gone)
			}
		}
	}
	if dropped {
		rs.InstanceOrder = slices.DeleteFunc(rs.InstanceOrder, func(id string) bool { return rs.Instances[id] == nil })
	}
	for _, v := range rs.Volumes {
		s.settleVolume(account, rs, v, now)
	}
	for _, sn := range rs.Snapshots {
		if sn.next != "" && !now.Before(sn.nextAt) {
			sn.State, sn.next = sn.next, ""
			if sn.State == "error" {
				sn.StateMessage = "Snapshot creation failed (injected fault)"
			}
		}
		if sn.next != "" {
			rs.due(sn.nextAt)
		}
	}
}

// farFuture stands for "nothing due".
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// settleInstance runs in's due transitions in order, each at the instant it
// was due.
func (s *Sim) settleInstance(account string, rs *RegionState, in *Instance, now time.Time) {
	for in.next != "" && !now.Before(in.nextAt) {
		st, at := in.next, in.nextAt
		in.next = ""
		s.setInstanceState(account, rs, in, st, at)
	}
}

// setInstanceState moves in to state at time at, schedules the follow-up
// transition of transitional states and records the change.
func (s *Sim) setInstanceState(account string, rs *RegionState, in *Instance, state string, at time.Time) {
	in.State = state
	kind := EventState
	defer func() {
		switch {
		case in.next != "":
			rs.due(in.nextAt)
		case state == "terminated":
			rs.due(at.Add(s.opts.TerminatedRetention))
		}
	}()
	switch state {
	case "pending":
		// EC2 reports the latest start as the launch time.
		in.LaunchTime = at
		in.next, in.nextAt = "running", at.Add(s.opts.StateDelay)
	case "running":
		in.RunningSince = at
		in.StateTransitionReason, in.StateReasonCode, in.StateReasonMessage = "", "", ""
	case "stopping":
		in.next, in.nextAt = "stopped", at.Add(s.opts.StateDelay)
	case "shutting-down":
		in.next, in.nextAt = "terminated", at.Add(s.opts.StateDelay)
	case "terminated":
		in.TerminatedAt = at
		kind = EventDeleted
		s.releaseInstanceResources(account, rs, in, at)
	}
	s.recordEvent(s.instanceEvent(account, rs.Name, in, kind, at))
}

func (s *Sim) instanceEvent(account, region string, in *Instance, kind EventKind, at time.Time) Event {
	return Event{
		Time: at, Account: account, Region: region, Service: "ec2", ResourceType: "instance",
		ResourceID: in.ID, Kind: kind, State: in.State, Type: in.Type, Profile: in.Profile, Tags: in.Tags,
		Attrs: map[string]string{"architecture": in.Arch, "availability-zone": in.AZ},
	}
}

// releaseInstanceResources detaches the volumes of a terminated instance
// (deleting those marked DeleteOnTermination) and disassociates its Elastic
// IPs, as AWS does.
func (s *Sim) releaseInstanceResources(account string, rs *RegionState, in *Instance, at time.Time) {
	for _, id := range slices.Clone(in.volumes) {
		v := rs.Volumes[id]
		if v == nil {
			continue
		}
		del := v.Attachment.DeleteOnTermination
		detachVolume(in, v)
		if del {
			s.deleteVolume(account, rs, v, at)
		} else {
			s.recordEvent(s.volumeEvent(account, rs.Name, v, EventState, at))
		}
	}
	if a := rs.Addresses[in.address]; a != nil {
		disassociate(in, a)
		s.recordEvent(addressEvent(account, rs.Name, a, EventState, at))
	}
}

// attachVolume links v to in. Caller has checked both states.
func attachVolume(in *Instance, v *Volume, device string, at time.Time, deleteOnTermination bool) {
	v.Attachment = &VolumeAttachment{InstanceID: in.ID, Device: device, AttachTime: at, DeleteOnTermination: deleteOnTermination}
	v.State = "in-use"
	in.volumes = append(in.volumes, v.ID)
}

func detachVolume(in *Instance, v *Volume) {
	v.Attachment = nil
	v.State = "available"
	in.volumes = slices.DeleteFunc(in.volumes, func(id string) bool { return id == v.ID })
}

// associate links address a to in, displacing in's previous address as EC2
// does for an instance's primary interface; it returns the displaced one.
func (s *Sim) associate(rs *RegionState, in *Instance, a *Address) *Address {
	var displaced *Address
	if prev := rs.Addresses[in.address]; prev != nil && prev != a {
		disassociate(in, prev)
		displaced = prev
	}
	if old := a.InstanceID; old != "" && old != in.ID {
		if other := rs.Instances[old]; other != nil {
			other.address = ""
		}
	}
	a.InstanceID, a.AssociationID, a.PrivateIP = in.ID, s.newID("eipassoc"), in.PrivateIP
	in.address = a.AllocationID
	return displaced
}

func disassociate(in *Instance, a *Address) {
	a.InstanceID, a.AssociationID, a.PrivateIP = "", "", ""
	in.address = ""
}

func (s *Sim) settleVolume(account string, rs *RegionState, v *Volume, now time.Time) {
	if v.next != "" && !now.Before(v.nextAt) {
		v.State, v.next = v.next, ""
	}
	if v.next != "" {
		rs.due(v.nextAt)
	}
	if m := v.Mod; m != nil && m.State != "completed" {
		optimizingAt := m.StartTime.Add(s.opts.StateDelay)
		doneAt := optimizingAt.Add(s.opts.StateDelay)
		switch {
		case !now.Before(doneAt):
			m.State, m.EndTime = "completed", doneAt
		case !now.Before(optimizingAt):
			m.State = "optimizing"
			rs.due(doneAt)
		default:
			rs.due(optimizingAt)
		}
	}
}

func (s *Sim) deleteVolume(account string, rs *RegionState, v *Volume, at time.Time) {
	v.State = "deleted"
	s.recordEvent(s.volumeEvent(account, rs.Name, v, EventDeleted, at))
	delete(rs.Volumes, v.ID)
	rs.VolumeOrder = slices.DeleteFunc(rs.VolumeOrder, func(id string) bool { return id == v.ID })
}

func (s *Sim) volumeEvent(account, region string, v *Volume, kind EventKind, at time.Time) Event {
	e := Event{
		Time: at, Account: account, Region: region, Service: "ec2", ResourceType: "volume",
		ResourceID: v.ID, Kind: kind, State: v.State, Type: v.Type, SizeGiB: v.SizeGiB,
		Iops: v.Iops, Throughput: v.Throughput, Tags: v.Tags,
		Attrs: map[string]string{"availability-zone": v.AZ},
	}
	if v.Attachment != nil {
		e.Attrs["instance-id"] = v.Attachment.InstanceID
	}
	return e
}

func addressEvent(account, region string, a *Address, kind EventKind, at time.Time) Event {
	state := "unassociated"
	if a.AssociationID != "" {
		state = "associated"
	}
	e := Event{
		Time: at, Account: account, Region: region, Service: "ec2", ResourceType: "address",
		ResourceID: a.AllocationID, Kind: kind, State: state, Tags: a.Tags,
		Attrs: map[string]string{"public-ip": a.PublicIP},
	}
	if a.InstanceID != "" {
		e.Attrs["instance-id"] = a.InstanceID
	}
	return e
}
