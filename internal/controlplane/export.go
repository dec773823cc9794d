package controlplane

import (
	"errors"

	"google.golang.org/grpc"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// sendError is a failed Send: the stream's own status, not the store's.
type sendError struct{ err error }

func (e sendError) Error() string { return e.err.Error() }
func (e sendError) Unwrap() error { return e.err }

// ExportTenant streams the store's snapshot of the tenant, one record per
// message (store.Store.ExportTenant).
func (s *Server) ExportTenant(req *sirsiv1.ExportTenantRequest, stream grpc.ServerStreamingServer[sirsiv1.ExportTenantResponse]) error {
	var e validation.Errors
	e.Check("tenant_id", validation.ID(req.TenantId))
	if err := errOrInvalid(&e); err != nil {
		return err
	}
	ctx := stream.Context()
	err := s.st.ExportTenant(ctx, req.TenantId, func(table string, record []byte) error {
		if err := stream.Send(&sirsiv1.ExportTenantResponse{Table: table, Record: string(record)}); err != nil {
			return sendError{err}
		}
		return nil
	})
	var se sendError
	if errors.As(err, &se) {
		return se.err
	}
	if err != nil {
		return s.storeError(ctx, "export tenant", err)
	}
	return nil
}
