package controlplane_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane/cptest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

// Page tokens are signed and bound to the list, its tenant and its
// filters: a token works for the query it was issued for (at any page
// size, on another server on the same database), and a token used for
// another tenant or other filters, an edited one, or the store's own
// unsigned continuation is refused with InvalidArgument.
func TestPageTokensSignedAndBound(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sirsi.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	const operator = "sxo-page-token-test-operator"
	one := cptest.Start(t, cptest.WithStore(st), cptest.WithOperatorToken(operator))
	two := cptest.Start(t, cptest.WithStore(st), cptest.WithOperatorToken(operator))
	a, b := one.NewTenant(t, "alpha"), one.NewTenant(t, "bravo")

	first, err := one.Client.ListApiTokens(ctx, &sirsiv1.ListApiTokensRequest{TenantId: a.ID, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	tok := first.NextPageToken
	if tok == "" {
		t.Fatal("no next page token after 1 of 3 tokens")
	}
	// The other server on the same database holds the same key.
	next, err := two.Client.ListApiTokens(ctx, &sirsiv1.ListApiTokensRequest{TenantId: a.ID, PageSize: 2, PageToken: tok})
	if err != nil || len(next.ApiTokens) != 2 || next.ApiTokens[0].Id == first.ApiTokens[0].Id {
		t.Fatalf("second page at the other server: %v, %v", next, err)
	}
	inner, _, _ := strings.Cut(tok, ".")
	refused := func(name string, err error) {
		t.Helper()
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "page_token") {
			t.Errorf("%s: %v, want InvalidArgument naming page_token", name, err)
		}
	}
	_, err = one.Client.ListApiTokens(ctx, &sirsiv1.ListApiTokensRequest{TenantId: b.ID, PageSize: 1, PageToken: tok})
	refused("another tenant's token", err)
	_, err = one.Client.ListApiTokens(ctx, &sirsiv1.ListApiTokensRequest{TenantId: a.ID, PageToken: inner})
	refused("the unsigned continuation", err)
	edited := []byte(tok)
	edited[len(inner)/2] ^= 1
	_, err = one.Client.ListApiTokens(ctx, &sirsiv1.ListApiTokensRequest{TenantId: a.ID, PageToken: string(edited)})
	refused("an edited token", err)
	_, err = one.Client.ListEnrollmentTokens(ctx, &sirsiv1.ListEnrollmentTokensRequest{TenantId: a.ID, PageToken: tok})
	refused("another list's token", err)

	// Filters: a token of the ok-outcome audit list does not continue the
	// unfiltered list or another actor's.
	audit, err := a.Admin.ListAuditEvents(ctx, &sirsiv1.ListAuditEventsRequest{TenantId: a.ID, Outcome: "ok", PageSize: 1})
	if err != nil || audit.NextPageToken == "" {
		t.Fatalf("audit first page: %v, %v", audit, err)
	}
	if _, err := a.Admin.ListAuditEvents(ctx, &sirsiv1.ListAuditEventsRequest{TenantId: a.ID, Outcome: "ok", PageToken: audit.NextPageToken}); err != nil {
		t.Fatalf("audit next page with its own filter: %v", err)
	}
	_, err = a.Admin.ListAuditEvents(ctx, &sirsiv1.ListAuditEventsRequest{TenantId: a.ID, PageToken: audit.NextPageToken})
	refused("the token without its filter", err)
	_, err = a.Admin.ListAuditEvents(ctx, &sirsiv1.ListAuditEventsRequest{TenantId: a.ID, Outcome: "ok", Actor: "someone", PageToken: audit.NextPageToken})
	refused("the token with another filter", err)
}
