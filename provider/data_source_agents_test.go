package provider

import (
	"fmt"
	"testing"
	"time"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

func TestAgentsDataSourceSchema(t *testing.T) {
	checkDataSourceDocs(t, NewAgentsDataSource())
}

func TestAgentFromAPI(t *testing.T) {
	a := agentFromAPI(&sirsiv1.Agent{
		Id: "ag-1", CloudAccountId: "ca-1", Version: "0.3.0", Hostname: "ip-10-0-0-1",
		Status:       sirsiv1.AgentStatus_AGENT_STATUS_STALE,
		LastSeenTime: timestamppb.New(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)),
	})
	if a.ID.ValueString() != "ag-1" || a.Status.ValueString() != "stale" || a.LastSeenAt.ValueString() != "2026-11-01T00:00:00Z" ||
		a.Hostname.ValueString() != "ip-10-0-0-1" || a.Version.ValueString() != "0.3.0" || a.CloudAccountID.ValueString() != "ca-1" {
		t.Errorf("agentFromAPI = %+v", a)
	}
	if never := agentFromAPI(&sirsiv1.Agent{Id: "ag-2"}); !never.LastSeenAt.IsNull() {
		t.Errorf("agent never seen: last_seen_at = %v", never.LastSeenAt)
	}
}

func TestAccAgentsDataSource_empty(t *testing.T) {
	env := testAccStart(t)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: env.tenantProvider() + "data \"sirsi_agents\" \"all\" {}\n",
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.sirsi_agents.all", tfjsonpath.New("agents"), knownvalue.ListSizeExact(0)),
				statecheck.ExpectKnownValue("data.sirsi_agents.all", tfjsonpath.New("tenant_id"), knownvalue.StringExact(env.tenantID)),
			},
		}},
	})
}

func TestAccAgentsDataSource_populated(t *testing.T) {
	env := testAccStart(t)
	prod := env.createCloudAccount(t, "123456789012")
	dev := env.createCloudAccount(t, "210987654321")
	env.seedAgent(t, prod, "ip-10-0-0-1", "1.2.3")
	env.seedAgent(t, prod, "ip-10-0-0-2", "1.2.3")
	env.seedAgent(t, dev, "ip-10-9-0-1", "1.2.4")
	now := env.cp.Clock.Now().UTC()
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: env.tenantProvider() + fmt.Sprintf(`
data "sirsi_agents" "all" {}

data "sirsi_agents" "dev" {
  cloud_account_id = %q
}
`, dev),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.sirsi_agents.all", tfjsonpath.New("agents"), knownvalue.ListSizeExact(3)),
				statecheck.ExpectKnownValue("data.sirsi_agents.dev", tfjsonpath.New("agents"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"cloud_account_id": knownvalue.StringExact(dev),
						"hostname":         knownvalue.StringExact("ip-10-9-0-1"),
						"version":          knownvalue.StringExact("1.2.4"),
						"status":           knownvalue.StringExact("connected"),
						"last_seen_at":     rfc3339Check{},
						"sweeps": knownvalue.MapExact(map[string]knownvalue.Check{
							"discovery": knownvalue.ObjectExact(map[string]knownvalue.Check{
								"last_success_at": knownvalue.StringExact(now.Add(-time.Minute).Format(time.RFC3339)),
								"last_failure_at": knownvalue.Null(), "last_error": knownvalue.Null(),
							}),
							"costs": knownvalue.ObjectExact(map[string]knownvalue.Check{
								"last_success_at": knownvalue.Null(),
								"last_failure_at": knownvalue.StringExact(now.Format(time.RFC3339)),
								"last_error":      knownvalue.StringExact(seededSweepError),
							}),
						}),
					}),
				})),
			},
		}},
	})
}
