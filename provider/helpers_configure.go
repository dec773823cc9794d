package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

// configuredResource is embedded by every resource and configuredDataSource
// by every data source: they all take the same client from the provider.
type configuredResource struct {
	client *client.Client
}

func (r *configuredResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

type configuredDataSource struct {
	client *client.Client
}

func (d *configuredDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

// clientFromProviderData is what every resource and data source Configure
// calls: nil provider data (the provider is not configured yet) leaves the
// client nil without an error.
func clientFromProviderData(data any, diags *diag.Diagnostics) *client.Client {
	if data == nil {
		return nil
	}
	c, ok := data.(*client.Client)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *client.Client, got %T. This is a bug in the provider; please report it.", data))
		return nil
	}
	return c
}

// requireClient reports the one diagnostic an operation gets when it runs
// before the provider was configured.
func requireClient(c *client.Client, diags *diag.Diagnostics) bool {
	if c == nil {
		diags.AddError("Provider not configured",
			"The sirsi provider has not been configured, usually because its endpoint or token depends on a value that is not known yet.")
		return false
	}
	return true
}
