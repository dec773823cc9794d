package storetest

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// testAgentCertificates: every certificate update keeps the one it
// replaces as previous, and GetAgentAuth reads both with the agent, its
// status and its cloud account's provider account id, within the tenant.
func testAgentCertificates(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	ag := must(ts.CreateAgent(c, &sirsiv1.Agent{CloudAccountId: a.Id, Hostname: "h1"}))

	au := must(ts.GetAgentAuth(c, ag.Id))
	if au.CertSerial != "" || au.PrevCertSerial != "" || !au.PrevCertExpire.IsZero() || au.AccountID != "123456789012" ||
		au.Agent.Id != ag.Id || au.Agent.CloudAccountId != a.Id || au.Agent.TenantId != ts.TenantID() || au.Agent.Hostname != "h1" {
		t.Fatalf("auth of a new agent = %+v", au)
	}

	exp1 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	exp2 := exp1.Add(24 * time.Hour)
	exp3 := exp2.Add(24 * time.Hour)
	ok(t, ts.UpdateAgentCertificate(c, ag.Id, "s1", exp1))
	au = must(ts.GetAgentAuth(c, ag.Id))
	if au.CertSerial != "s1" || !au.Agent.CertExpireTime.AsTime().Equal(exp1) || au.PrevCertSerial != "" || !au.PrevCertExpire.IsZero() {
		t.Fatalf("after the first certificate = %+v", au)
	}
	ok(t, ts.UpdateAgentCertificate(c, ag.Id, "s2", exp2))
	au = must(ts.GetAgentAuth(c, ag.Id))
	if au.CertSerial != "s2" || !au.Agent.CertExpireTime.AsTime().Equal(exp2) || au.PrevCertSerial != "s1" || !au.PrevCertExpire.Equal(exp1) {
		t.Fatalf("after a renewal = %+v", au)
	}
	ok(t, ts.UpdateAgentCertificate(c, ag.Id, "s3", exp3))
	au = must(ts.GetAgentAuth(c, ag.Id))
	if au.CertSerial != "s3" || au.PrevCertSerial != "s2" || !au.PrevCertExpire.Equal(exp2) {
		t.Fatalf("after a second renewal the oldest serial must be gone: %+v", au)
	}

	must(ts.RevokeAgent(c, ag.Id))
	if au := must(ts.GetAgentAuth(c, ag.Id)); au.Agent.Status != sirsiv1.AgentStatus_AGENT_STATUS_REVOKED || au.CertSerial != "s3" {
		t.Fatalf("auth of a revoked agent = %+v", au)
	}

	_, err := ts.GetAgentAuth(c, "missing")
	wantErr(t, err, store.ErrNotFound, "auth of a missing agent")
	other := newTenant(t, s, "other")
	_, err = other.GetAgentAuth(c, ag.Id)
	wantErr(t, err, store.ErrNotFound, "auth of another tenant's agent")
	wantErr(t, other.UpdateAgentCertificate(c, ag.Id, "x", exp3), store.ErrNotFound, "certificate of another tenant's agent")
	if au := must(ts.GetAgentAuth(c, ag.Id)); au.CertSerial != "s3" || au.PrevCertSerial != "s2" {
		t.Fatalf("another tenant changed the serials: %+v", au)
	}
}

// testLookupEnrollmentToken: a lookup finds the token by hash, whoever owns
// it, and never counts a use.
func testLookupEnrollmentToken(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	e := must(ts.CreateEnrollmentToken(c, &sirsiv1.EnrollmentToken{CloudAccountId: a.Id, MaxUses: 1, Ttl: durationpb.New(time.Hour)}, []byte("lookup-hash")))
	for range 2 {
		got := must(s.LookupEnrollmentToken(c, []byte("lookup-hash")))
		if !proto.Equal(got, e) {
			t.Fatalf("lookup = %v, want %v", got, e)
		}
	}
	must(s.EnrollAgent(c, store.Enrollment{SecretHash: []byte("lookup-hash"), TokenID: e.Id, At: time.Now(), AgentID: "lookup-agent", CertExpire: time.Now().Add(time.Hour)}))
	if got := must(s.LookupEnrollmentToken(c, []byte("lookup-hash"))); got.Uses != 1 || got.TenantId != ts.TenantID() {
		t.Fatalf("lookup after one use = %v", got)
	}
	_, err := s.LookupEnrollmentToken(c, []byte("unknown"))
	wantErr(t, err, store.ErrNotFound, "lookup of an unknown token")
}
