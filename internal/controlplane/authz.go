package controlplane

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// tenantFrom says where a request names its tenant.
type tenantFrom int

const (
	// tenantNone: the call is not about one tenant's data.
	tenantNone tenantFrom = iota
	// tenantField: the request's tenant_id.
	tenantField
	// tenantNested: tenant_id of the request's one message field
	// (cloud_account, optimization_policy).
	tenantNested
	// tenantSelf: GetTenant's id (or name, checked by the handler).
	tenantSelf
)

// rule is who may call one RPC. The operator token may call every RPC: it
// is the root credential (like Vault's root token), kept for bootstrap and
// break-glass use; pipelines use tenant API tokens.
type rule struct {
	// role: the least tenant role that may call it; unspecified means only
	// the operator may.
	role sirsiv1.Role
	// mutation: every call is audited, not just failures.
	mutation bool
	tenant   tenantFrom
	// operatorNoTenant: the operator may leave tenant_id empty (listing
	// operator-level audit events); elsewhere it must name the tenant.
	operatorNoTenant bool
}

const (
	viewer = sirsiv1.Role_ROLE_VIEWER
	editor = sirsiv1.Role_ROLE_EDITOR
	admin  = sirsiv1.Role_ROLE_ADMIN
)

func read(r sirsiv1.Role, t tenantFrom) rule  { return rule{role: r, tenant: t} }
func write(r sirsiv1.Role, t tenantFrom) rule { return rule{role: r, tenant: t, mutation: true} }

