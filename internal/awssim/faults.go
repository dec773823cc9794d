package awssim

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// FaultConfig is the standing fault injection. Ratios are probabilities per
// matching call, drawn from a source seeded by Options.Seed.
type FaultConfig struct {
	ThrottleRatio    float64 `json:"throttle_ratio"`
	ServerErrorRatio float64 `json:"server_error_ratio"`
	// LatencyMS is added to every matching call before it is answered.
	LatencyMS int `json:"latency_ms"`
	// Services and Actions restrict the faults (signing names such as "ec2",
	// action names such as "DescribeInstances"); empty matches all.
	Services []string `json:"services,omitempty"`
	Actions  []string `json:"actions,omitempty"`
}

func (c FaultConfig) validate() error {
	if c.ThrottleRatio < 0 || c.ThrottleRatio > 1 {
		return fmt.Errorf("throttle_ratio %v: must be between 0 and 1", c.ThrottleRatio)
	}
	if c.ServerErrorRatio < 0 || c.ServerErrorRatio > 1 {
		return fmt.Errorf("server_error_ratio %v: must be between 0 and 1", c.ServerErrorRatio)
	}
	if c.LatencyMS < 0 || c.LatencyMS > 60_000 {
		return fmt.Errorf("latency_ms %d: must be between 0 and 60000", c.LatencyMS)
	}
	return nil
}

// FailNextSpec makes the next call of Action on ResourceID fail once with
// Code (default InternalError-style 500 in the service's envelope when Code is
// empty).
type FailNextSpec struct {
	Service    string `json:"service"`
	Action     string `json:"action"`
	ResourceID string `json:"resource_id"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message,omitempty"`
	// Status defaults to 500 without Code and 400 with one.
	Status int `json:"status,omitempty"`
}

func (f FailNextSpec) validate() error {
	if f.Service == "" || f.Action == "" || f.ResourceID == "" {
		return fmt.Errorf("service, action and resource_id are all required (got %q, %q, %q)", f.Service, f.Action, f.ResourceID)
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return fmt.Errorf("status %d: must be an HTTP error status (400-599)", f.Status)
	}
	return nil
}

type faults struct {
	mu   sync.Mutex
	rng  *rand.Rand
	cfg  FaultConfig
	next []FailNextSpec
	// statusFail maps an instance id to the instance type at which its
	// status checks fail; "" fails them at every type.
	statusFail map[string]string
	// snapFail: snapshots of these volumes end in state error;
	// updateFail: configuration updates of these functions end in
	// LastUpdateStatus Failed.
	snapFail   map[string]bool
	updateFail map[string]bool
	// degradeAt maps service/id to the size at which the resource's
	// metrics show it does not fit (DegradeAtSize).
	degradeAt map[string]string
}

func newFaults(seed uint64) *faults {
	return &faults{rng: rand.New(rand.NewPCG(seed, 0xfa17)), statusFail: map[string]string{}, snapFail: map[string]bool{}, updateFail: map[string]bool{},
		degradeAt: map[string]string{}}
}

func (f *faults) matches(service, action string) bool {
	return (len(f.cfg.Services) == 0 || slices.Contains(f.cfg.Services, service)) &&
		(len(f.cfg.Actions) == 0 || slices.Contains(f.cfg.Actions, action))
}

func (f *faults) latency(service, action string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.matches(service, action) {
		return 0
	}
	return time.Duration(f.cfg.LatencyMS) * time.Millisecond
}

func (f *faults) roll(service, action string, ratio func(FaultConfig) float64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := ratio(f.cfg)
	return r > 0 && f.matches(service, action) && f.rng.Float64() < r
}

func (f *faults) throttleNow(service, action string) bool {
	return f.roll(service, action, func(c FaultConfig) float64 { return c.ThrottleRatio })
}

func (f *faults) serverErrorNow(service, action string) bool {
	return f.roll(service, action, func(c FaultConfig) float64 { return c.ServerErrorRatio })
}

// takeFailNext consumes a one-shot failure for (service, action, resource),
// returning the error to answer with, or nil.
func (f *faults) takeFailNext(service, action, resourceID string, p Protocol) *APIError {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, n := range f.next {
		if n.Service == service && n.Action == action && n.ResourceID == resourceID {
			f.next = slices.Delete(f.next, i, i+1)
			e := &APIError{Status: n.Status, Code: n.Code, Message: n.Message}
			if e.Code == "" {
				e.Code = serverErrorCode(p)
			}
			if e.Status == 0 {
				e.Status = http.StatusBadRequest
				if n.Code == "" {
					e.Status = http.StatusInternalServerError
				}
			}
			if e.Message == "" {
				e.Message = fmt.Sprintf("injected failure of %s on %s", action, resourceID)
			}
			return e
		}
	}
	return nil
}

