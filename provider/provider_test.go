package provider

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func resourceSchema(t *testing.T, r resource.Resource) rschema.Schema {
	t.Helper()
	resp := &resource.SchemaResponse{}
	r.Schema(context.Background(), resource.SchemaRequest{}, resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("Schema: %v", resp.Diagnostics)
	}
	return resp.Schema
}

// checkDescriptions walks attributes, nested ones included, and fails on
// any without a MarkdownDescription: the docs are generated from them.
func checkDescriptions(t *testing.T, prefix string, attrs reflect.Value) {
	t.Helper()
	iter := attrs.MapRange()
	for iter.Next() {
		name := prefix + iter.Key().String()
		a := iter.Value()
		desc := a.MethodByName("GetMarkdownDescription").Call(nil)[0].String()
		if desc == "" {
			t.Errorf("attribute %s has no MarkdownDescription", name)
		}
		if m := a.MethodByName("GetNestedObject"); m.IsValid() {
			checkDescriptions(t, name+".", m.Call(nil)[0].MethodByName("GetAttributes").Call(nil)[0])
		}
	}
}

func checkResourceSchema(t *testing.T, r resource.Resource) {
	t.Helper()
	s := resourceSchema(t, r)
	if d := s.ValidateImplementation(context.Background()); d.HasError() {
		t.Fatalf("ValidateImplementation: %v", d)
	}
	if s.MarkdownDescription == "" {
		t.Error("resource has no MarkdownDescription")
	}
	checkDescriptions(t, "", reflect.ValueOf(s.Attributes))
	id, ok := s.Attributes["id"]
	if !ok || !id.IsComputed() {
		t.Error("resource has no computed id")
	}
}

// checkDataSourceDocs also walks nested attributes, which the list
// items of data sources are.
func checkDataSourceDocs(t *testing.T, d datasource.DataSource) {
	t.Helper()
	resp := &datasource.SchemaResponse{}
	d.Schema(context.Background(), datasource.SchemaRequest{}, resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("Schema: %v", resp.Diagnostics)
	}
	if diags := resp.Schema.ValidateImplementation(context.Background()); diags.HasError() {
		t.Fatalf("ValidateImplementation: %v", diags)
	}
	if resp.Schema.MarkdownDescription == "" {
		t.Error("data source has no MarkdownDescription")
	}
	checkDescriptions(t, "", reflect.ValueOf(resp.Schema.Attributes))
}

// objectWith builds an object value of typ with the given attributes set
// and every other attribute null.
func objectWith(t *testing.T, typ tftypes.Type, set map[string]tftypes.Value) tftypes.Value {
	t.Helper()
	obj, ok := typ.(tftypes.Object)
	if !ok {
		t.Fatalf("%v is not an object type", typ)
	}
	vals := make(map[string]tftypes.Value, len(obj.AttributeTypes))
	for name, at := range obj.AttributeTypes {
		if v, ok := set[name]; ok {
			vals[name] = v
			continue
		}
		vals[name] = tftypes.NewValue(at, nil)
	}
	for name := range set {
		if _, ok := obj.AttributeTypes[name]; !ok {
			t.Fatalf("no attribute %q", name)
		}
	}
	return tftypes.NewValue(obj, vals)
}

func testClientWithTenant(tenant string) *client.Client {
	return &client.Client{DefaultTenantID: tenant}
}

// configure runs the provider's Configure with the given provider block.
func configure(t *testing.T, p *sirsiProvider, set map[string]tftypes.Value) *provider.ConfigureResponse {
	t.Helper()
	ctx := context.Background()
	sresp := &provider.SchemaResponse{}
	p.Schema(ctx, provider.SchemaRequest{}, sresp)
	raw := objectWith(t, sresp.Schema.Type().TerraformType(ctx), set)
	resp := &provider.ConfigureResponse{}
	p.Configure(ctx, provider.ConfigureRequest{TerraformVersion: "1.5.7", Config: tfsdk.Config{Schema: sresp.Schema, Raw: raw}}, resp)
	return resp
}

