// Package provider is the Terraform provider "sirsi": its configuration,
// resources and data sources. It only maps between Terraform models and the
// ManagementService API; connecting, authenticating and retrying live in
// internal/client.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/providervalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

// Environment variables read when the provider block leaves an attribute
// out, so a configuration runs unchanged in Terraform Cloud.
const (
	envEndpoint = "SIRSI_ENDPOINT"
	envToken    = "SIRSI_TOKEN"
	// envOIDCToken, then envTFCToken (the workload identity token HCP
	// Terraform sets in runs of a workspace with
	// TFC_WORKLOAD_IDENTITY_AUDIENCE), are oidc_token's fallbacks.
	envOIDCToken  = "SIRSI_OIDC_TOKEN"
	envTFCToken   = "TFC_WORKLOAD_IDENTITY_TOKEN"
	envCACertPEM  = "SIRSI_CA_CERT_PEM"
	envCACertFile = "SIRSI_CA_CERT_FILE"
	envInsecure   = "SIRSI_INSECURE_SKIP_VERIFY"
	// envInsecureDeprecated is envInsecure's former name, which the
	// server read as "serve plaintext": still read, with a warning.
	envInsecureDeprecated = "SIRSI_INSECURE"
	envTenantID           = "SIRSI_TENANT_ID"
)

// insecureEnv is the variable that says whether to skip verification, and
// its value: the current name, else the deprecated one.
func insecureEnv() (name, value string) {
	if s := os.Getenv(envInsecure); s != "" {
		return envInsecure, s
	}
	return envInsecureDeprecated, os.Getenv(envInsecureDeprecated)
}

// defaultIdentityTimeout bounds the connection check in Configure: an
// unreachable endpoint is retried (it is Unavailable) until then, and then
// reported once.
const defaultIdentityTimeout = 30 * time.Second

var (
	_ provider.Provider                       = (*sirsiProvider)(nil)
	_ provider.ProviderWithConfigValidators   = (*sirsiProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*sirsiProvider)(nil)
)

type sirsiProvider struct {
	version string
	// identityTimeout is a field so tests of an unreachable endpoint need
	// not wait for the default.
	identityTimeout time.Duration
	// now is the clock resources compare expiry times with; tests move it.
	now func() time.Time
}

type providerModel struct {
	Endpoint   types.String `tfsdk:"endpoint"`
	Token      types.String `tfsdk:"token"`
	OIDCToken  types.String `tfsdk:"oidc_token"`
	CACertPEM  types.String `tfsdk:"ca_cert_pem"`
	CACertFile types.String `tfsdk:"ca_cert_file"`
	Insecure   types.Bool   `tfsdk:"insecure"`
	TenantID   types.String `tfsdk:"tenant_id"`
}

// New returns the provider factory providerserver.Serve expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &sirsiProvider{version: version, identityTimeout: defaultIdentityTimeout, now: time.Now}
	}
}

func (p *sirsiProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "sirsi"
	resp.Version = p.version
}

func (p *sirsiProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The `sirsi` provider manages SirsiNexus tenants, cloud accounts, optimization policies and tokens, and reads cost, inventory, recommendations and savings from the SirsiNexus control plane. Every attribute falls back to an environment variable, so a configuration runs unchanged in Terraform Cloud.\n\n" +
			"The provider writes logs only at the level Terraform shows them (`TF_LOG_PROVIDER`, else `TF_LOG`), and none when neither is set; " +
			"`TF_LOG_SDK`, `TF_LOG_SDK_PROTO`, `TF_LOG_SDK_FRAMEWORK` and `TF_LOG_PROVIDER_SIRSI` still set their own levels.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Address of the control plane: `https://host:port` (TLS), `http://host:port` (plaintext, for local development) or `host:port` (TLS). Falls back to `SIRSI_ENDPOINT`.",
			},
			"token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Operator token or tenant API token, sent as a bearer token on every call. Falls back to `SIRSI_TOKEN`. Conflicts with `oidc_token`.",
			},
			"oidc_token": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "A signed OpenID Connect token (a JWT) that a `sirsi_oidc_trust` of the tenant accepts, sent as the bearer token on every call instead of a stored API token: the caller acts with the trust's role in the trust's tenant. " +
					"Falls back to `" + envOIDCToken + "`, then to HCP Terraform's `" + envTFCToken + "` (set in runs of a workspace with `TFC_WORKLOAD_IDENTITY_AUDIENCE`), so a workspace needs no secret at all. Conflicts with `token`.",
			},
			"ca_cert_pem": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "PEM-encoded certificate authority trusted in addition to the system pool, for a control plane with a private CA. Falls back to `SIRSI_CA_CERT_PEM`.",
			},
			"ca_cert_file": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Path of a PEM file with certificate authorities trusted in addition to the system pool (what `agentd dev` prints). Falls back to `SIRSI_CA_CERT_FILE`.",
			},
			"insecure": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Skip verification of the control plane's TLS certificate. Only for development. Falls back to `SIRSI_INSECURE_SKIP_VERIFY` (`true`/`false`; the former name `SIRSI_INSECURE` still works, with a deprecation warning).",
			},
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Default tenant for tenant-scoped resources and data sources that leave `tenant_id` out. Falls back to `SIRSI_TENANT_ID`; with a tenant API token and neither set, the token's own tenant is used.",
			},
		},
	}
}

