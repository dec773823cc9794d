package client

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// IsNotFound reports whether err is a gRPC NotFound.
func IsNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// IsAborted reports whether err is a gRPC Aborted, which the control plane
// returns when an update's version no longer matches the stored one.
func IsAborted(err error) bool { return status.Code(err) == codes.Aborted }

// IsUnauthenticated reports whether the server rejected the token.
func IsUnauthenticated(err error) bool {
	c := status.Code(err)
	return c == codes.Unauthenticated || c == codes.PermissionDenied
}

// ErrorDetail renders err for a person: the status message, then one line
// per field violation the server attached.
func ErrorDetail(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(st.Message())
	if st.Code() != codes.Unknown {
		fmt.Fprintf(&b, " (%s)", st.Code())
	}
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		for _, v := range br.GetFieldViolations() {
			fmt.Fprintf(&b, "\n  %s: %s", v.GetField(), v.GetDescription())
		}
	}
	return b.String()
}

// ErrorDiagnostic is how every resource and data source reports a failed
// call: the summary names the operation ("Creating tenant"), the detail
// carries the server's explanation.
func ErrorDiagnostic(operation string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic(operation+" failed", ErrorDetail(err))
}