func clearSirsiEnv(t *testing.T) {
	for _, k := range []string{envEndpoint, envToken, envOIDCToken, envTFCToken, envCACertPEM, envCACertFile, envInsecure, envInsecureDeprecated, envTenantID} {
		t.Setenv(k, "")
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

func str(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

func TestProviderSchema(t *testing.T) {
	p := New("test")().(*sirsiProvider)
	resp := &provider.SchemaResponse{}
	p.Schema(context.Background(), provider.SchemaRequest{}, resp)
	if d := resp.Schema.ValidateImplementation(context.Background()); d.HasError() {
		t.Fatal(d)
	}
	checkDescriptions(t, "", reflect.ValueOf(resp.Schema.Attributes))
	if !resp.Schema.Attributes["token"].IsSensitive() {
		t.Error("token is not sensitive")
	}
}

func TestConfigureMissingEndpointAndToken(t *testing.T) {
	clearSirsiEnv(t)
	resp := configure(t, New("test")().(*sirsiProvider), nil)
	if resp.Diagnostics.ErrorsCount() != 1 {
		t.Fatalf("%d errors, want exactly 1: %v", resp.Diagnostics.ErrorsCount(), resp.Diagnostics)
	}
	detail := resp.Diagnostics.Errors()[0].Detail()
	for _, want := range []string{"endpoint", "SIRSI_ENDPOINT", "token", "SIRSI_TOKEN"} {
		if !contains(detail, want) {
			t.Errorf("diagnostic does not mention %s: %s", want, detail)
		}
	}
	if resp.ResourceData != nil {
		t.Error("provider data set despite the error")
	}
}

func TestConfigureMissingTokenOnly(t *testing.T) {
	clearSirsiEnv(t)
	t.Setenv(envEndpoint, "127.0.0.1:1")
	resp := configure(t, New("test")().(*sirsiProvider), nil)
	if resp.Diagnostics.ErrorsCount() != 1 {
		t.Fatalf("%d errors, want 1: %v", resp.Diagnostics.ErrorsCount(), resp.Diagnostics)
	}
	if d := resp.Diagnostics.Errors()[0].Detail(); !contains(d, "SIRSI_TOKEN") || contains(d, "SIRSI_ENDPOINT") {
		t.Errorf("diagnostic should name only the token: %s", d)
	}
}

func TestConfigureUnknownValuesDefer(t *testing.T) {
	clearSirsiEnv(t)
	resp := configure(t, New("test")().(*sirsiProvider), map[string]tftypes.Value{
		"endpoint": tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
	})
	if resp.Diagnostics.HasError() || resp.ResourceData != nil {
		t.Errorf("unknown endpoint: diags %v, data %v; want neither", resp.Diagnostics, resp.ResourceData)
	}
}

func TestConfigureBadInsecureEnv(t *testing.T) {
	clearSirsiEnv(t)
	t.Setenv(envInsecure, "sometimes")
	resp := configure(t, New("test")().(*sirsiProvider), map[string]tftypes.Value{"endpoint": str("127.0.0.1:1"), "token": str("t")})
	if resp.Diagnostics.ErrorsCount() != 1 || !contains(resp.Diagnostics.Errors()[0].Detail(), "SIRSI_INSECURE") {
		t.Errorf("diags = %v, want one naming SIRSI_INSECURE", resp.Diagnostics)
	}
}

// The old name still works, with a warning naming the new one; the new
// name wins when both are set.
func TestConfigureDeprecatedInsecureEnv(t *testing.T) {
	clearSirsiEnv(t)
	t.Setenv(envInsecureDeprecated, "sometimes")
	resp := configure(t, New("test")().(*sirsiProvider), map[string]tftypes.Value{"endpoint": str("127.0.0.1:1"), "token": str("t")})
	if resp.Diagnostics.ErrorsCount() != 1 || !contains(resp.Diagnostics.Errors()[0].Summary(), "Invalid SIRSI_INSECURE") ||
		resp.Diagnostics.WarningsCount() != 1 || !contains(resp.Diagnostics.Warnings()[0].Detail(), "set SIRSI_INSECURE_SKIP_VERIFY instead") {
		t.Errorf("diags = %v, want a deprecation warning and the error naming SIRSI_INSECURE", resp.Diagnostics)
	}
	t.Setenv(envInsecure, "maybe")
	resp = configure(t, New("test")().(*sirsiProvider), map[string]tftypes.Value{"endpoint": str("127.0.0.1:1"), "token": str("t")})
	if resp.Diagnostics.ErrorsCount() != 1 || !contains(resp.Diagnostics.Errors()[0].Summary(), "Invalid SIRSI_INSECURE_SKIP_VERIFY") || resp.Diagnostics.WarningsCount() != 0 {
		t.Errorf("diags = %v, want only the error naming SIRSI_INSECURE_SKIP_VERIFY", resp.Diagnostics)
	}
}

func TestConfigureInvalidEndpoint(t *testing.T) {
	clearSirsiEnv(t)
	resp := configure(t, New("test")().(*sirsiProvider), map[string]tftypes.Value{"endpoint": str("ftp://x:1"), "token": str("t")})
	if resp.Diagnostics.ErrorsCount() != 1 || !contains(resp.Diagnostics.Errors()[0].Detail(), "scheme") {
		t.Errorf("diags = %v, want one about the scheme", resp.Diagnostics)
	}
}

// The configured endpoint wins over SIRSI_ENDPOINT: the environment holds
// an invalid value that would be reported differently.
func TestConfigureUnreachableEndpointConfigWinsOverEnv(t *testing.T) {
	clearSirsiEnv(t)
	t.Setenv(envEndpoint, "not-an-endpoint")
	t.Setenv(envToken, "t")
	p := New("test")().(*sirsiProvider)
	p.identityTimeout = time.Second
	addr := closedAddr(t)
	resp := configure(t, p, map[string]tftypes.Value{"endpoint": str("http://" + addr)})
	if resp.Diagnostics.ErrorsCount() != 1 {
		t.Fatalf("%d errors, want 1: %v", resp.Diagnostics.ErrorsCount(), resp.Diagnostics)
	}
	d := resp.Diagnostics.Errors()[0]
	if d.Summary() != "Cannot reach the SirsiNexus control plane" || !contains(d.Detail(), addr) {
		t.Errorf("diagnostic = %q: %q", d.Summary(), d.Detail())
	}
}

// Acceptance test infrastructure: the provider in-process, a real control
// plane (cptest: SQLite in t.TempDir(), gRPC on loopback) per test, and the
// Terraform CLI built into bin/.

var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"sirsi": NewServer("test"),
}

// testAccPreCheck points terraform-plugin-testing at bin/terraform unless
// TF_ACC_TERRAFORM_PATH says otherwise: there is no network to download a
// CLI from.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	path := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if path == "" {
		abs, err := filepath.Abs(filepath.Join("..", "bin", "terraform"))
		if err != nil {
			t.Fatal(err)
		}
		path = abs
		t.Setenv("TF_ACC_TERRAFORM_PATH", path)
	}
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		t.Fatalf("no Terraform CLI at %s (TF_ACC_TERRAFORM_PATH): build it with make, or point the variable at one", path)
	}
}

