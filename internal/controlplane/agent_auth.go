package controlplane

import (
	"context"
	"crypto/x509"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// agentCaller is an authenticated agent: who its certificate says it is,
// and the provider account id of its cloud account (for overwriting
// report payloads).
type agentCaller struct {
	id        pki.AgentIdentity
	accountID string
	principal *Principal
}

type agentCallerKey struct{}

// callerFrom is the agent agentGuard authenticated; handlers behind the
// guard always have one.
func callerFrom(ctx context.Context) *agentCaller {
	c, _ := ctx.Value(agentCallerKey{}).(*agentCaller)
	return c
}

// agentGuard authenticates every AgentService call but Enroll (which
// authenticates with its token and audits itself) by the client
// certificate, and audits and counts each refusal.
func (s *Server) agentGuard(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if info.FullMethod == sirsiv1.AgentService_Enroll_FullMethodName {
		return h(ctx, req)
	}
	c, reason, err := s.authenticateAgent(ctx)
	if err != nil {
		s.agent.authFailures.WithLabelValues(reason).Inc()
		var p *Principal
		tenant := ""
		if c != nil {
			p, tenant = c.principal, c.id.TenantID
		}
		// The agent port spends the same per-source budget as the
		// management port's refused tokens.
		if lerr := s.limitSource(ctx, sourceHost(ctx)); lerr != nil {
			err = lerr
		}
		s.auditRefused(ctx, auditEntry{principal: p, tenant: tenant, method: info.FullMethod, err: err})
		return nil, err
	}
	ctx = context.WithValue(withPrincipal(ctx, c.principal), agentCallerKey{}, c)
	return h(ctx, req)
}

// authenticateAgent checks the client certificate and the agent it names.
// On failure it returns a metric reason, and the caller when the
// certificate was one of ours (so the refusal is logged in its tenant).
// Until the chain is verified nothing in the certificate is believed.
func (s *Server) authenticateAgent(ctx context.Context) (*agentCaller, string, error) {
	if s.agent.ca == nil {
		return nil, "not_configured", status.Error(codes.Unimplemented, "AgentService is not served here")
	}
	pr, _ := peer.FromContext(ctx)
	var tlsInfo credentials.TLSInfo
	if pr != nil {
		tlsInfo, _ = pr.AuthInfo.(credentials.TLSInfo)
	}
	if len(tlsInfo.State.PeerCertificates) == 0 {
		return nil, "no_certificate", status.Error(codes.Unauthenticated, "no client certificate: every AgentService call but Enroll needs the certificate Enroll issued, over TLS")
	}
	if len(tlsInfo.State.VerifiedChains) == 0 {
		return nil, "unverified_certificate", status.Error(codes.Unauthenticated, "the client certificate was not verified by the TLS layer")
	}
	leaf := tlsInfo.State.VerifiedChains[0][0]
	now := s.now()
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: s.agent.pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return nil, "expired_certificate", status.Error(codes.Unauthenticated, "the client certificate has expired (or is not yet valid); enroll again")
		}
		return nil, "untrusted_certificate", status.Error(codes.Unauthenticated, "the client certificate was not issued by this control plane's agent CA")
	}
	id, err := pki.ParseAgentIdentity(leaf, s.agent.trustDomain)
	if err != nil {
		return nil, "bad_identity", status.Errorf(codes.Unauthenticated, "client certificate: %v", err)
	}
	c := &agentCaller{id: id, principal: &Principal{TenantID: id.TenantID, AgentID: id.AgentID, CloudAccountID: id.CloudAccountID}}
	au, err := s.st.Tenant(id.TenantID).GetAgentAuth(ctx, id.AgentID)
	if isNotFound(err) {
		return c, "unknown_agent", status.Errorf(codes.Unauthenticated, "agent %s does not exist (its tenant or cloud account was deleted); enroll again", id.AgentID)
	}
	if err != nil {
		return c, "store_error", s.storeError(ctx, "look up agent", err)
	}
	if au.Agent.CloudAccountId != id.CloudAccountID {
		return c, "bad_identity", status.Error(codes.Unauthenticated, "the client certificate names another cloud account than the agent's")
	}
	if au.Agent.Status == sirsiv1.AgentStatus_AGENT_STATUS_REVOKED {
		return c, "revoked", status.Errorf(codes.PermissionDenied, "agent %s is revoked; enroll again with a new enrollment token", id.AgentID)
	}
	serial := pki.SerialHex(leaf)
	current := serial == au.CertSerial
	previous := au.PrevCertSerial != "" && serial == au.PrevCertSerial && now.Before(au.PrevCertExpire)
	if !current && !previous {
		return c, "superseded_certificate", status.Error(codes.Unauthenticated, "the client certificate was replaced by a later renewal; use the newest certificate")
	}
	c.accountID = au.AccountID
	return c, "", nil
}
