package controlplane

import (
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// Every RPC of the service descriptor has exactly one rule, and the table
// names nothing the service does not have.
func TestEveryMethodHasARule(t *testing.T) {
	sd := sirsiv1.File_sirsi_v1_management_proto.Services().ByName("ManagementService")
	methods := sd.Methods()
	seen := map[string]bool{}
	for i := 0; i < methods.Len(); i++ {
		full := "/" + string(sd.FullName()) + "/" + string(methods.Get(i).Name())
		seen[full] = true
		r, ok := rules[full]
		if !ok {
			t.Errorf("%s has no authorisation rule", full)
			continue
		}
		if !r.operator && r.role == sirsiv1.Role_ROLE_UNSPECIFIED {
			t.Errorf("%s: nobody may call it", full)
		}
	}
	for m := range rules {
		if !seen[m] {
			t.Errorf("rule for %s, which ManagementService does not have", m)
		}
	}
}