// accEnv is one test's control plane with a tenant (and its admin token)
// for the tenant-scoped resources.
type accEnv struct {
	cp         *cptest.Env
	operator   sirsiv1.ManagementServiceClient
	admin      sirsiv1.ManagementServiceClient
	tenantID   string
	tenantName string
	adminToken string
}

func testAccStart(t *testing.T, opts ...cptest.Option) *accEnv {
	t.Helper()
	if os.Getenv(tfresource.EnvTfAcc) == "" {
		t.Skipf("acceptance tests run only with %s=1", tfresource.EnvTfAcc)
	}
	cp := cptest.Start(t, opts...)
	tn := cp.NewTenant(t, "acc-tenant")
	return &accEnv{
		cp: cp, operator: cp.Client, admin: tn.Admin,
		tenantID: tn.ID, tenantName: "acc-tenant", adminToken: tn.AdminToken,
	}
}

// operatorProvider is a provider block with the operator token, for tenants.
func (e *accEnv) operatorProvider() string {
	return fmt.Sprintf("provider \"sirsi\" {\n  endpoint = %q\n  token    = %q\n}\n", "http://"+e.cp.Endpoint, e.cp.OperatorToken)
}

// tenantProvider is a provider block with the tenant's admin token and
// tenant_id, for everything inside the tenant.
func (e *accEnv) tenantProvider() string {
	return fmt.Sprintf("provider \"sirsi\" {\n  endpoint  = %q\n  token     = %q\n  tenant_id = %q\n}\n", "http://"+e.cp.Endpoint, e.adminToken, e.tenantID)
}

// rfc3339Check is a knownvalue check for an RFC 3339 timestamp.
type rfc3339Check struct{}