func (f *faults) failsStatusChecks(instanceID, instanceType string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	typ, ok := f.statusFail[instanceID]
	return ok && (typ == "" || typ == instanceType)
}

func (f *faults) failsSnapshots(volumeID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snapFail[volumeID]
}

func (f *faults) failsUpdates(function string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.updateFail[function]
}

// degradedSize is the size DegradeAtSize named for the resource, or "".
func (f *faults) degradedSize(service, id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.degradeAt[service+"/"+id]
}

// setFlag sets or clears id in one of the per-resource fault sets.
func (s *Sim) setFlag(set map[string]bool, id string, on bool) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if on {
		set[id] = true
	} else {
		delete(set, id)
	}
}

// FailSnapshots makes every snapshot started from volumeID from now on
// go from pending to error instead of completed, as a snapshot whose copy
// fails does.
func (s *Sim) FailSnapshots(volumeID string, fail bool) { s.setFlag(s.faults.snapFail, volumeID, fail) }

// FailFunctionUpdates makes every configuration update of the function
// (by name) from now on end in LastUpdateStatus Failed, the function
// keeping its previous configuration.
func (s *Sim) FailFunctionUpdates(name string, fail bool) { s.setFlag(s.faults.updateFail, name, fail) }

// DegradeAtSize makes a resource's workload not fit one size, as CloudWatch
// would show it: while the DB instance (service "rds", by identifier) runs
// as class size, its CPUUtilization is pinned at 100 %; while the Lambda
// function (service "lambda", by name) has size MB of memory, every
// invocation fails (AWS/Lambda Errors equal Invocations). At every other
// size its metrics are its profile's, so a verify after a change to size
// sees the damage and a rollback cures it. An empty size clears it.
func (s *Sim) DegradeAtSize(service, id, size string) error {
	if service != "rds" && service != "lambda" {
		return fmt.Errorf("awssim: degrade at size: service %q: want rds or lambda", service)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if size == "" {
		delete(s.faults.degradeAt, service+"/"+id)
	} else {
		s.faults.degradeAt[service+"/"+id] = size
	}
	return nil
}

// SetFaults replaces the standing fault configuration.
func (s *Sim) SetFaults(c FaultConfig) error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("awssim: fault config: %w", err)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.cfg = c
	return nil
}

// FailNext arms a one-shot failure of the next matching call, e.g. the next
// ModifyInstanceAttribute on i-0abc.
func (s *Sim) FailNext(f FailNextSpec) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("awssim: fail-next: %w", err)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.next = append(s.faults.next, f)
	return nil
}

// FailStatusChecks makes instanceID report impaired instance and system
// status checks whenever it is running (after its next start, if stopped).
func (s *Sim) FailStatusChecks(instanceID string, fail bool) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if fail {
		s.faults.statusFail[instanceID] = ""
	} else {
		delete(s.faults.statusFail, instanceID)
	}
}

// FailStatusChecksAtType makes instanceID report impaired status checks
// whenever it runs as instanceType only: a workload that does not fit a
// smaller size, and runs again once changed back.
func (s *Sim) FailStatusChecksAtType(instanceID, instanceType string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.statusFail[instanceID] = instanceType
}

// ClearFaults removes every injected fault.
func (s *Sim) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.cfg = FaultConfig{}
	s.faults.next = nil
	s.faults.statusFail = map[string]string{}
	s.faults.snapFail = map[string]bool{}
	s.faults.updateFail = map[string]bool{}
	s.faults.degradeAt = map[string]string{}
}

// FaultState is the admin endpoint's view of the injected faults.
type FaultState struct {
	Config           FaultConfig    `json:"config"`
	FailNext         []FailNextSpec `json:"fail_next"`
	FailStatusChecks []string       `json:"fail_status_checks"`
}

// Faults returns the injected faults.
func (s *Sim) Faults() FaultState {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	st := FaultState{Config: s.faults.cfg, FailNext: slices.Clone(s.faults.next), FailStatusChecks: []string{}}
	for id := range s.faults.statusFail {
		st.FailStatusChecks = append(st.FailStatusChecks, id)
	}
	slices.Sort(st.FailStatusChecks)
	if st.FailNext == nil {
		st.FailNext = []FailNextSpec{}
	}
	return st
}