// ConfigValidators refuse token and oidc_token together at plan time.
func (p *sirsiProvider) ConfigValidators(context.Context) []provider.ConfigValidator {
	return []provider.ConfigValidator{providervalidator.Conflicting(path.MatchRoot("token"), path.MatchRoot("oidc_token"))}
}

// errConflictingCredentials: a token and an OIDC token both came from the
// environment.
var errConflictingCredentials = errors.New("token and oidc_token are mutually exclusive")

// bearerSetting settles which credential the provider sends: token
// (SIRSI_TOKEN) or oidc_token (SIRSI_OIDC_TOKEN, then
// TFC_WORKLOAD_IDENTITY_TOKEN). One configured in the provider block wins
// over the other's environment variables; two from the environment are an
// error naming them, as is none. The second result names where the
// credential came from, for diagnostics.
func bearerSetting(cfg providerModel) (string, string, error) {
	switch {
	case !cfg.Token.IsNull():
		return cfg.Token.ValueString(), "token", nil
	case !cfg.OIDCToken.IsNull():
		return cfg.OIDCToken.ValueString(), "oidc_token", nil
	}
	var oidcTok, oidcFrom string
	for _, env := range []string{envOIDCToken, envTFCToken} {
		if v := os.Getenv(env); v != "" {
			oidcTok, oidcFrom = v, env
			break
		}
	}
	tok := os.Getenv(envToken)
	switch {
	case tok != "" && oidcTok != "":
		return "", "", fmt.Errorf("%w: both %s and %s are set; unset one, or set token or oidc_token in the provider block", errConflictingCredentials, envToken, oidcFrom)
	case tok != "":
		return tok, envToken, nil
	case oidcTok != "":
		return oidcTok, oidcFrom, nil
	}
	return "", "", fmt.Errorf("token (or the %s environment variable) or oidc_token (or the %s or %s environment variables)", envToken, envOIDCToken, envTFCToken)
}

// stringSetting is the configured value, else the environment variable.
func stringSetting(v types.String, env string) string {
	if !v.IsNull() {
		return v.ValueString()
	}
	return os.Getenv(env)
}