func (rfc3339Check) CheckValue(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("expected an RFC 3339 string, got %T %v", v, v)
	}
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return fmt.Errorf("expected an RFC 3339 timestamp: %w", err)
	}
	return nil
}

func (rfc3339Check) String() string { return "RFC 3339 timestamp" }

// checkDestroyed is a CheckDestroy asking the API that every object of
// resource type typ in the final state is gone.
func (e *accEnv) checkDestroyed(typ string, get func(ctx context.Context, id string) error) func(*terraform.State) error {
	return func(s *terraform.State) error {
		for _, rs := range s.RootModule().Resources {
			if rs.Type != typ {
				continue
			}
			err := get(context.Background(), rs.Primary.ID)
			if err == nil {
				return fmt.Errorf("%s %s still exists", typ, rs.Primary.ID)
			}
			if !client.IsNotFound(err) {
				return fmt.Errorf("checking %s %s: %w", typ, rs.Primary.ID, err)
			}
		}
		return nil
	}
}

func (e *accEnv) checkTenantsDestroyed(s *terraform.State) error {
	return e.checkDestroyed("sirsi_tenant", func(ctx context.Context, id string) error {
		_, err := e.operator.GetTenant(ctx, &sirsiv1.GetTenantRequest{Id: id})
		return err
	})(s)
}

func (e *accEnv) getCloudAccount(ctx context.Context, id string) error {
	_, err := e.admin.GetCloudAccount(ctx, &sirsiv1.GetCloudAccountRequest{TenantId: e.tenantID, Id: id})
	return err
}

func (e *accEnv) getEnrollmentToken(ctx context.Context, id string) error {
	_, err := e.admin.GetEnrollmentToken(ctx, &sirsiv1.GetEnrollmentTokenRequest{TenantId: e.tenantID, Id: id})
	return err
}

func (e *accEnv) getAPIToken(ctx context.Context, id string) error {
	_, err := e.admin.GetApiToken(ctx, &sirsiv1.GetApiTokenRequest{TenantId: e.tenantID, Id: id})
	return err
}

// checkTenantTier asks the API what tier the tenant in state has.
func (e *accEnv) checkTenantTier(addr string, want sirsiv1.Tier) tfresource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		out, err := e.operator.GetTenant(context.Background(), &sirsiv1.GetTenantRequest{Id: rs.Primary.ID})
		if err != nil {
			return fmt.Errorf("reading tenant %s: %w", rs.Primary.ID, err)
		}
		if got := out.GetTenant().GetTier(); got != want {
			return fmt.Errorf("tenant %s has tier %s in the control plane, want %s", rs.Primary.ID, got, want)
		}
		return nil
	}
}

// checkTokenRole calls the control plane with the secret in state and
// checks who it says the caller is.
func (e *accEnv) checkTokenRole(addr string, want sirsiv1.Role) tfresource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		secret := rs.Primary.Attributes["token"]
		if secret == "" {
			return fmt.Errorf("%s has no token in state", addr)
		}
		c, err := client.New(context.Background(), client.Config{Endpoint: "http://" + e.cp.Endpoint, Token: secret, RetryTimeout: 5 * time.Second})
		if err != nil {
			return err
		}
		defer c.Close()
		id, err := c.Management.GetIdentity(context.Background(), &sirsiv1.GetIdentityRequest{})
		if err != nil {
			return fmt.Errorf("calling the control plane with the token from state: %w", err)
		}
		if id.GetRole() != want || id.GetTenantId() != e.tenantID {
			return fmt.Errorf("token from state is %s in tenant %s, want %s in %s", id.GetRole(), id.GetTenantId(), want, e.tenantID)
		}
		return nil
	}
}

// tenantScopedImportID builds "tenant_id/id" from the state.
func (e *accEnv) tenantScopedImportID(addr string) tfresource.ImportStateIdFunc {
	return func(s *terraform.State) (string, error) {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return "", fmt.Errorf("%s not in state", addr)
		}
		return rs.Primary.Attributes["tenant_id"] + "/" + rs.Primary.ID, nil
	}
}

func (e *accEnv) tenantIDByName(t *testing.T, name string) string {
	t.Helper()
	out, err := e.operator.GetTenant(context.Background(), &sirsiv1.GetTenantRequest{Name: name})
	if err != nil {
		t.Fatalf("looking up tenant %s: %v", name, err)
	}
	return out.GetTenant().GetId()
}

