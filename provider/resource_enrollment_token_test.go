package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

func TestEnrollmentTokenResourceSchema(t *testing.T) {
	checkResourceSchema(t, New("test")().(*sirsiProvider).newEnrollmentTokenResource())
}

func TestEnrollmentTokenKeepsSecretOnRead(t *testing.T) {
	expires := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	api := &sirsiv1.EnrollmentToken{
		Id: "et-1", TenantId: "ten-1", CloudAccountId: "ca-1",
		Ttl: durationpb.New(24 * time.Hour), MaxUses: 3, Uses: 1,
		ExpireTime: timestamppb.New(expires),
	}
	m := enrollmentTokenModel{Token: types.StringValue("secret"), TTL: types.StringValue("1440m")}
	m.fromAPI(api)
	if m.Token.ValueString() != "secret" {
		t.Errorf("token = %v, want the one from state", m.Token)
	}
	if m.TTL.ValueString() != "1440m" {
		t.Errorf("ttl = %v, want the configured spelling kept", m.TTL)
	}
	if m.MaxUses.ValueInt64() != 3 || m.Uses.ValueInt64() != 1 || m.ExpiresAt.ValueString() != "2026-11-25T00:00:00Z" {
		t.Errorf("model = %+v", m)
	}

	imported := enrollmentTokenModel{Token: types.StringNull(), TTL: types.StringNull()}
	imported.fromAPI(api)
	if !imported.Token.IsNull() || imported.TTL.ValueString() != "24h" {
		t.Errorf("after import: token %v ttl %v, want null and 24h", imported.Token, imported.TTL)
	}

	created := enrollmentTokenModel{Token: types.StringUnknown(), TTL: types.StringValue("24h")}
	api.Token = "sirsi_et_abc"
	created.fromAPI(api)
	if created.Token.ValueString() != "sirsi_et_abc" {
		t.Errorf("token after create = %v", created.Token)
	}
}

func TestEnrollmentTokenExpired(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    types.String
		want bool
	}{
		{types.StringValue("2026-11-24T11:59:59Z"), true},
		{types.StringValue("2026-11-24T12:00:00Z"), true},
		{types.StringValue("2026-11-24T12:00:01Z"), false},
		{types.StringNull(), false},
		{types.StringUnknown(), false},
		{types.StringValue("yesterday"), false},
	} {
		if got := expired(tc.v, now); got != tc.want {
			t.Errorf("expired(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour:                   "24h",
		90 * time.Minute:                 "1h30m",
		30 * time.Minute:                 "30m",
		90 * time.Second:                 "1m30s",
		time.Hour + time.Second:          "1h0m1s",
		8760 * time.Hour:                 "8760h",
		45 * time.Second:                 "45s",
		2*time.Hour + 30*time.Minute + 0: "2h30m",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func enrollmentTokenConfig(env *accEnv, maxUses int) string {
	return env.tenantProvider() + fmt.Sprintf(`
resource "sirsi_cloud_account" "a" {
  account_id = "123456789012"
  regions    = ["us-east-1"]
  role_arn   = "arn:aws:iam::123456789012:role/sirsi-agent"
}

resource "sirsi_enrollment_token" "e" {
  cloud_account_id = sirsi_cloud_account.a.id
  ttl              = "2h"
  max_uses         = %d
}
`, maxUses)
}

func TestAccEnrollmentToken_lifecycle(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_enrollment_token", env.getEnrollmentToken),
		Steps: []tfresource.TestStep{
			{
				Config: enrollmentTokenConfig(env, 1),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_enrollment_token.e", plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_enrollment_token.e", tfjsonpath.New("token"), knownvalue.StringRegexp(regexp.MustCompile(`.{16,}`))),
					statecheck.ExpectSensitiveValue("sirsi_enrollment_token.e", tfjsonpath.New("token")),
					statecheck.ExpectKnownValue("sirsi_enrollment_token.e", tfjsonpath.New("ttl"), knownvalue.StringExact("2h")),
					statecheck.ExpectKnownValue("sirsi_enrollment_token.e", tfjsonpath.New("uses"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue("sirsi_enrollment_token.e", tfjsonpath.New("expires_at"), rfc3339Check{}),
				},
			},
			{
				ResourceName:            "sirsi_enrollment_token.e",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"token"},
				ImportStateIdFunc:       env.tenantScopedImportID("sirsi_enrollment_token.e"),
			},
			{
				Config: enrollmentTokenConfig(env, 5),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_enrollment_token.e", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_enrollment_token.e", tfjsonpath.New("max_uses"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue("sirsi_enrollment_token.e", tfjsonpath.New("token"), knownvalue.NotNull()),
				},
			},
		},
	})
}

