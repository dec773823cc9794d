package controlplane

import (
	"context"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

func (s *Server) CreateCloudAccount(ctx context.Context, req *sirsiv1.CreateCloudAccountRequest) (*sirsiv1.CreateCloudAccountResponse, error) {
	var e validation.Errors
	validCloudAccount(&e, "cloud_account", req.CloudAccount, false)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	in := req.CloudAccount
	if in.Cloud == sirsiv1.Cloud_CLOUD_UNSPECIFIED {
		in.Cloud = sirsiv1.Cloud_CLOUD_AWS
	}
	a, err := s.st.Tenant(in.TenantId).CreateCloudAccount(ctx, in)
	if err != nil {
		return nil, s.storeError(ctx, "create cloud account", err)
	}
	return &sirsiv1.CreateCloudAccountResponse{CloudAccount: s.presentAccount(ctx, a)}, nil
}

func (s *Server) GetCloudAccount(ctx context.Context, req *sirsiv1.GetCloudAccountRequest) (*sirsiv1.GetCloudAccountResponse, error) {
	if err := validGet(req.TenantId, req.Id); err != nil {
		return nil, err
	}
	a, err := s.st.Tenant(req.TenantId).GetCloudAccount(ctx, req.Id)
	if err != nil {
		return nil, s.storeError(ctx, "get cloud account", err)
	}
	return &sirsiv1.GetCloudAccountResponse{CloudAccount: s.presentAccount(ctx, a)}, nil
}

func (s *Server) UpdateCloudAccount(ctx context.Context, req *sirsiv1.UpdateCloudAccountRequest) (*sirsiv1.UpdateCloudAccountResponse, error) {
	var e validation.Errors
	validCloudAccount(&e, "cloud_account", req.CloudAccount, true)
	if err := errOrInvalid(&e); err != nil {
		return nil, err
	}
	in := req.CloudAccount
	ts := s.st.Tenant(in.TenantId)
	cur, err := ts.GetCloudAccount(ctx, in.Id)
	if err != nil {
		return nil, s.storeError(ctx, "update cloud account", err)
	}
	if in.AccountId != "" && in.AccountId != cur.AccountId {
		return nil, invalidField("cloud_account.account_id", "is immutable; create a new cloud account")
	}
	if in.Cloud != sirsiv1.Cloud_CLOUD_UNSPECIFIED && in.Cloud != cur.Cloud {
		return nil, invalidField("cloud_account.cloud", "is immutable; create a new cloud account")
	}
	if acct, _ := validation.RoleARN(in.RoleArn); acct != cur.AccountId {
		return nil, invalidField("cloud_account.role_arn", "is in account "+acct+", not in the cloud account's "+cur.AccountId)
	}
	in.AccountId, in.Cloud = cur.AccountId, cur.Cloud
	a, err := ts.UpdateCloudAccount(ctx, in)
	if err != nil {
		return nil, s.storeError(ctx, "update cloud account", err)
	}
	return &sirsiv1.UpdateCloudAccountResponse{CloudAccount: s.presentAccount(ctx, a)}, nil
}

func (s *Server) DeleteCloudAccount(ctx context.Context, req *sirsiv1.DeleteCloudAccountRequest) (*sirsiv1.DeleteCloudAccountResponse, error) {
	if err := validDelete(req.TenantId, req.Id, req.Version); err != nil {
		return nil, err
	}
	if err := s.st.Tenant(req.TenantId).DeleteCloudAccount(ctx, req.Id, req.Version); err != nil {
		return nil, s.storeError(ctx, "delete cloud account", err)
	}
	return &sirsiv1.DeleteCloudAccountResponse{}, nil
}

func (s *Server) ListCloudAccounts(ctx context.Context, req *sirsiv1.ListCloudAccountsRequest) (*sirsiv1.ListCloudAccountsResponse, error) {
	if err := validList(req.TenantId, req.PageSize); err != nil {
		return nil, err
	}
	list, next, err := s.st.Tenant(req.TenantId).ListCloudAccounts(ctx, store.Page{Size: int(req.PageSize), Token: req.PageToken})
	if err != nil {
		return nil, s.storeError(ctx, "list cloud accounts", err)
	}
	for _, a := range list {
		s.presentAccount(ctx, a)
	}
	return &sirsiv1.ListCloudAccountsResponse{CloudAccounts: list, NextPageToken: next}, nil
}

// presentAccount computes the status from the last heartbeat, at read time
// so it never goes stale in the database, and hides the external id from
// viewers (it is half of what it takes to assume the role).
func (s *Server) presentAccount(ctx context.Context, a *sirsiv1.CloudAccount) *sirsiv1.CloudAccount {
	switch {
	case a.LastSeenTime == nil:
		a.Status = sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_PENDING
	case s.now().Sub(a.LastSeenTime.AsTime()) > s.staleAfter:
		a.Status = sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_STALE
	case a.Status == sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CREDENTIALS_MISMATCH,
		a.Status == sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ASSUME_ROLE_FAILED,
		a.Status == sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ACTIONS_DENIED:
		// Stored by the agent's last heartbeat or its last actions, with
		// status_detail.
	default:
		a.Status = sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CONNECTED
	}
	switch a.Status {
	case sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_CREDENTIALS_MISMATCH, sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ASSUME_ROLE_FAILED,
		sirsiv1.CloudAccountStatus_CLOUD_ACCOUNT_STATUS_ACTIONS_DENIED:
	default:
		a.StatusDetail = ""
	}
	if p := PrincipalFrom(ctx); p != nil && !p.Operator && roleRank(p.Role) < roleRank(editor) {
		a.ExternalId = ""
	}
	return a
}

func validDelete(tenantID, id string, version int64) error {
	var e validation.Errors
	validTenantScoped(&e, tenantID)
	e.Check("id", validation.ID(id))
	e.Check("version", validVersion(version))
	return errOrInvalid(&e)
}