func (e *accEnv) accountIDByAWSAccount(t *testing.T, awsAccount string) string {
	t.Helper()
	out, err := e.admin.ListCloudAccounts(context.Background(), &sirsiv1.ListCloudAccountsRequest{TenantId: e.tenantID})
	if err != nil {
		t.Fatalf("listing cloud accounts: %v", err)
	}
	for _, a := range out.GetCloudAccounts() {
		if a.GetAccountId() == awsAccount {
			return a.GetId()
		}
	}
	t.Fatalf("no cloud account for AWS account %s", awsAccount)
	return ""
}

func (e *accEnv) createCloudAccount(t *testing.T, awsAccount string) string {
	t.Helper()
	out, err := e.admin.CreateCloudAccount(context.Background(), &sirsiv1.CreateCloudAccountRequest{CloudAccount: &sirsiv1.CloudAccount{
		TenantId: e.tenantID, AccountId: awsAccount, Regions: []string{"us-east-1"},
		RoleArn: "arn:aws:iam::" + awsAccount + ":role/sirsi-agent",
	}})
	if err != nil {
		t.Fatalf("creating cloud account %s: %v", awsAccount, err)
	}
	return out.GetCloudAccount().GetId()
}

// seedAgent writes an enrolled agent and its first heartbeat straight into
// the store, as enrollment and the agent's report would.
// seededSweepError is the costs sweep's failure seedAgent reports.
const seededSweepError = "costs sweep: GetCostAndUsage: ThrottlingException"

func (e *accEnv) seedAgent(t *testing.T, cloudAccountID, hostname, version string) {
	t.Helper()
	ctx := context.Background()
	ts := e.cp.Store.Tenant(e.tenantID)
	a, err := ts.CreateAgent(ctx, &sirsiv1.Agent{TenantId: e.tenantID, CloudAccountId: cloudAccountID, Hostname: hostname, Version: version})
	if err != nil {
		t.Fatalf("seeding agent %s: %v", hostname, err)
	}
	// Discovery succeeded a minute ago; costs has only failed.
	now := e.cp.Clock.Now()
	if _, err := ts.RecordHeartbeat(ctx, a.GetId(), store.Heartbeat{At: now, Version: version, Hostname: hostname,
		LastSweepTimes:    map[string]time.Time{"discovery": now.Add(-time.Minute)},
		LastSweepFailures: map[string]store.SweepFailure{"costs": {At: now, Error: seededSweepError}}}); err != nil {
		t.Fatalf("seeding heartbeat of %s: %v", hostname, err)
	}
}

func (e *accEnv) enrollmentTokenIDs(t *testing.T) []string {
	t.Helper()
	out, err := e.admin.ListEnrollmentTokens(context.Background(), &sirsiv1.ListEnrollmentTokensRequest{TenantId: e.tenantID})
	if err != nil {
		t.Fatalf("listing enrollment tokens: %v", err)
	}
	var ids []string
	for _, tok := range out.GetEnrollmentTokens() {
		ids = append(ids, tok.GetId())
	}
	if len(ids) == 0 {
		t.Fatal("no enrollment tokens to delete")
	}
	return ids
}

func (e *accEnv) apiTokenIDByDescription(t *testing.T, description string) string {
	t.Helper()
	out, err := e.admin.ListApiTokens(context.Background(), &sirsiv1.ListApiTokensRequest{TenantId: e.tenantID})
	if err != nil {
		t.Fatalf("listing API tokens: %v", err)
	}
	for _, tok := range out.GetApiTokens() {
		if tok.GetDescription() == description {
			return tok.GetId()
		}
	}
	t.Fatalf("no API token described %q", description)
	return ""
}

// captureAttr stores an attribute of a resource in state into *dst.
func captureAttr(addr, attr string, dst *string) tfresource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		*dst = rs.Primary.Attributes[attr]
		if *dst == "" {
			return fmt.Errorf("%s has no %s", addr, attr)
		}
		return nil
	}
}

func TestAccProvider_badToken(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config:      fmt.Sprintf("provider \"sirsi\" {\n  endpoint = %q\n  token = \"sirsi_wrong\"\n}\ndata \"sirsi_agents\" \"a\" {\n  tenant_id = %q\n}\n", "http://"+env.cp.Endpoint, env.tenantID),
			ExpectError: regexp.MustCompile(`(?s)Authentication failed.*refused\s+the\s+credential\s+from\s+token:\s+invalid\s+token`),
		}},
	})
}

