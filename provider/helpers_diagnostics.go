package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/client"
)

// concurrentChange is the diagnostic for an update refused because the
// object changed since it was read.
func concurrentChange(kind string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic(fmt.Sprintf("The %s was changed by someone else", kind),
		fmt.Sprintf("The control plane refused the update because the %s changed since Terraform last read it (%s). Run terraform apply again: the plan will be made against the current %s.", kind, client.ErrorDetail(err), kind))
}

// writeFailure is the diagnostic for a failed update or delete: a version
// conflict gets the advice of concurrentChange.
func writeFailure(op, kind, id string, err error) diag.Diagnostic {
	if client.IsAborted(err) {
		return concurrentChange(kind, err)
	}
	return client.ErrorDiagnostic(op+" "+kind+" "+id, err)
}

// approvalFailure explains a refused approval: FailedPrecondition means the
// recommendation is not open, which the user can act on.
func approvalFailure(what, approvable, id string, err error) (path.Path, string, string) {
	if status.Code(err) == codes.FailedPrecondition {
		return path.Root(what + "_id"), fmt.Sprintf("Cannot approve %s %s", what, id),
			fmt.Sprintf("The control plane refused the approval: %s. Only %s can be approved; read the status with the data source first.",
				client.ErrorDetail(err), approvable)
	}
	return path.Root(what + "_id"), fmt.Sprintf("Approving %s %s failed", what, id), client.ErrorDetail(err)
}
