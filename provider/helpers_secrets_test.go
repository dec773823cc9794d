package provider

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// Ephemeral resources need Terraform 1.10, write-only arguments 1.11:
// tests of them skip on Terraform 1.5.7, and the skip says why.
var (
	requireEphemeral = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)}
	requireWriteOnly = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)}
)

// openedSecret is a token an ephemeral resource returned to Terraform.
type openedSecret struct {
	typeName, id, token string
}

// openedSecrets records every token the provider's ephemeral resources
// hand to Terraform, in plan and in apply, so a test can look for them in
// the files Terraform wrote.
type openedSecrets struct {
	mu     sync.Mutex
	opened []openedSecret
}

func (o *openedSecrets) all() []openedSecret {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]openedSecret(nil), o.opened...)
}

// factories is the provider, in process as usual, behind a server that
// notes what OpenEphemeralResource returns; also under the name "scoped",
// for a second configuration of its own (configurations of one name share
// one server in a test, and so one client).
func (o *openedSecrets) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	f := func() (tfprotov6.ProviderServer, error) {
		inner, err := providerserver.NewProtocol6WithError(New("test")())()
		if err != nil {
			return nil, err
		}
		return &recordingServer{ProviderServer: inner, into: o}, nil
	}
	return map[string]func() (tfprotov6.ProviderServer, error){"sirsi": f, "scoped": f}
}

type recordingServer struct {
	tfprotov6.ProviderServer
	into *openedSecrets
}

func (s *recordingServer) OpenEphemeralResource(ctx context.Context, req *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	resp, err := s.ProviderServer.OpenEphemeralResource(ctx, req)
	// A failed Open still carries a result (the configuration, no token).
	if err != nil || resp == nil || resp.Result == nil || slices.ContainsFunc(resp.Diagnostics, func(d *tfprotov6.Diagnostic) bool {
		return d.Severity == tfprotov6.DiagnosticSeverityError
	}) {
		return resp, err
	}
	schemas, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		return nil, err
	}
	sch, ok := schemas.EphemeralResourceSchemas[req.TypeName]
	if !ok {
		return nil, fmt.Errorf("recording: no schema for ephemeral %s", req.TypeName)
	}
	v, err := resp.Result.Unmarshal(sch.ValueType())
	if err != nil {
		return nil, fmt.Errorf("recording: decoding the result of %s: %w", req.TypeName, err)
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	var id, token string
	if err := attrs["id"].As(&id); err != nil {
		return nil, err
	}
	if err := attrs["token"].As(&token); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("recording: %s opened without a token", req.TypeName)
	}
	s.into.mu.Lock()
	s.into.opened = append(s.into.opened, openedSecret{typeName: req.TypeName, id: id, token: token})
	s.into.mu.Unlock()
	return resp, nil
}

// filesContaining lists the files under dir whose bytes contain secret,
// looking inside zip archives (a saved plan is one) entry by entry, and
// how many files (archive entries included) it read.
func filesContaining(dir, secret string) (found []string, read int, err error) {
	needle := []byte(secret)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, werr error) error {
		if werr != nil || !d.Type().IsRegular() {
			return werr
		}
		b, rerr := os.ReadFile(p)
		if rerr != nil {
			return rerr
		}
		read++
		if bytes.Contains(b, needle) {
			found = append(found, p)
		}
		zr, zerr := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if zerr != nil {
			return nil // not an archive
		}
		for _, f := range zr.File {
			rc, oerr := f.Open()
			if oerr != nil {
				return fmt.Errorf("opening %s in %s: %w", f.Name, p, oerr)
			}
			eb, rerr := io.ReadAll(rc)
			_ = rc.Close()
			if rerr != nil {
				return fmt.Errorf("reading %s in %s: %w", f.Name, p, rerr)
			}
			read++
			if bytes.Contains(eb, needle) {
				found = append(found, p+"!"+f.Name)
			}
		}
		return nil
	})
	return found, read, err
}

// savedPlanFiles lists the saved plans (tfplan) under dir.
func savedPlanFiles(dir string) []string {
	var plans []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && d.Name() == "tfplan" {
			plans = append(plans, p)
		}
		return nil
	})
	return plans
}

// noOpenedSecretIn fails when any token opened so far is in a file under
// dir; it runs before apply, while the saved plan exists.
type noOpenedSecretIn struct {
	dir    string
	opened *openedSecrets
}

func (c noOpenedSecretIn) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	if len(savedPlanFiles(c.dir)) == 0 {
		resp.Error = fmt.Errorf("no saved plan under %s: nothing to search", c.dir)
		return
	}
	resp.Error = assertNoSecretsIn(c.dir, c.opened.all())
}

// assertNoSecretsIn searches every file under dir for each opened token.
func assertNoSecretsIn(dir string, opened []openedSecret) error {
	if len(opened) == 0 {
		return fmt.Errorf("no ephemeral token was opened: nothing to search for")
	}
	var leaks []string
	for _, s := range opened {
		found, _, err := filesContaining(dir, s.token)
		if err != nil {
			return err
		}
		for _, f := range found {
			leaks = append(leaks, fmt.Sprintf("%s %s in %s", s.typeName, s.id, f))
		}
	}
	if len(leaks) > 0 {
		return fmt.Errorf("ephemeral tokens written to disk:\n%s", strings.Join(leaks, "\n"))
	}
	return nil
}

// keepWorkingDir makes the test case's working directories stay after the
// case (in dir, removed with the test) so they can be searched at the end.
func keepWorkingDir(t *testing.T) string {
	t.Helper()
	t.Setenv("TF_ACC_PERSIST_WORKING_DIR", "1")
	return t.TempDir()
}

// checkEphemeralSchema is checkResourceSchema for ephemeral resources:
// every attribute documented, the secret sensitive.
func checkEphemeralSchema(t *testing.T, e ephemeral.EphemeralResource) {
	t.Helper()
	resp := &ephemeral.SchemaResponse{}
	e.Schema(context.Background(), ephemeral.SchemaRequest{}, resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("Schema: %v", resp.Diagnostics)
	}
	if d := resp.Schema.ValidateImplementation(context.Background()); d.HasError() {
		t.Fatalf("ValidateImplementation: %v", d)
	}
	if resp.Schema.MarkdownDescription == "" {
		t.Error("ephemeral resource has no MarkdownDescription")
	}
	checkDescriptions(t, "", reflect.ValueOf(resp.Schema.Attributes))
	if tok, ok := resp.Schema.Attributes["token"]; !ok || !tok.IsSensitive() || !tok.IsComputed() {
		t.Error("token is not a computed, sensitive attribute")
	}
}