func TestAccProvider_unreachableEndpoint(t *testing.T) {
	env := testAccStart(t)
	// A short identity check: the endpoint refuses connections, which is
	// retried as Unavailable until the check's deadline.
	quick := &sirsiProvider{version: "test", identityTimeout: 2 * time.Second, now: time.Now}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){"sirsi": providerserver.NewProtocol6WithError(quick)},
		Steps: []tfresource.TestStep{{
			Config:      fmt.Sprintf("provider \"sirsi\" {\n  endpoint = %q\n  token = %q\n}\ndata \"sirsi_agents\" \"a\" {}\n", "http://"+closedAddr(t), env.adminToken),
			ExpectError: regexp.MustCompile(`(?s)Cannot\s+reach\s+the\s+SirsiNexus\s+control\s+plane`),
		}},
	})
}

// Everything from the environment, over TLS with the CA from a file; the
// tenant comes from the tenant token itself.
func TestAccProvider_environmentAndTLS(t *testing.T) {
	env := testAccStart(t, cptest.WithTLS())
	t.Setenv(envEndpoint, "https://"+env.cp.Endpoint)
	t.Setenv(envToken, env.adminToken)
	t.Setenv(envCACertFile, env.cp.CACertFile)
	t.Setenv(envTenantID, "")
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: "provider \"sirsi\" {}\ndata \"sirsi_agents\" \"a\" {}\n",
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.sirsi_agents.a", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
			},
		}},
	})
}

// The configured value wins over the environment: the environment points
// at nothing, the provider block at the control plane (with the CA as PEM).
func TestAccProvider_configWinsOverEnvironment(t *testing.T) {
	env := testAccStart(t, cptest.WithTLS())
	t.Setenv(envEndpoint, "http://"+closedAddr(t))
	t.Setenv(envToken, "sirsi_wrong")
	t.Setenv(envInsecure, "false")
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: fmt.Sprintf(`
provider "sirsi" {
  endpoint    = %q
  token       = %q
  ca_cert_pem = %q
  tenant_id   = %q
}
data "sirsi_agents" "a" {}
`, "https://"+env.cp.Endpoint, env.adminToken, string(env.cp.CACertPEM), env.tenantID),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.sirsi_agents.a", tfjsonpath.New("agents"), knownvalue.ListSizeExact(0)),
			},
		}},
	})
}

func TestAccProvider_insecure(t *testing.T) {
	env := testAccStart(t, cptest.WithTLS())
	clearSirsiEnv(t)
	config := func(insecure bool) string {
		return fmt.Sprintf("provider \"sirsi\" {\n  endpoint  = %q\n  token     = %q\n  tenant_id = %q\n  insecure  = %t\n}\ndata \"sirsi_agents\" \"a\" {}\n",
			"https://"+env.cp.Endpoint, env.adminToken, env.tenantID, insecure)
	}
	quick := &sirsiProvider{version: "test", identityTimeout: 2 * time.Second, now: time.Now}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){"sirsi": providerserver.NewProtocol6WithError(quick)},
		Steps: []tfresource.TestStep{
			{
				// Without the CA the certificate is not trusted...
				Config:      config(false),
				ExpectError: regexp.MustCompile(`(?s)Cannot\s+reach.*certificate`),
			},
			{
				// ...unless verification is switched off.
				Config: config(true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.sirsi_agents.a", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
				},
			},
		},
	})
}

func TestRequireClient(t *testing.T) {
	var diags diag.Diagnostics
	if requireClient(nil, &diags) || diags.ErrorsCount() != 1 || diags.Errors()[0].Summary() != "Provider not configured" {
		t.Errorf("requireClient(nil) = %v", diags)
	}
	diags = nil
	if !requireClient(testClientWithTenant("t"), &diags) || diags.HasError() {
		t.Errorf("requireClient(client) = %v", diags)
	}
	if c := clientFromProviderData(nil, &diags); c != nil || diags.HasError() {
		t.Errorf("clientFromProviderData(nil) = %v, %v", c, diags)
	}
	if c := clientFromProviderData("not a client", &diags); c != nil || !diags.HasError() {
		t.Errorf("clientFromProviderData(string) = %v, %v", c, diags)
	}
}