func (p *sirsiProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// A value that comes from another resource is unknown until apply;
	// Terraform configures the provider again once it is known.
	if cfg.Endpoint.IsUnknown() || cfg.Token.IsUnknown() || cfg.OIDCToken.IsUnknown() || cfg.CACertPEM.IsUnknown() ||
		cfg.CACertFile.IsUnknown() || cfg.Insecure.IsUnknown() || cfg.TenantID.IsUnknown() {
		tflog.Debug(ctx, "provider configuration has unknown values; not configuring yet")
		return
	}

	ccfg := client.Config{
		Endpoint:   stringSetting(cfg.Endpoint, envEndpoint),
		CACertPEM:  stringSetting(cfg.CACertPEM, envCACertPEM),
		CACertFile: stringSetting(cfg.CACertFile, envCACertFile),
		TenantID:   stringSetting(cfg.TenantID, envTenantID),
		UserAgent:  fmt.Sprintf("terraform-provider-sirsi/%s terraform/%s", p.version, req.TerraformVersion),
	}
	if !cfg.Insecure.IsNull() {
		ccfg.Insecure = cfg.Insecure.ValueBool()
	} else if name, s := insecureEnv(); s != "" {
		if name == envInsecureDeprecated {
			resp.Diagnostics.AddAttributeWarning(path.Root("insecure"), "Deprecated environment variable "+envInsecureDeprecated,
				fmt.Sprintf("%s is deprecated: set %s instead (same meaning: skip verification of the control plane's certificate). "+
					"agentd server reads its own meaning of the old name, serving plaintext, from SIRSI_PLAINTEXT.", envInsecureDeprecated, envInsecure))
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("insecure"), "Invalid "+name,
				fmt.Sprintf("The environment variable %s must be true or false, not %q.", name, s))
			return
		}
		ccfg.Insecure = b
	}

	var missing []string
	if ccfg.Endpoint == "" {
		missing = append(missing, fmt.Sprintf("endpoint (or the %s environment variable)", envEndpoint))
	}
	tok, tokFrom, tokErr := bearerSetting(cfg)
	switch {
	case errors.Is(tokErr, errConflictingCredentials):
		resp.Diagnostics.AddAttributeError(path.Root("oidc_token"), "Conflicting credentials", tokErr.Error())
		return
	case tokErr != nil:
		missing = append(missing, tokErr.Error())
	}
	ccfg.Token = tok
	if len(missing) > 0 {
		resp.Diagnostics.AddError("Missing provider configuration",
			"The sirsi provider needs "+strings.Join(missing, " and ")+" to reach the SirsiNexus control plane. "+
				"Set them in the provider block or in the environment.")
		return
	}

	c, err := client.New(ctx, ccfg)
	if err != nil {
		resp.Diagnostics.AddError("Invalid provider configuration", err.Error())
		return
	}
	identity, err := p.checkIdentity(ctx, c)
	if err != nil {
		_ = c.Close()
		if client.IsUnauthenticated(err) {
			attr := "token"
			if tokFrom != "token" && tokFrom != envToken {
				attr = "oidc_token"
			}
			resp.Diagnostics.AddAttributeError(path.Root(attr), "Authentication failed",
				fmt.Sprintf("The control plane at %s refused the credential from %s: %s", ccfg.Endpoint, tokFrom, client.ErrorDetail(err)))
			return
		}
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Cannot reach the SirsiNexus control plane",
			fmt.Sprintf("Checking the connection to %s failed: %s", ccfg.Endpoint, client.ErrorDetail(err)))
		return
	}
	if c.DefaultTenantID == "" {
		c.DefaultTenantID = identity.GetTenantId()
	}
	tflog.Debug(ctx, "configured sirsi provider", map[string]any{"endpoint": ccfg.Endpoint, "actor": identity.GetActor(), "tenant_id": c.DefaultTenantID})
	resp.ResourceData = c
	resp.DataSourceData = c
	resp.EphemeralResourceData = c
}

func (p *sirsiProvider) checkIdentity(ctx context.Context, c *client.Client) (*sirsiv1.GetIdentityResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, p.identityTimeout)
	defer cancel()
	return c.Management.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{})
}

func (p *sirsiProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewTenantResource,
		NewCloudAccountResource,
		NewOIDCTrustResource,
		NewWebhookResource,
		p.newEnrollmentTokenResource,
		NewApiTokenResource,
		NewOptimizationPolicyResource,
		NewRecommendationApprovalResource,
		NewActionPlanApprovalResource,
	}
}

// EphemeralResources are the secrets a run opens without writing them to
// state (Terraform 1.10 and later; older versions do not ask for them).
func (p *sirsiProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		NewEnrollmentTokenEphemeral,
		NewApiTokenEphemeral,
	}
}

func (p *sirsiProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewTenantDataSource,
		NewAgentsDataSource,
		NewCostSummaryDataSource,
		NewResourcesDataSource,
		NewRecommendationsDataSource,
		NewSavingsDataSource,
		NewPriceDataSource,
		NewActionPlansDataSource,
		NewRecommendedSizeDataSource,
		NewAuditEventsDataSource,
	}
}