// rules is the whole authorisation policy of ManagementService. A method
// missing here is refused; a test checks every method of the service
// descriptor has an entry.
var rules = map[string]rule{
	sirsiv1.ManagementService_GetIdentity_FullMethodName: {role: viewer},

	sirsiv1.ManagementService_CreateTenant_FullMethodName: {mutation: true},
	sirsiv1.ManagementService_GetTenant_FullMethodName:    {role: viewer, tenant: tenantSelf},
	sirsiv1.ManagementService_UpdateTenant_FullMethodName: {mutation: true},
	sirsiv1.ManagementService_DeleteTenant_FullMethodName: {mutation: true},
	sirsiv1.ManagementService_ListTenants_FullMethodName:  {},

	sirsiv1.ManagementService_CreateCloudAccount_FullMethodName: write(editor, tenantNested),
	sirsiv1.ManagementService_GetCloudAccount_FullMethodName:    read(viewer, tenantField),
	sirsiv1.ManagementService_UpdateCloudAccount_FullMethodName: write(editor, tenantNested),
	sirsiv1.ManagementService_DeleteCloudAccount_FullMethodName: write(editor, tenantField),
	sirsiv1.ManagementService_ListCloudAccounts_FullMethodName:  read(viewer, tenantField),

	sirsiv1.ManagementService_CreateOptimizationPolicy_FullMethodName: write(editor, tenantNested),
	sirsiv1.ManagementService_GetOptimizationPolicy_FullMethodName:    read(viewer, tenantField),
	sirsiv1.ManagementService_UpdateOptimizationPolicy_FullMethodName: write(editor, tenantNested),
	sirsiv1.ManagementService_DeleteOptimizationPolicy_FullMethodName: write(editor, tenantField),
	sirsiv1.ManagementService_ListOptimizationPolicies_FullMethodName: read(viewer, tenantField),

	sirsiv1.ManagementService_CreateEnrollmentToken_FullMethodName: write(editor, tenantField),
	sirsiv1.ManagementService_GetEnrollmentToken_FullMethodName:    read(viewer, tenantField),
	sirsiv1.ManagementService_DeleteEnrollmentToken_FullMethodName: write(editor, tenantField),
	sirsiv1.ManagementService_ListEnrollmentTokens_FullMethodName:  read(viewer, tenantField),

	// Inside a tenant only admins see or touch tokens.
	sirsiv1.ManagementService_CreateApiToken_FullMethodName: {role: admin, tenant: tenantField, mutation: true},
	sirsiv1.ManagementService_GetApiToken_FullMethodName:    {role: admin, tenant: tenantField},
	sirsiv1.ManagementService_UpdateApiToken_FullMethodName: {role: admin, tenant: tenantField, mutation: true},
	sirsiv1.ManagementService_DeleteApiToken_FullMethodName: {role: admin, tenant: tenantField, mutation: true},
	sirsiv1.ManagementService_ListApiTokens_FullMethodName:  {role: admin, tenant: tenantField},

	// A trust mints callers with up to admin's role: admins only, like
	// tokens.
	sirsiv1.ManagementService_CreateOidcTrust_FullMethodName: {role: admin, tenant: tenantNested, mutation: true},
	sirsiv1.ManagementService_GetOidcTrust_FullMethodName:    {role: admin, tenant: tenantField},
	sirsiv1.ManagementService_UpdateOidcTrust_FullMethodName: {role: admin, tenant: tenantNested, mutation: true},
	sirsiv1.ManagementService_DeleteOidcTrust_FullMethodName: {role: admin, tenant: tenantField, mutation: true},
	sirsiv1.ManagementService_ListOidcTrusts_FullMethodName:  {role: admin, tenant: tenantField},

	// Webhook endpoints are tenant configuration like cloud accounts;
	// their secrets are never returned, so viewers may read them.
	sirsiv1.ManagementService_CreateWebhook_FullMethodName: write(editor, tenantNested),
	sirsiv1.ManagementService_GetWebhook_FullMethodName:    read(viewer, tenantField),
	sirsiv1.ManagementService_UpdateWebhook_FullMethodName: write(editor, tenantNested),
	sirsiv1.ManagementService_DeleteWebhook_FullMethodName: write(editor, tenantField),
	sirsiv1.ManagementService_ListWebhooks_FullMethodName:  read(viewer, tenantField),

	// An export is everything the tenant owns: admins only, like tokens,
	// and audited like a mutation.
	sirsiv1.ManagementService_ExportTenant_FullMethodName: {role: admin, tenant: tenantField, mutation: true},

	sirsiv1.ManagementService_ListAgents_FullMethodName:  read(viewer, tenantField),
	sirsiv1.ManagementService_GetAgent_FullMethodName:    read(viewer, tenantField),
	sirsiv1.ManagementService_RevokeAgent_FullMethodName: write(editor, tenantField),

	sirsiv1.ManagementService_ListResources_FullMethodName:       read(viewer, tenantField),
	sirsiv1.ManagementService_ListUtilization_FullMethodName:     read(viewer, tenantField),
	sirsiv1.ManagementService_GetCostSummary_FullMethodName:      read(viewer, tenantField),
	sirsiv1.ManagementService_ListCostAnomalies_FullMethodName:   read(viewer, tenantField),
	sirsiv1.ManagementService_ListWebhookEvents_FullMethodName:   read(viewer, tenantField),
	sirsiv1.ManagementService_ListRecommendations_FullMethodName: read(viewer, tenantField),
	sirsiv1.ManagementService_ListActions_FullMethodName:         read(viewer, tenantField),
	sirsiv1.ManagementService_GetSavingsSummary_FullMethodName:   read(viewer, tenantField),
	// With no tenant_id the operator reads the operator-level log.
	sirsiv1.ManagementService_ListAuditEvents_FullMethodName: {role: viewer, tenant: tenantField, operatorNoTenant: true},

	// Approving lets an agent change production resources, so it is an
	// editor's call, audited like every mutation.
	sirsiv1.ManagementService_GetRecommendation_FullMethodName:            read(viewer, tenantField),
	sirsiv1.ManagementService_ApproveRecommendation_FullMethodName:        write(editor, tenantField),
	sirsiv1.ManagementService_RevokeRecommendationApproval_FullMethodName: write(editor, tenantField),
	sirsiv1.ManagementService_DismissRecommendation_FullMethodName:        write(editor, tenantField),
	sirsiv1.ManagementService_ListActionPlans_FullMethodName:              read(viewer, tenantField),
	sirsiv1.ManagementService_GetActionPlan_FullMethodName:                read(viewer, tenantField),
	sirsiv1.ManagementService_ApproveActionPlan_FullMethodName:            write(editor, tenantField),
}

