package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// invalid turns collected field problems into InvalidArgument with a
// BadRequest detail, one violation per field.
func invalid(errs *validation.Errors) error {
	fields := errs.Fields()
	br := &errdetails.BadRequest{}
	for _, f := range fields {
		// Reasons quote the input; protobuf strings must be UTF-8, and one
		// invalid byte would lose every field violation.
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: strings.ToValidUTF8(f.Field, "\uFFFD"), Description: strings.ToValidUTF8(f.Reason, "\uFFFD")})
	}
	st := status.New(codes.InvalidArgument, errs.Error())
	if withDetails, err := st.WithDetails(br); err == nil {
		st = withDetails
	}
	return st.Err()
}

// invalidField is invalid for a single field.
func invalidField(field, reason string) error {
	var e validation.Errors
	e.Add(field, reason)
	return invalid(&e)
}

// storeError maps a store error to a status. Domain errors keep their
// message (it names the object, never another tenant's); everything else
// is logged with the request id and hidden behind Internal.
func (s *Server) storeError(ctx context.Context, doing string, err error) error {
	var code codes.Code
	switch {
	case errors.Is(err, store.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, store.ErrAlreadyExists):
		code = codes.AlreadyExists
	case errors.Is(err, store.ErrVersionMismatch):
		code = codes.Aborted
	case errors.Is(err, store.ErrFailedPrecondition):
		code = codes.FailedPrecondition
	case errors.Is(err, store.ErrInvalidPageToken):
		return invalidField("page_token", "was not issued for this list")
	case errors.Is(err, store.ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	default:
		return s.internal(ctx, doing, err)
	}
	return status.Error(code, fmt.Sprintf("%s: %v", doing, err))
}

func (s *Server) internal(ctx context.Context, doing string, err error) error {
	id := requestID(ctx)
	s.log.Error("request failed", "request_id", id, "doing", doing, "error", err)
	return status.Errorf(codes.Internal, "internal error (request id %s)", id)
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
