package awssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
)

// adminPrefix starts every admin path. S3 bucket names cannot contain '_',
// so no path-style S3 request can start with it.
const adminPrefix = "/_sim/"

const maxAdminBody = 1 << 20

// serveAdmin is the fault/state endpoint:
//
//	GET    /_sim/faults                 injected faults (FaultState)
//	PUT    /_sim/faults                 replace the standing FaultConfig
//	DELETE /_sim/faults                 clear every fault
//	POST   /_sim/faults/fail-next       arm a FailNextSpec
//	POST   /_sim/faults/status-checks   {"instance_id": "i-...", "fail": true}
//	PUT    /_sim/throttle               replace ThrottleOptions {"disabled": false, "scale": 1}
//	GET    /_sim/state                  resource counts per account/region/state
func (s *Sim) serveAdmin(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + r.URL.Path
	switch route {
	case "GET /_sim/faults":
		writeAdminJSON(w, http.StatusOK, s.Faults())
	case "PUT /_sim/faults":
		var c FaultConfig
		if decodeAdmin(w, r, &c) && adminResult(w, s.SetFaults(c)) {
			writeAdminJSON(w, http.StatusOK, s.Faults())
		}
	case "DELETE /_sim/faults":
		s.ClearFaults()
		writeAdminJSON(w, http.StatusOK, s.Faults())
	case "POST /_sim/faults/fail-next":
		var f FailNextSpec
		if decodeAdmin(w, r, &f) && adminResult(w, s.FailNext(f)) {
			writeAdminJSON(w, http.StatusOK, s.Faults())
		}
	case "POST /_sim/faults/status-checks":
		var req struct {
			InstanceID string `json:"instance_id"`
			Fail       bool   `json:"fail"`
		}
		if !decodeAdmin(w, r, &req) {
			return
		}
		if req.InstanceID == "" {
			writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": "instance_id: required"})
			return
		}
		s.FailStatusChecks(req.InstanceID, req.Fail)
		writeAdminJSON(w, http.StatusOK, s.Faults())
	case "PUT /_sim/throttle":
		var o struct {
			Disabled bool    `json:"disabled"`
			Scale    float64 `json:"scale"`
		}
		if decodeAdmin(w, r, &o) && adminResult(w, s.SetThrottle(ThrottleOptions{Disabled: o.Disabled, Scale: o.Scale})) {
			writeAdminJSON(w, http.StatusOK, o)
		}
	case "GET /_sim/state":
		writeAdminJSON(w, http.StatusOK, s.Summary())
	default:
		writeAdminJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no admin route %s", route)})
	}
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("decoding request body: %v", err)})
		return false
	}
	return true
}

func adminResult(w http.ResponseWriter, err error) bool {
	if err != nil {
		writeAdminJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return false
	}
	return true
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// RegionSummary counts one account-region's resources.
type RegionSummary struct {
	Account   string         `json:"account"`
	Region    string         `json:"region"`
	Instances map[string]int `json:"instances"` // by state
	Volumes   map[string]int `json:"volumes"`   // by state
	Snapshots int            `json:"snapshots"`
	Addresses int            `json:"addresses"`
	Services  []string       `json:"other_services"` // keys of RegionState.Ext
}

// Summary counts resources per account and region, settling due transitions.
func (s *Sim) Summary() []RegionSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	out := []RegionSummary{}
	for _, a := range s.accounts {
		for _, rs := range a.Regions {
			s.settleRegion(a.ID, rs, now)
			sum := RegionSummary{Account: a.ID, Region: rs.Name, Instances: map[string]int{}, Volumes: map[string]int{},
				Snapshots: len(rs.Snapshots), Addresses: len(rs.Addresses), Services: []string{}}
			for _, in := range rs.Instances {
				sum.Instances[in.State]++
			}
			for _, v := range rs.Volumes {
				sum.Volumes[v.State]++
			}
			for k := range rs.Ext {
				sum.Services = append(sum.Services, k)
			}
			sort.Strings(sum.Services)
			out = append(out, sum)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		return out[i].Region < out[j].Region
	})
	return out
}
