package controlplane

import (
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// Every RPC of the service descriptor has a rule, and the table names
// nothing the service does not have.
func TestEveryMethodHasARule(t *testing.T) {
	sd := sirsiv1.File_sirsi_v1_management_proto.Services().ByName("ManagementService")
	methods := sd.Methods()
	seen := map[string]bool{}
	for i := 0; i < methods.Len(); i++ {
		full := "/" + string(sd.FullName()) + "/" + string(methods.Get(i).Name())
		seen[full] = true
		if _, ok := rules[full]; !ok {
			t.Errorf("%s has no authorisation rule", full)
		}
	}
	for m := range rules {
		if !seen[m] {
			t.Errorf("rule for %s, which ManagementService does not have", m)
		}
	}
}
