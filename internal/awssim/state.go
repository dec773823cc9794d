package awssim

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Account is one simulated AWS account. Guarded by Sim.mu.
type Account struct {
	ID      string
	Regions map[string]*RegionState
	// History is append-only and in the order events were recorded; events
	// applied lazily (see the package doc) may carry a Time earlier than an
	// event recorded before them, so readers sort or filter by Time.
	History []Event
	// byResource indexes History for CloudWatch (see historyOf).
	byResource historyIndex
	// SavingsPlans and DBReservations are the commitments the account
	// owns (AddSavingsPlan, AddDBReservation).
	SavingsPlans   []SavingsPlan
	DBReservations []DBReservation
}

// RegionState is one account's resources in one region. Guarded by Sim.mu.
type RegionState struct {
	Name string

	Instances map[string]*Instance
	Volumes   map[string]*Volume
	Snapshots map[string]*Snapshot
	Addresses map[string]*Address // by allocation id

	// The *Order slices keep creation order, which is the order Describe
	// calls page through (AWS's order is unspecified but stable).
	InstanceOrder []string
	VolumeOrder   []string
	SnapshotOrder []string
	AddressOrder  []string

	// Ext holds other services' per-region state keyed by service name; use
	// regionExt to get it typed.
	Ext map[string]any

	// nextDue is the earliest instant a timed EC2 transition or expiry is
	// due; settleRegion skips its scan before then. Zero means unknown.
	nextDue time.Time
}

// due records that something in rs changes at t.
func (rs *RegionState) due(t time.Time) {
	if !rs.nextDue.IsZero() && t.Before(rs.nextDue) {
		rs.nextDue = t
	}
}

// regionExt returns rs.Ext[key] as *T, creating it with mk on first use.
func regionExt[T any](rs *RegionState, key string, mk func() *T) *T {
	if v, ok := rs.Ext[key]; ok {
		return v.(*T)
	}
	v := mk()
	rs.Ext[key] = v
	return v
}

// account returns the account, creating it on first use. Caller holds s.mu.
func (s *Sim) account(id string) *Account {
	a, ok := s.accounts[id]
	if !ok {
		a = &Account{ID: id, Regions: map[string]*RegionState{}}
		s.accounts[id] = a
	}
	return a
}

// region returns one account's region state, creating it on first use.
// Caller holds s.mu.
func (s *Sim) region(account, region string) *RegionState {
	a := s.account(account)
	rs, ok := a.Regions[region]
	if !ok {
		rs = &RegionState{
			Name:      region,
			Instances: map[string]*Instance{},
			Volumes:   map[string]*Volume{},
			Snapshots: map[string]*Snapshot{},
			Addresses: map[string]*Address{},
			Ext:       map[string]any{},
		}
		a.Regions[region] = rs
	}
	return rs
}

// EventKind says what happened to a resource.
type EventKind string

// Event kinds recorded in Account.History.
const (
	EventCreated  EventKind = "created"  // resource exists from Time; State says in which state
	EventState    EventKind = "state"    // state changed to State
	EventModified EventKind = "modified" // Type/SizeGiB/Iops/Throughput/Attrs changed
	EventDeleted  EventKind = "deleted"  // resource gone (terminated, deleted, released)
)

// Event is one billable change. Every event carries the resource's full
// billing-relevant description after the change, so a reader can price any
// interval from the latest event at or before its start without replaying.
type Event struct {
	Time         time.Time
	Account      string
	Region       string
	Service      string // "ec2", "rds", "s3", "lambda"
	ResourceType string // "instance", "volume", "snapshot", "address", "db-instance", "bucket", "function"
	ResourceID   string
	Kind         EventKind
	// State after the event, in the service's own vocabulary (EC2 instance:
	// pending/running/stopping/stopped/shutting-down/terminated; volume:
	// available/in-use; address: associated/unassociated; RDS: available,
	// stopped, ...).
	State string
	// Type is the instance type, DB instance class, volume type or Lambda
	// architecture.
	Type       string
	SizeGiB    int // volumes, snapshots, RDS storage
	Iops       int
	Throughput int // MiB/s
	MemoryMiB  int // Lambda
	Profile    Profile
	Tags       map[string]string
	// Attrs holds service-specific facts (RDS engine, multi-AZ, ...).
	Attrs map[string]string
}

// recordEvent appends e to its account's history. Caller holds s.mu.
func (s *Sim) recordEvent(e Event) {
	e.Tags = maps.Clone(e.Tags)
	e.Attrs = maps.Clone(e.Attrs)
	a := s.account(e.Account)
	a.History = append(a.History, e)
}

