package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
)

func TestEnrollmentTokenEphemeralSchema(t *testing.T) {
	checkEphemeralSchema(t, NewEnrollmentTokenEphemeral())
}

// An ephemeral enrollment token is in no file Terraform wrote; one kept
// past close (the default) enrolls an agent after the run, and one opened
// with revoke_on_close is gone when the run ends.
func TestAccEnrollmentTokenEphemeral_enrollsAfterRunNeverOnDisk(t *testing.T) {
	env := testAccStart(t, cptest.WithAgentService())
	account := env.createCloudAccount(t, "222222222222")
	dir := keepWorkingDir(t)
	opened := &openedSecrets{}
	cfg := func(extra string) string {
		return env.tenantProvider() + fmt.Sprintf(`
ephemeral "sirsi_enrollment_token" "agent" {
  cloud_account_id = %q
  ttl              = "30m"
%s
}

# Something has to use the token for Terraform to open it; a secret
# store's write-only argument would, outside this test.
data "sirsi_agents" "a" {
  lifecycle {
    precondition {
      condition     = startswith(ephemeral.sirsi_enrollment_token.agent.expires_at, "20") && length(ephemeral.sirsi_enrollment_token.agent.token) > 16
      error_message = "the enrollment token was not opened"
    }
  }
}
`, account, extra)
	}
	var kept []openedSecret
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		TerraformVersionChecks:   requireEphemeral,
		ProtoV6ProviderFactories: opened.factories(),
		WorkingDir:               dir,
		Steps: []tfresource.TestStep{
			{
				Config:      strings.Replace(cfg(""), account, "no-such-account", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Opening enrollment token for cloud account no-such-account failed`),
			},
			{
				Config:      cfg("  max_uses = 0\n"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)max_uses.*between 1 and 1000`),
			},
			{
				Config: cfg(""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					noOpenedSecretIn{dir: dir, opened: opened},
				}},
			},
			{
				PreConfig: func() { kept = opened.all() },
				Config:    cfg("  revoke_on_close = true\n"),
			},
		},
	})
	all := opened.all()
	if err := assertNoSecretsIn(dir, all); err != nil {
		t.Error(err)
	}
	if len(kept) == 0 || len(all) <= len(kept) {
		t.Fatalf("%d tokens opened with revoke_on_close unset, %d in all: want some of each", len(kept), len(all))
	}
	// Every token opened without revoke_on_close still exists; an agent
	// enrolls with the last of them after Terraform has finished.
	for _, s := range kept {
		if _, err := env.admin.GetEnrollmentToken(context.Background(), &sirsiv1.GetEnrollmentTokenRequest{TenantId: env.tenantID, Id: s.id}); err != nil {
			t.Errorf("enrollment token %s kept past close: %v", s.id, err)
		}
	}
	_, csr := cptest.NewCSR(t)
	resp, err := env.cp.DialAgent(t, nil).Enroll(context.Background(), &sirsiv1.EnrollRequest{
		EnrollmentToken: kept[len(kept)-1].token, CsrPem: csr, Hostname: "after-the-run", Version: "0.0.0-test",
	})
	if err != nil {
		t.Fatalf("enrolling with the ephemeral token after the run: %v", err)
	}
	if resp.GetTenantId() != env.tenantID {
		t.Errorf("enrolled into tenant %s, want %s", resp.GetTenantId(), env.tenantID)
	}
	for _, s := range all[len(kept):] {
		_, err := env.admin.GetEnrollmentToken(context.Background(), &sirsiv1.GetEnrollmentTokenRequest{TenantId: env.tenantID, Id: s.id})
		if !client.IsNotFound(err) {
			t.Errorf("enrollment token %s opened with revoke_on_close: %v, want NotFound (revoked)", s.id, err)
		}
	}
}
