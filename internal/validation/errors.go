package validation

import (
	"errors"
	"strings"
)

// FieldError is one rejected field: Field is the request's field path in
// proto names (optimization_policy.rightsizing.lookback_days, labels["env"]).
type FieldError struct {
	Field  string
	Reason string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// Errors collects every field problem of one request so a caller learns about
// all of them at once rather than one per round trip.
type Errors struct {
	list []FieldError
}

// Add records a problem with field.
func (e *Errors) Add(field, reason string) {
	e.list = append(e.list, FieldError{Field: field, Reason: reason})
}

// Check records err (from one of this package's checks) against field; nil
// is ignored so calls chain without ifs.
func (e *Errors) Check(field string, err error) {
	if err == nil {
		return
	}
	var fe FieldError
	if errors.As(err, &fe) {
		// A nested check already named a sub-field (a tag key): keep it.
		e.Add(join(field, fe.Field), fe.Reason)
		return
	}
	e.Add(field, err.Error())
}

// Fields returns the problems in the order they were found.
func (e *Errors) Fields() []FieldError {
	if e == nil {
		return nil
	}
	return append([]FieldError(nil), e.list...)
}

// Err returns nil when nothing was recorded, otherwise e itself.
func (e *Errors) Err() error {
	if e == nil || len(e.list) == 0 {
		return nil
	}
	return e
}

func (e *Errors) Error() string {
	parts := make([]string, len(e.list))
	for i, f := range e.list {
		parts[i] = f.Error()
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

func join(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	case strings.HasPrefix(child, "["):
		return parent + child
	default:
		return parent + "." + child
	}
}
