package controlplane

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/oidcverify"
)

// authenticateOIDC verifies a JWT bearer against the OIDC trusts naming
// its issuer (docs/security.md). The token is the credential on every
// call; there is no session to exchange it for (see the docs for why).
func (s *Server) authenticateOIDC(ctx context.Context, tok string) (*Principal, error) {
	iss, err := oidcverify.Issuer(tok)
	if err != nil {
		return nil, s.oidcRefused(ctx, "", err)
	}
	trusts, err := s.st.LookupOIDCTrusts(ctx, iss)
	if err != nil {
		return nil, s.internal(ctx, "look up OIDC trusts", err)
	}
	if len(trusts) == 0 {
		// The issuer is the token's claim, unverified: it is not logged,
		// and no request goes to it.
		return nil, s.oidcRefused(ctx, "", &oidcverify.Refusal{Reason: oidcverify.ReasonNoTrust, Detail: "no OIDC trust names the token's issuer"})
	}
	id, err := s.oidc.Verify(ctx, tok, iss, trusts)
	if err != nil {
		return nil, s.oidcRefused(ctx, iss, err)
	}
	return &Principal{TenantID: id.Trust.TenantId, Role: id.Trust.Role, ExpireTime: timestamppb.New(id.Expiry), OIDC: id}, nil
}

// oidcRefused logs why a token was refused (never the token) and returns
// the caller's Unauthenticated, which names only the reason: the details
// (claim values, trust names) stay in the log. issuer is set only once a
// trust names it. The caller's source is charged by authFailed like any
// refused credential.
func (s *Server) oidcRefused(ctx context.Context, issuer string, err error) error {
	var r *oidcverify.Refusal
	if !errors.As(err, &r) {
		r = &oidcverify.Refusal{Reason: oidcverify.ReasonMalformed, Detail: err.Error()}
	}
	s.metrics.oidcRefusals.WithLabelValues(r.Reason).Inc()
	if src := sourceHost(ctx); s.logAllowed(src) {
		s.log.Warn("refused an OIDC token", "reason", r.Reason, "detail", r.Detail, "issuer", issuer,
			"source", src, "request_id", requestID(ctx))
	}
	return status.Errorf(codes.Unauthenticated, "OIDC token refused: %s (request id %s)", r.Reason, requestID(ctx))
}

// oidcAuditDetail names what an OIDC caller proved: issuer, subject and
// the bound claims that matched, sorted so the entry is stable.
func oidcAuditDetail(id *oidcverify.Identity) string {
	names := make([]string, 0, len(id.Matched))
	for k := range id.Matched {
		names = append(names, k)
	}
	sort.Strings(names)
	claims := make([]string, len(names))
	for i, k := range names {
		claims[i] = fmt.Sprintf("%s=%q", k, id.Matched[k])
	}
	return fmt.Sprintf("oidc issuer=%q subject=%q claims: %s", id.Issuer, id.Subject, strings.Join(claims, " "))
}
