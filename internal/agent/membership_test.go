package agent

import (
	"errors"
	"fmt"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/discovery"
)

// Every unit the sweep ran is stated: a large one in parts whose ids add
// up to the whole with the count on the last part, an empty one as an
// empty last part, a failed one with its error.
func TestMembershipBatches(t *testing.T) {
	const big = unitIDsPerBatch + 7
	snap := &discovery.Snapshot{Taken: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Units: []discovery.Unit{{Type: "aws_ebs_volume", Region: "eu-west-1"}, {Type: "aws_ebs_volume", Region: "us-east-1"},
			{Type: "aws_ec2_instance", Region: "us-east-1"}, {Type: "aws_eip", Region: "us-east-1"}},
		Incomplete: []discovery.UnitError{{Type: "aws_ebs_volume", Region: "eu-west-1", Err: errors.New("AccessDenied")}}}
	for i := range big {
		snap.Resources = append(snap.Resources, &sirsiv1.Resource{Type: "aws_ec2_instance", Region: "us-east-1", ResourceId: fmt.Sprintf("i-%08d", i)})
	}
	snap.Resources = append(snap.Resources, &sirsiv1.Resource{Type: "aws_ebs_volume", Region: "us-east-1", ResourceId: "vol-1"})
	if err := snap.Compact(); err != nil {
		t.Fatal(err)
	}
	reqs := membershipBatches(snap)
	type tally struct {
		ids, parts int
		last       bool
		total      int64
		err        string
	}
	got := map[string]*tally{}
	for _, r := range reqs {
		if !r.GetObserveTime().AsTime().Equal(snap.Taken) {
			t.Errorf("batch observed at %v, want the sweep's %v", r.GetObserveTime().AsTime(), snap.Taken)
		}
		n := 0
		for _, u := range r.GetUnits() {
			n += len(u.GetResourceIds())
			k := u.GetType() + "/" + u.GetRegion()
			if got[k] == nil {
				got[k] = &tally{}
			}
			g := got[k]
			if g.last {
				t.Errorf("%s has a part after its last", k)
			}
			g.ids += len(u.GetResourceIds())
			g.parts++
			g.last, g.total, g.err = u.GetLast(), u.GetTotal(), u.GetError()
		}
		if n > unitIDsPerBatch {
			t.Errorf("a batch names %d ids, more than %d", n, unitIDsPerBatch)
		}
	}
	want := map[string]tally{
		"aws_ebs_volume/eu-west-1":   {parts: 1, last: true, err: "AccessDenied"},
		"aws_ebs_volume/us-east-1":   {ids: 1, parts: 1, last: true, total: 1},
		"aws_ec2_instance/us-east-1": {ids: big, parts: 2, last: true, total: big},
		"aws_eip/us-east-1":          {parts: 1, last: true},
	}
	if len(got) != len(want) {
		t.Fatalf("units %v, want %v", got, want)
	}
	for k, w := range want {
		if g := got[k]; g == nil || *g != w {
			t.Errorf("%s: %+v, want %+v", k, g, w)
		}
	}
}
