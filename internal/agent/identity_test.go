package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// An enrollment whose answer was lost (nothing but the key saved) is
// repeated with the same key and token: the same agent comes back and the
// single-use token is not spent twice. Another key with that token is
// refused as a used-up token.
func TestEnrollmentRepeatedWithItsKeyGetsTheSameAgent(t *testing.T) {
	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "acme")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	token := env.NewEnrollmentToken(t, tn.ID, acct.Id)
	ctx := context.Background()
	dir := t.TempDir()
	first, err := enroll(ctx, dir, env.DialAgent(t, nil), token, "host", "test")
	if err != nil {
		t.Fatal(err)
	}
	// What a crash after the answer leaves: the key alone.
	for _, f := range []string{certFile, caFile, identityFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	again, err := enroll(ctx, dir, env.DialAgent(t, nil), token, "host", "test")
	if err != nil {
		t.Fatalf("the same key and token again: %v", err)
	}
	if again.identity() != first.identity() {
		t.Fatalf("enrolled again as %+v, want %+v", again.identity(), first.identity())
	}
	loaded, err := loadCredentials(dir)
	if err != nil || loaded == nil || loaded.identity() != first.identity() || pki.SerialHex(loaded.leafCert()) != pki.SerialHex(again.leafCert()) {
		t.Fatalf("after enrolling again the data dir holds %+v (%v)", loaded, err)
	}
	agents, err := tn.Viewer.ListAgents(ctx, &sirsiv1.ListAgentsRequest{})
	if err != nil || len(agents.GetAgents()) != 1 || agents.GetAgents()[0].GetId() != first.identity().AgentID {
		t.Fatalf("agents = %v (%v), want only %s", agents.GetAgents(), err, first.identity().AgentID)
	}

	_, err = enroll(ctx, t.TempDir(), env.DialAgent(t, nil), token, "host", "test")
	if status.Code(errors.Unwrap(err)) != codes.PermissionDenied {
		t.Fatalf("another key with the used token: %v, want PermissionDenied", err)
	}
}

// A renewal killed at each step boundary leaves the data dir in one of
// three states; each start must load a key and certificate that match:
// the renewed pair once its certificate was staged, the old one before.
func TestRenewalInterruptedAtEveryStepLoadsAMatchingPair(t *testing.T) {
	env := cptest.Start(t, cptest.WithAgentService())
	tn := env.NewTenant(t, "acme")
	acct := env.NewCloudAccount(t, tn.ID, awssim.DefaultAccountID)
	ctx := context.Background()
	dir := t.TempDir()
	c, err := enroll(ctx, dir, env.DialAgent(t, nil), env.NewEnrollmentToken(t, tn.ID, acct.Id), "host", "test")
	if err != nil {
		t.Fatal(err)
	}
	oldKey, oldCert := readFile(t, dir, keyFile), readFile(t, dir, certFile)
	oldSerial := pki.SerialHex(c.leafCert())
	c.mu.RLock()
	cert := *c.cert
	c.mu.RUnlock()
	leaf, err := c.renew(ctx, env.DialAgent(t, &cert), "host")
	if err != nil {
		t.Fatal(err)
	}
	newKey, newCert := readFile(t, dir, keyFile), readFile(t, dir, certFile)
	newSerial := pki.SerialHex(leaf)
	if newSerial == oldSerial || string(newKey) == string(oldKey) {
		t.Fatal("the renewal kept the old key or certificate")
	}

	cases := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"key staged, certificate not", map[string][]byte{keyFile: oldKey, certFile: oldCert, keyFile + nextSuffix: newKey}, oldSerial},
		{"both staged", map[string][]byte{keyFile: oldKey, certFile: oldCert, keyFile + nextSuffix: newKey, certFile + nextSuffix: newCert}, newSerial},
		{"key renamed, certificate staged", map[string][]byte{keyFile: newKey, certFile: oldCert, certFile + nextSuffix: newCert}, newSerial},
		{"both renamed", map[string][]byte{keyFile: newKey, certFile: newCert}, newSerial},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []string{keyFile, certFile, keyFile + nextSuffix, certFile + nextSuffix} {
				if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
			}
			for f, b := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := loadCredentials(dir)
			if err != nil {
				t.Fatalf("start after the crash: %v", err)
			}
			if s := pki.SerialHex(got.leafCert()); s != tc.want {
				t.Errorf("loaded certificate %s, want %s", s, tc.want)
			}
			for _, f := range []string{keyFile + nextSuffix, certFile + nextSuffix} {
				if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s left behind (stat: %v)", f, err)
				}
			}
		})
	}
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
