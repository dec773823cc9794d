package sqlstore

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestChainHashCoversEveryField(t *testing.T) {
	base := &sirsiv1.AuditEvent{Id: "id", TenantId: "t", Sequence: 4, Time: timestamppb.New(time.Unix(5, 6)), RequestId: "r",
		Actor: "a", SourceAddress: "s", Action: "ac", Target: "ta", Outcome: "ok", Detail: "d"}
	h := chainHash("prev", base)
	if h != chainHash("prev", proto.Clone(base).(*sirsiv1.AuditEvent)) {
		t.Fatal("hash is not deterministic")
	}
	if h == chainHash("other", base) {
		t.Fatal("hash ignores the previous hash")
	}
	edits := map[string]func(e *sirsiv1.AuditEvent){
		"id":       func(e *sirsiv1.AuditEvent) { e.Id = "x" },
		"tenant":   func(e *sirsiv1.AuditEvent) { e.TenantId = "x" },
		"sequence": func(e *sirsiv1.AuditEvent) { e.Sequence = 5 },
		"time":     func(e *sirsiv1.AuditEvent) { e.Time = timestamppb.New(time.Unix(5, 7)) },
		"request":  func(e *sirsiv1.AuditEvent) { e.RequestId = "x" },
		"actor":    func(e *sirsiv1.AuditEvent) { e.Actor = "x" },
		"source":   func(e *sirsiv1.AuditEvent) { e.SourceAddress = "x" },
		"action":   func(e *sirsiv1.AuditEvent) { e.Action = "x" },
		"target":   func(e *sirsiv1.AuditEvent) { e.Target = "x" },
		"outcome":  func(e *sirsiv1.AuditEvent) { e.Outcome = "x" },
		"detail":   func(e *sirsiv1.AuditEvent) { e.Detail = "x" },
		// Moving bytes between adjacent fields must change the hash too.
		"boundary": func(e *sirsiv1.AuditEvent) { e.Action, e.Target = "act", "a" },
	}
	for name, edit := range edits {
		e := proto.Clone(base).(*sirsiv1.AuditEvent)
		edit(e)
		if chainHash("prev", e) == h {
			t.Errorf("editing %s leaves the hash unchanged", name)
		}
	}
}

func TestDedupeResources(t *testing.T) {
	r := func(region, typ, id, state string) *sirsiv1.Resource {
		return &sirsiv1.Resource{Region: region, Type: typ, ResourceId: id, State: state}
	}
	in := []*sirsiv1.Resource{r("us", "ec2", "b", "1"), r("eu", "ec2", "a", "1"), r("us", "ec2", "b", "2"), r("us", "ebs", "b", "1"), r("us", "ec2", "b", "3")}
	out := dedupeResources(in)
	var got []string
	for _, x := range out {
		got = append(got, x.Region+"/"+x.Type+"/"+x.ResourceId+"="+x.State)
	}
	want := "[eu/ec2/a=1 us/ebs/b=1 us/ec2/b=3]"
	if s := fmt.Sprint(got); s != want {
		t.Fatalf("dedupe = %s, want %s", s, want)
	}
	if in[0].State != "1" || len(in) != 5 {
		t.Fatal("dedupe modified its input")
	}
}
