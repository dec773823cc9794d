package provider

import (
	"context"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

// privateVersionKey is where resources keep the object's version in private
// state: it is sent back on update and delete for optimistic concurrency,
// and users never need to see it.
const privateVersionKey = "version"

// privateSetter and privateGetter are the parts of the framework's private
// state every response type offers.
type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

func setVersion(ctx context.Context, p privateSetter, version int64, diags *diag.Diagnostics) {
	diags.Append(p.SetKey(ctx, privateVersionKey, []byte(strconv.FormatInt(version, 10)))...)
}

// getVersion returns the stored version, 0 (meaning "don't check") when
// there is none, as after an upgrade from state written without one.
func getVersion(ctx context.Context, p privateGetter, diags *diag.Diagnostics) int64 {
	b, d := p.GetKey(ctx, privateVersionKey)
	diags.Append(d...)
	if len(b) == 0 {
		return 0
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// stateModel is a pointer to a resource's model, which names its object in
// error messages.
type stateModel[M any] interface {
	*M
	objectID() string
}

// readInto is the Read the resources share: fetch refreshes the state from
// the control plane, and an object the control plane no longer has is
// dropped from state so the next plan creates it again.
func readInto[M any, P stateModel[M]](ctx context.Context, c *client.Client, kind string, req resource.ReadRequest, resp *resource.ReadResponse, fetch func(ctx context.Context, state P) error) {
	if !requireClient(c, &resp.Diagnostics) {
		return
	}
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := fetch(ctx, P(&state))
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(client.ErrorDiagnostic("Reading "+kind+" "+P(&state).objectID(), err))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// deleteIgnoringNotFound is the Delete the resources share: an object that
// is already gone is what Delete wants, so NotFound is success.
func deleteIgnoringNotFound[M any, P stateModel[M]](ctx context.Context, c *client.Client, kind string, req resource.DeleteRequest, resp *resource.DeleteResponse, del func(ctx context.Context, state P) error) {
	if !requireClient(c, &resp.Diagnostics) {
		return
	}
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := del(ctx, P(&state)); err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.Append(writeFailure("Deleting", kind, P(&state).objectID(), err))
	}
}