// roleRank orders roles by power; the enum's numbers do not.
func roleRank(r sirsiv1.Role) int {
	switch r {
	case admin:
		return 3
	case editor:
		return 2
	case viewer:
		return 1
	}
	return 0
}

// authorize checks p against the method's rule and settles the tenant the
// call is about: a tenant token's empty tenant_id is filled in with its
// own tenant, so handlers always see the tenant they act on. It returns
// that tenant id ("" for tenant management and the operator's own log).
func authorize(method string, p *Principal, req any) (string, error) {
	r, ok := rules[method]
	if !ok {
		return "", status.Errorf(codes.PermissionDenied, "%s has no authorisation rule", method)
	}
	msg, _ := req.(proto.Message)
	if p.Operator {
		tenant := requestTenant(r.tenant, msg)
		if tenant == "" && (r.tenant == tenantField || r.tenant == tenantNested) && !r.operatorNoTenant {
			return "", invalidField("tenant_id", "is required when calling with the operator token")
		}
		return tenant, nil
	}
	if r.role == sirsiv1.Role_ROLE_UNSPECIFIED {
		return "", status.Error(codes.PermissionDenied, "only the operator token may call this")
	}
	if roleRank(p.Role) < roleRank(r.role) {
		return "", status.Errorf(codes.PermissionDenied, "role %s may not call this; it needs %s or higher",
			roleName(p.Role), roleName(r.role))
	}
	if r.tenant == tenantNone {
		return p.TenantID, nil
	}
	tenant := requestTenant(r.tenant, msg)
	if tenant != "" && tenant != p.TenantID {
		return "", status.Error(codes.PermissionDenied, "this token belongs to another tenant")
	}
	if tenant == "" {
		setRequestTenant(r.tenant, msg, p.TenantID)
	}
	return p.TenantID, nil
}

func roleName(r sirsiv1.Role) string {
	if n := validation.EnumName(r); n != "" {
		return n
	}
	return "none"
}

// tenantLocation returns where the tenant id lives in msg: the message and
// field, or nil when it is absent (a missing nested object).
func tenantLocation(from tenantFrom, msg proto.Message) (protoreflect.Message, protoreflect.FieldDescriptor) {
	if msg == nil {
		return nil, nil
	}
	m := msg.ProtoReflect()
	switch from {
	case tenantField:
		return m, m.Descriptor().Fields().ByName("tenant_id")
	case tenantSelf:
		// Asked by name, the handler compares names: filling in the id
		// would make the request name both.
		if m.Get(m.Descriptor().Fields().ByName("name")).String() != "" {
			return nil, nil
		}
		return m, m.Descriptor().Fields().ByName("id")
	case tenantNested:
		fields := m.Descriptor().Fields()
		for i := 0; i < fields.Len(); i++ {
			f := fields.Get(i)
			if f.Kind() != protoreflect.MessageKind || f.IsList() || f.IsMap() {
				continue
			}
			if !m.Has(f) {
				return nil, nil
			}
			inner := m.Mutable(f).Message()
			return inner, inner.Descriptor().Fields().ByName("tenant_id")
		}
	}
	return nil, nil
}

func requestTenant(from tenantFrom, msg proto.Message) string {
	m, f := tenantLocation(from, msg)
	if f == nil {
		return ""
	}
	return m.Get(f).String()
}

func setRequestTenant(from tenantFrom, msg proto.Message, tenant string) {
	m, f := tenantLocation(from, msg)
	if f == nil {
		return
	}
	m.Set(f, protoreflect.ValueOfString(tenant))
}
