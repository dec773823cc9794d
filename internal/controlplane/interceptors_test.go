package controlplane_test

import (
	"context"
	"path/filepath"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

func TestTLSHarness(t *testing.T) {
	env := cptest.Start(t, cptest.WithTLS())
	if env.CACertFile == "" || len(env.CACertPEM) == 0 {
		t.Fatal("no CA for the TLS server")
	}
	id, err := env.Client.GetIdentity(context.Background(), &sirsiv1.GetIdentityRequest{})
	if err != nil || !id.Operator {
		t.Fatalf("identity over TLS = %v, %v", id, err)
	}
	tn := env.NewTenant(t, "tls")
	if _, err := tn.Viewer.ListCloudAccounts(context.Background(), &sirsiv1.ListCloudAccountsRequest{}); err != nil {
		t.Fatal(err)
	}
}

func TestBearerParsing(t *testing.T) {
	env := cptest.Start(t)
	tn := env.NewTenant(t, "bearer")
	ctx := context.Background()
	acct, err := tn.Editor.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: newAccount("")})
	if err != nil {
		t.Fatal(err)
	}
	et, err := tn.Editor.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{CloudAccountId: acct.CloudAccount.Id})
	if err != nil {
		t.Fatal(err)
	}
	noAuth := env.Dial(t, "")
	for name, hdr := range map[string][]string{
		"basic scheme":     {"Basic " + env.OperatorToken},
		"no scheme":        {env.OperatorToken},
		"empty bearer":     {"Bearer "},
		"two headers":      {"Bearer " + env.OperatorToken, "Bearer " + env.OperatorToken},
		"enrollment token": {"Bearer " + et.EnrollmentToken.Token},
		"operator typo":    {"Bearer " + typo(env.OperatorToken)},
	} {
		md := metadata.MD{"authorization": hdr}
		_, err := noAuth.GetIdentity(metadata.NewOutgoingContext(ctx, md), &sirsiv1.GetIdentityRequest{})
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		wantCode(t, err, codes.Unauthenticated)
	}
	md := metadata.MD{"authorization": {"bearer " + env.OperatorToken}}
	if _, err := noAuth.GetIdentity(metadata.NewOutgoingContext(ctx, md), &sirsiv1.GetIdentityRequest{}); err != nil {
		t.Errorf("lower-case scheme refused: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	env := cptest.Start(t)
	ctx := context.Background()
	if _, err := env.Client.ListTenants(ctx, &sirsiv1.ListTenantsRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err := env.Dial(t, "").ListTenants(ctx, &sirsiv1.ListTenantsRequest{})
	wantCode(t, err, codes.Unauthenticated)
	families, err := env.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	count := func(family, method, code string) float64 {
		for _, m := range byName[family].GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["method"] == method && (code == "" || labels["code"] == code) {
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				return float64(m.Histogram.GetSampleCount())
			}
		}
		return 0
	}
	list := "/sirsi.v1.ManagementService/ListTenants"
	if n := count("sirsi_grpc_requests_total", list, "OK"); n != 1 {
		t.Errorf("OK ListTenants = %v, want 1", n)
	}
	if n := count("sirsi_grpc_requests_total", list, "Unauthenticated"); n != 1 {
		t.Errorf("Unauthenticated ListTenants = %v, want 1", n)
	}
	if n := count("sirsi_grpc_request_duration_seconds", list, ""); n != 2 {
		t.Errorf("duration samples = %v, want 2", n)
	}
	found := false
	for _, m := range byName["sirsi_store_operation_duration_seconds"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "op" && l.GetValue() == "ListTenants" && m.Histogram.GetSampleCount() == 1 {
				found = true
			}
		}
	}
	if !found {
		t.Error("no store latency sample for ListTenants")
	}
}

func TestOperatorTokenSuppliedAndReplaced(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "op.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	first := cptest.Start(t, cptest.WithStore(st))
	// A restart without a token keeps the stored one and shows nothing.
	again, err := controlplane.New(controlplane.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if again.InitialOperatorToken() != "" {
		t.Fatal("a second start made a new operator token")
	}
	if _, err := first.Client.ListTenants(ctx, &sirsiv1.ListTenantsRequest{}); err != nil {
		t.Fatalf("first token stopped working after a restart: %v", err)
	}
	// Supplying one replaces it, for every server on the store.
	second := cptest.Start(t, cptest.WithStore(st), cptest.WithOperatorToken("dev-root-token"))
	if _, err := second.Client.ListTenants(ctx, &sirsiv1.ListTenantsRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err = first.Client.ListTenants(ctx, &sirsiv1.ListTenantsRequest{})
	wantCode(t, err, codes.Unauthenticated)
	if _, err := first.Dial(t, "dev-root-token").ListTenants(ctx, &sirsiv1.ListTenantsRequest{}); err != nil {
		t.Fatalf("the other server does not accept the replaced token: %v", err)
	}
	apiShaped, err := auth.Generate(auth.KindAPIToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"short", "has space in it", string(make([]byte, 300)), apiShaped} {
		if _, err := controlplane.New(controlplane.Options{Store: st, OperatorToken: bad}); err == nil {
			t.Errorf("operator token %q accepted", bad)
		}
	}
	if _, err := controlplane.New(controlplane.Options{}); err == nil {
		t.Error("New without a store succeeded")
	}
}

// typo changes the last character of tok, whatever it is.
func typo(tok string) string {
	last := tok[len(tok)-1]
	repl := byte('0')
	if last == repl {
		repl = '1'
	}
	return tok[:len(tok)-1] + string(repl)
}