func TestAccEnrollmentToken_outOfBandDelete(t *testing.T) {
	env := testAccStart(t)
	config := enrollmentTokenConfig(env, 1)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkDestroyed("sirsi_enrollment_token", env.getEnrollmentToken),
		Steps: []tfresource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					for _, id := range env.enrollmentTokenIDs(t) {
						if _, err := env.admin.DeleteEnrollmentToken(context.Background(), &sirsiv1.DeleteEnrollmentTokenRequest{TenantId: env.tenantID, Id: id}); err != nil {
							t.Fatalf("deleting the enrollment token out of band: %v", err)
						}
					}
				},
				Config: config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_enrollment_token.e", plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccEnrollmentToken_invalid(t *testing.T) {
	env := testAccStart(t)
	cfg := func(attrs string) string {
		return env.tenantProvider() + "resource \"sirsi_enrollment_token\" \"e\" {\n  cloud_account_id = \"acc-1\"\n" + attrs + "\n}\n"
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{Config: cfg(`ttl = "30s"`), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)ttl.*outside 1m..720h`)},
			{Config: cfg(`ttl = "1 day"`), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)ttl.*not a duration`)},
			{Config: cfg(`max_uses = 0`), PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)max_uses.*between 1 and 1000`)},
		},
	})
}

// An expired token is replaced by the next apply. The second step runs the
// provider with its clock 3h ahead, past the 2h token's expiry; with that
// clock even the replacement counts as expired, so its plan after apply is
// not empty. The last step, at the real time, plans nothing.
func TestAccEnrollmentToken_expiredIsReplaced(t *testing.T) {
	env := testAccStart(t)
	later := func() time.Time { return time.Now().Add(3 * time.Hour) }
	laterProvider := &sirsiProvider{version: "test", identityTimeout: defaultIdentityTimeout, now: later}
	config := enrollmentTokenConfig(env, 1)
	var first string
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:     func() { testAccPreCheck(t) },
		CheckDestroy: env.checkDestroyed("sirsi_enrollment_token", env.getEnrollmentToken),
		Steps: []tfresource.TestStep{
			{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Config:                   config,
				Check:                    captureAttr("sirsi_enrollment_token.e", "id", &first),
			},
			{
				ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){"sirsi": providerserver.NewProtocol6WithError(laterProvider)},
				Config:                   config,
				ExpectNonEmptyPlan:       true,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("sirsi_enrollment_token.e", plancheck.ResourceActionDestroyBeforeCreate),
					plancheck.ExpectUnknownValue("sirsi_enrollment_token.e", tfjsonpath.New("token")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("sirsi_enrollment_token.e", tfjsonpath.New("token"), knownvalue.NotNull()),
				},
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources["sirsi_enrollment_token.e"].Primary.ID; got == first {
						return fmt.Errorf("enrollment token %s was kept after it expired", got)
					}
					// The expired token was deleted, not just forgotten.
					if err := env.getEnrollmentToken(context.Background(), first); !client.IsNotFound(err) {
						return fmt.Errorf("expired enrollment token %s: %w, want NotFound", first, err)
					}
					return nil
				},
			},
			{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Config:                   config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
		},
	})
}
