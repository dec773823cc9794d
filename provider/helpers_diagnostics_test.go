package provider

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestWriteFailure(t *testing.T) {
	conflict := writeFailure("Updating", "cloud account", "ca-1", status.Error(codes.Aborted, "version 3 does not match 4"))
	if conflict.Summary() != "The cloud account was changed by someone else" {
		t.Errorf("version conflict: summary = %q", conflict.Summary())
	}
	other := writeFailure("Deleting", "optimization policy", "pol-1", status.Error(codes.PermissionDenied, "viewer token"))
	if other.Summary() != "Deleting optimization policy pol-1 failed" || !strings.Contains(other.Detail(), "viewer token") {
		t.Errorf("other error: %q: %q", other.Summary(), other.Detail())
	}
}

func TestConcurrentChangeDiagnostic(t *testing.T) {
	d := concurrentChange("tenant", status.Error(codes.Aborted, "version 3 does not match 4"))
	if d.Summary() != "The tenant was changed by someone else" {
		t.Errorf("summary = %q", d.Summary())
	}
	for _, want := range []string{"version 3 does not match 4", "apply again"} {
		if !strings.Contains(d.Detail(), want) {
			t.Errorf("detail %q does not contain %q", d.Detail(), want)
		}
	}
}