// Events returns a copy of account's history sorted by Time (stable, so
// same-instant events keep their recording order).
func (s *Sim) Events(account string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAccount(account)
	a, ok := s.accounts[account]
	if !ok {
		return nil
	}
	out := slices.Clone(a.History)
	slices.SortStableFunc(out, func(x, y Event) int { return x.Time.Compare(y.Time) })
	return out
}

// settleAccount applies every transition that is due in all of account's
// regions, so history is complete up to now. Caller holds s.mu.
func (s *Sim) settleAccount(account string) {
	a, ok := s.accounts[account]
	if !ok {
		return
	}
	now := s.Now()
	for _, rs := range a.Regions {
		s.settleRegion(account, rs, now)
	}
}

// Instance is an EC2 instance.
type Instance struct {
	ID            string
	ReservationID string
	ImageID       string
	Type          string
	Arch          string // x86_64 or arm64
	State         string
	// next and nextAt describe the pending timed transition, if any.
	next   string
	nextAt time.Time

	LaunchTime            time.Time
	AZ                    string
	SubnetID              string
	VpcID                 string
	PrivateIP             string
	KeyName               string
	ClientToken           string
	StateTransitionReason string
	StateReasonCode       string
	StateReasonMessage    string
	Tags                  map[string]string
	Profile               Profile
	// RootDeviceType is "ebs" or "instance-store" (from the image; see
	// Sim.SetImageRootDeviceType).
	RootDeviceType string
	// Lifecycle is "" (on-demand) or "spot"; SpotType is the Spot request's
	// type, "one-time" or "persistent".
	Lifecycle, SpotType string
	// HibernationConfigured is RunInstances' HibernationOptions.Configured:
	// only such an instance may be stopped with Hibernate=true.
	HibernationConfigured bool
	// Seed drives the profile's utilisation for this instance.
	Seed int64
	// RunningSince is when the instance last entered running, for status
	// checks ("initializing" for a short while after start).
	RunningSince time.Time
	// TerminatedAt drives how long the instance stays visible.
	TerminatedAt time.Time

	// volumes (attachment order) and address index the instance's
	// attachments so describing an instance never scans the region.
	volumes []string
	address string // allocation id of the associated Elastic IP
}

// Volume is an EBS volume.
type Volume struct {
	ID         string
	Type       string
	SizeGiB    int
	Iops       int
	Throughput int
	AZ         string
	State      string // creating, available, in-use, deleting
	next       string
	nextAt     time.Time
	CreateTime time.Time
	SnapshotID string
	Encrypted  bool
	Tags       map[string]string
	Attachment *VolumeAttachment
	Mod        *VolumeModification
}

// VolumeAttachment links a volume to an instance.
type VolumeAttachment struct {
	InstanceID          string
	Device              string
	AttachTime          time.Time
	DeleteOnTermination bool
}

// VolumeModification is the latest ModifyVolume of a volume.
type VolumeModification struct {
	State                                                            string // modifying, optimizing, completed
	StartTime, EndTime                                               time.Time
	OrigType, TargetType                                             string
	OrigSize, TargetSize, OrigIops, TargetIops, OrigThru, TargetThru int
}

// Snapshot is an EBS snapshot.
type Snapshot struct {
	ID           string
	VolumeID     string
	VolumeSize   int
	State        string // pending, then completed (or error, see FailSnapshots)
	StateMessage string
	next         string
	nextAt       time.Time
	StartTime    time.Time
	OwnerID      string
	Description  string
	Encrypted    bool
	Tags         map[string]string
}

// Address is an Elastic IP address.
type Address struct {
	AllocationID       string
	PublicIP           string
	AssociationID      string
	InstanceID         string
	PrivateIP          string
	NetworkBorderGroup string
	AllocTime          time.Time
	Tags               map[string]string
}

// resourceSeed derives a per-resource seed so two resources with the same
// profile do not move in lockstep, yet every run with the same simulator
// seed produces the same series.
func resourceSeed(simSeed int64, id string) int64 {
	h := fnv.New64a()
	_, _ = h.Write(append(append(strconv.AppendInt(nil, simSeed, 10), '/'), id...))
	return int64(h.Sum64())
}

// newID returns prefix-<17 hex digits> like EC2's long ids. Caller holds s.mu.
func (s *Sim) newID(prefix string) string {
	return fmt.Sprintf("%s-%x%016x", prefix, s.rng.IntN(16), s.rng.Uint64())
}
