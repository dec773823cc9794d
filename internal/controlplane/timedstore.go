package controlplane

import (
	"context"
	"crypto/ed25519"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// timedStore records every store call's latency in
// sirsi_store_operation_duration_seconds{op}, op being the method name, so
// a slow query shows up without a profiler.
type timedStore struct {
	s store.Store
	m *metrics
}

var (
	_ store.Store       = timedStore{}
	_ store.TenantStore = timedTenantStore{}
)

func (m *metrics) observe(op string, start time.Time) {
	m.storeOps.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (d timedStore) Tenant(tenantID string) store.TenantStore {
	return timedTenantStore{s: d.s.Tenant(tenantID), m: d.m}
}

func (d timedStore) Close() error { return d.s.Close() }

func (d timedStore) ClaimEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.OutboxEvent, error) {
	defer d.m.observe("ClaimEvents", time.Now())
	return d.s.ClaimEvents(ctx, now, lease, limit)
}

func (d timedStore) MarkStaleAgents(ctx context.Context, silentSince time.Time) (int, error) {
	defer d.m.observe("MarkStaleAgents", time.Now())
	return d.s.MarkStaleAgents(ctx, silentSince)
}

func (d timedStore) FinishEvent(ctx context.Context, tenantID, id string, o store.EventOutcome) error {
	defer d.m.observe("FinishEvent", time.Now())
	return d.s.FinishEvent(ctx, tenantID, id, o)
}

func (d timedStore) CreateTenant(ctx context.Context, t *sirsiv1.Tenant) (*sirsiv1.Tenant, error) {
	defer d.m.observe("CreateTenant", time.Now())
	return d.s.CreateTenant(ctx, t)
}

func (d timedStore) GetTenant(ctx context.Context, id string) (*sirsiv1.Tenant, error) {
	defer d.m.observe("GetTenant", time.Now())
	return d.s.GetTenant(ctx, id)
}

func (d timedStore) GetTenantByName(ctx context.Context, name string) (*sirsiv1.Tenant, error) {
	defer d.m.observe("GetTenantByName", time.Now())
	return d.s.GetTenantByName(ctx, name)
}

func (d timedStore) UpdateTenant(ctx context.Context, t *sirsiv1.Tenant) (*sirsiv1.Tenant, error) {
	defer d.m.observe("UpdateTenant", time.Now())
	return d.s.UpdateTenant(ctx, t)
}

func (d timedStore) DeleteTenant(ctx context.Context, id string, version int64, force bool) error {
	defer d.m.observe("DeleteTenant", time.Now())
	return d.s.DeleteTenant(ctx, id, version, force)
}

func (d timedStore) ListTenants(ctx context.Context, p store.Page) ([]*sirsiv1.Tenant, string, error) {
	defer d.m.observe("ListTenants", time.Now())
	return d.s.ListTenants(ctx, p)
}

func (d timedStore) LookupAPIToken(ctx context.Context, secretHash []byte) (*sirsiv1.ApiToken, error) {
	defer d.m.observe("LookupAPIToken", time.Now())
	return d.s.LookupAPIToken(ctx, secretHash)
}

func (d timedStore) LookupOIDCTrusts(ctx context.Context, issuer string) ([]*sirsiv1.OidcTrust, error) {
	defer d.m.observe("LookupOIDCTrusts", time.Now())
	return d.s.LookupOIDCTrusts(ctx, issuer)
}

func (d timedStore) TouchAPIToken(ctx context.Context, tenantID string, id string, at time.Time) error {
	defer d.m.observe("TouchAPIToken", time.Now())
	return d.s.TouchAPIToken(ctx, tenantID, id, at)
}

func (d timedStore) EnrollAgent(ctx context.Context, e store.Enrollment) (*store.Enrolled, error) {
	defer d.m.observe("EnrollAgent", time.Now())
	return d.s.EnrollAgent(ctx, e)
}

func (d timedStore) LookupEnrollmentToken(ctx context.Context, secretHash []byte) (*sirsiv1.EnrollmentToken, error) {
	defer d.m.observe("LookupEnrollmentToken", time.Now())
	return d.s.LookupEnrollmentToken(ctx, secretHash)
}

func (d timedStore) AppendAudit(ctx context.Context, e *sirsiv1.AuditEvent) (*sirsiv1.AuditEvent, error) {
	defer d.m.observe("AppendAudit", time.Now())
	return d.s.AppendAudit(ctx, e)
}

func (d timedStore) ListOperatorAuditEvents(ctx context.Context, f store.AuditFilter, p store.Page) ([]*sirsiv1.AuditEvent, string, error) {
	defer d.m.observe("ListOperatorAuditEvents", time.Now())
	return d.s.ListOperatorAuditEvents(ctx, f, p)
}

func (d timedStore) VerifyAuditChain(ctx context.Context, expect *store.AuditHead, pub ed25519.PublicKey) (*store.AuditVerdict, error) {
	defer d.m.observe("VerifyAuditChain", time.Now())
	return d.s.VerifyAuditChain(ctx, expect, pub)
}

func (d timedStore) AuditCheckpoints(ctx context.Context) ([]*store.AuditCheckpoint, error) {
	defer d.m.observe("AuditCheckpoints", time.Now())
	return d.s.AuditCheckpoints(ctx)
}

func (d timedStore) WriteAuditCheckpoint(ctx context.Context, key ed25519.PrivateKey, at time.Time) (*store.AuditCheckpoint, error) {
	defer d.m.observe("WriteAuditCheckpoint", time.Now())
	return d.s.WriteAuditCheckpoint(ctx, key, at)
}

func (d timedStore) PruneAudit(ctx context.Context, tenantID string, before time.Time, key ed25519.PrivateKey) (*store.AuditPrune, error) {
	defer d.m.observe("PruneAudit", time.Now())
	return d.s.PruneAudit(ctx, tenantID, before, key)
}

func (d timedStore) VerifyAudit(ctx context.Context) (*store.AuditBreak, error) {
	defer d.m.observe("VerifyAudit", time.Now())
	return d.s.VerifyAudit(ctx)
}

func (d timedStore) TryLeader(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	defer d.m.observe("TryLeader", time.Now())
	return d.s.TryLeader(ctx, name, fn)
}

func (d timedStore) GetSetting(ctx context.Context, key string) ([]byte, error) {
	defer d.m.observe("GetSetting", time.Now())
	return d.s.GetSetting(ctx, key)
}

func (d timedStore) PutSettingIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error) {
	defer d.m.observe("PutSettingIfAbsent", time.Now())
	return d.s.PutSettingIfAbsent(ctx, key, value)
}

func (d timedStore) PutSetting(ctx context.Context, key string, value []byte) error {
	defer d.m.observe("PutSetting", time.Now())
	return d.s.PutSetting(ctx, key, value)
}

func (d timedStore) SchemaVersion(ctx context.Context) (int, error) {
	defer d.m.observe("SchemaVersion", time.Now())
	return d.s.SchemaVersion(ctx)
}

type timedTenantStore struct {
	s store.TenantStore
	m *metrics
}

func (d timedTenantStore) TenantID() string { return d.s.TenantID() }

func (d timedTenantStore) CreateCloudAccount(ctx context.Context, a *sirsiv1.CloudAccount) (*sirsiv1.CloudAccount, error) {
	defer d.m.observe("CreateCloudAccount", time.Now())
	return d.s.CreateCloudAccount(ctx, a)
}

func (d timedTenantStore) GetCloudAccount(ctx context.Context, id string) (*sirsiv1.CloudAccount, error) {
	defer d.m.observe("GetCloudAccount", time.Now())
	return d.s.GetCloudAccount(ctx, id)
}

func (d timedTenantStore) UpdateCloudAccount(ctx context.Context, a *sirsiv1.CloudAccount) (*sirsiv1.CloudAccount, error) {
	defer d.m.observe("UpdateCloudAccount", time.Now())
	return d.s.UpdateCloudAccount(ctx, a)
}

func (d timedTenantStore) DeleteCloudAccount(ctx context.Context, id string, version int64) error {
	defer d.m.observe("DeleteCloudAccount", time.Now())
	return d.s.DeleteCloudAccount(ctx, id, version)
}

func (d timedTenantStore) ListCloudAccounts(ctx context.Context, p store.Page) ([]*sirsiv1.CloudAccount, string, error) {
	defer d.m.observe("ListCloudAccounts", time.Now())
	return d.s.ListCloudAccounts(ctx, p)
}

func (d timedTenantStore) CreatePolicy(ctx context.Context, p *sirsiv1.OptimizationPolicy) (*sirsiv1.OptimizationPolicy, error) {
	defer d.m.observe("CreatePolicy", time.Now())
	return d.s.CreatePolicy(ctx, p)
}

func (d timedTenantStore) GetPolicy(ctx context.Context, id string) (*sirsiv1.OptimizationPolicy, error) {
	defer d.m.observe("GetPolicy", time.Now())
	return d.s.GetPolicy(ctx, id)
}

func (d timedTenantStore) UpdatePolicy(ctx context.Context, p *sirsiv1.OptimizationPolicy) (*sirsiv1.OptimizationPolicy, error) {
	defer d.m.observe("UpdatePolicy", time.Now())
	return d.s.UpdatePolicy(ctx, p)
}

func (d timedTenantStore) DeletePolicy(ctx context.Context, id string, version int64) error {
	defer d.m.observe("DeletePolicy", time.Now())
	return d.s.DeletePolicy(ctx, id, version)
}

func (d timedTenantStore) ListPolicies(ctx context.Context, p store.Page) ([]*sirsiv1.OptimizationPolicy, string, error) {
	defer d.m.observe("ListPolicies", time.Now())
	return d.s.ListPolicies(ctx, p)
}

func (d timedTenantStore) CreateEnrollmentToken(ctx context.Context, t *sirsiv1.EnrollmentToken, secretHash []byte) (*sirsiv1.EnrollmentToken, error) {
	defer d.m.observe("CreateEnrollmentToken", time.Now())
	return d.s.CreateEnrollmentToken(ctx, t, secretHash)
}

func (d timedTenantStore) GetEnrollmentToken(ctx context.Context, id string) (*sirsiv1.EnrollmentToken, error) {
	defer d.m.observe("GetEnrollmentToken", time.Now())
	return d.s.GetEnrollmentToken(ctx, id)
}

func (d timedTenantStore) DeleteEnrollmentToken(ctx context.Context, id string) error {
	defer d.m.observe("DeleteEnrollmentToken", time.Now())
	return d.s.DeleteEnrollmentToken(ctx, id)
}

func (d timedTenantStore) ListEnrollmentTokens(ctx context.Context, p store.Page) ([]*sirsiv1.EnrollmentToken, string, error) {
	defer d.m.observe("ListEnrollmentTokens", time.Now())
	return d.s.ListEnrollmentTokens(ctx, p)
}

func (d timedTenantStore) CreateAPIToken(ctx context.Context, t *sirsiv1.ApiToken, secretHash []byte, limit store.TokenCap) (*sirsiv1.ApiToken, error) {
	defer d.m.observe("CreateAPIToken", time.Now())
	return d.s.CreateAPIToken(ctx, t, secretHash, limit)
}

func (d timedTenantStore) GetAPIToken(ctx context.Context, id string) (*sirsiv1.ApiToken, error) {
	defer d.m.observe("GetAPIToken", time.Now())
	return d.s.GetAPIToken(ctx, id)
}

func (d timedTenantStore) UpdateAPIToken(ctx context.Context, id string, description string, version int64) (*sirsiv1.ApiToken, error) {
	defer d.m.observe("UpdateAPIToken", time.Now())
	return d.s.UpdateAPIToken(ctx, id, description, version)
}

func (d timedTenantStore) DeleteAPIToken(ctx context.Context, id string) error {
	defer d.m.observe("DeleteAPIToken", time.Now())
	return d.s.DeleteAPIToken(ctx, id)
}

func (d timedTenantStore) ListAPITokens(ctx context.Context, p store.Page) ([]*sirsiv1.ApiToken, string, error) {
	defer d.m.observe("ListAPITokens", time.Now())
	return d.s.ListAPITokens(ctx, p)
}

func (d timedTenantStore) CreateOIDCTrust(ctx context.Context, o *sirsiv1.OidcTrust) (*sirsiv1.OidcTrust, error) {
	defer d.m.observe("CreateOIDCTrust", time.Now())
	return d.s.CreateOIDCTrust(ctx, o)
}

func (d timedTenantStore) GetOIDCTrust(ctx context.Context, id string) (*sirsiv1.OidcTrust, error) {
	defer d.m.observe("GetOIDCTrust", time.Now())
	return d.s.GetOIDCTrust(ctx, id)
}

func (d timedTenantStore) UpdateOIDCTrust(ctx context.Context, o *sirsiv1.OidcTrust) (*sirsiv1.OidcTrust, error) {
	defer d.m.observe("UpdateOIDCTrust", time.Now())
	return d.s.UpdateOIDCTrust(ctx, o)
}

func (d timedTenantStore) DeleteOIDCTrust(ctx context.Context, id string, version int64) error {
	defer d.m.observe("DeleteOIDCTrust", time.Now())
	return d.s.DeleteOIDCTrust(ctx, id, version)
}

func (d timedTenantStore) ListOIDCTrusts(ctx context.Context, p store.Page) ([]*sirsiv1.OidcTrust, string, error) {
	defer d.m.observe("ListOIDCTrusts", time.Now())
	return d.s.ListOIDCTrusts(ctx, p)
}

func (d timedTenantStore) CreateWebhook(ctx context.Context, w *sirsiv1.Webhook) (*sirsiv1.Webhook, error) {
	defer d.m.observe("CreateWebhook", time.Now())
	return d.s.CreateWebhook(ctx, w)
}

func (d timedTenantStore) GetWebhook(ctx context.Context, id string) (*sirsiv1.Webhook, error) {
	defer d.m.observe("GetWebhook", time.Now())
	return d.s.GetWebhook(ctx, id)
}

func (d timedTenantStore) UpdateWebhook(ctx context.Context, w *sirsiv1.Webhook) (*sirsiv1.Webhook, error) {
	defer d.m.observe("UpdateWebhook", time.Now())
	return d.s.UpdateWebhook(ctx, w)
}

func (d timedTenantStore) DeleteWebhook(ctx context.Context, id string, version int64) error {
	defer d.m.observe("DeleteWebhook", time.Now())
	return d.s.DeleteWebhook(ctx, id, version)
}

func (d timedTenantStore) ListWebhooks(ctx context.Context, p store.Page) ([]*sirsiv1.Webhook, string, error) {
	defer d.m.observe("ListWebhooks", time.Now())
	return d.s.ListWebhooks(ctx, p)
}

func (d timedTenantStore) CreateAgent(ctx context.Context, a *sirsiv1.Agent) (*sirsiv1.Agent, error) {
	defer d.m.observe("CreateAgent", time.Now())
	return d.s.CreateAgent(ctx, a)
}

func (d timedTenantStore) GetAgent(ctx context.Context, id string) (*sirsiv1.Agent, error) {
	defer d.m.observe("GetAgent", time.Now())
	return d.s.GetAgent(ctx, id)
}

func (d timedTenantStore) RecordHeartbeat(ctx context.Context, agentID string, hb store.Heartbeat) (*sirsiv1.Agent, error) {
	defer d.m.observe("RecordHeartbeat", time.Now())
	return d.s.RecordHeartbeat(ctx, agentID, hb)
}

func (d timedTenantStore) UpdateAgentCertificate(ctx context.Context, agentID string, serial string, expires time.Time) error {
	defer d.m.observe("UpdateAgentCertificate", time.Now())
	return d.s.UpdateAgentCertificate(ctx, agentID, serial, expires)
}

func (d timedTenantStore) GetAgentAuth(ctx context.Context, agentID string) (*store.AgentAuth, error) {
	defer d.m.observe("GetAgentAuth", time.Now())
	return d.s.GetAgentAuth(ctx, agentID)
}

func (d timedTenantStore) RevokeAgent(ctx context.Context, id string) (*sirsiv1.Agent, error) {
	defer d.m.observe("RevokeAgent", time.Now())
	return d.s.RevokeAgent(ctx, id)
}

func (d timedTenantStore) ListAgents(ctx context.Context, cloudAccountID string, p store.Page) ([]*sirsiv1.Agent, string, error) {
	defer d.m.observe("ListAgents", time.Now())
	return d.s.ListAgents(ctx, cloudAccountID, p)
}

func (d timedTenantStore) ApplyInventory(ctx context.Context, cloudAccountID string, batchID string, b store.InventoryBatch) (store.InventoryResult, error) {
	defer d.m.observe("ApplyInventory", time.Now())
	return d.s.ApplyInventory(ctx, cloudAccountID, batchID, b)
}

func (d timedTenantStore) ApplyUtilization(ctx context.Context, cloudAccountID string, batchID string, s []*sirsiv1.UtilizationSummary) (bool, error) {
	defer d.m.observe("ApplyUtilization", time.Now())
	return d.s.ApplyUtilization(ctx, cloudAccountID, batchID, s)
}

func (d timedTenantStore) ApplyCosts(ctx context.Context, cloudAccountID string, batchID string, records []*sirsiv1.CostRecord, anomalies []*sirsiv1.CostAnomaly) (bool, error) {
	defer d.m.observe("ApplyCosts", time.Now())
	return d.s.ApplyCosts(ctx, cloudAccountID, batchID, records, anomalies)
}

func (d timedTenantStore) ApplyResourceCosts(ctx context.Context, cloudAccountID, batchID string, costs []*sirsiv1.ResourceCost, unavailable string) (bool, error) {
	defer d.m.observe("ApplyResourceCosts", time.Now())
	return d.s.ApplyResourceCosts(ctx, cloudAccountID, batchID, costs, unavailable)
}

func (d timedTenantStore) ApplyRecommendations(ctx context.Context, cloudAccountID string, batchID string, policyID string, resourceTypes []string, recs []*sirsiv1.Recommendation) ([]string, bool, error) {
	defer d.m.observe("ApplyRecommendations", time.Now())
	return d.s.ApplyRecommendations(ctx, cloudAccountID, batchID, policyID, resourceTypes, recs)
}

func (d timedTenantStore) ApplyActions(ctx context.Context, cloudAccountID string, batchID string, actions []*sirsiv1.Action) (bool, error) {
	defer d.m.observe("ApplyActions", time.Now())
	return d.s.ApplyActions(ctx, cloudAccountID, batchID, actions)
}

func (d timedTenantStore) ListResources(ctx context.Context, f store.ResourceFilter, p store.Page) ([]*sirsiv1.Resource, string, error) {
	defer d.m.observe("ListResources", time.Now())
	return d.s.ListResources(ctx, f, p)
}

func (d timedTenantStore) InventoryVersion(ctx context.Context) (int64, error) {
	defer d.m.observe("InventoryVersion", time.Now())
	return d.s.InventoryVersion(ctx)
}

func (d timedTenantStore) ListUtilization(ctx context.Context, f store.UtilizationFilter, p store.Page) ([]*sirsiv1.UtilizationSummary, string, error) {
	defer d.m.observe("ListUtilization", time.Now())
	return d.s.ListUtilization(ctx, f, p)
}

func (d timedTenantStore) SumCosts(ctx context.Context, q store.CostQuery) ([]store.CostRow, error) {
	defer d.m.observe("SumCosts", time.Now())
	return d.s.SumCosts(ctx, q)
}

func (d timedTenantStore) ListCostAnomalies(ctx context.Context, p store.Page) ([]*sirsiv1.CostAnomaly, string, error) {
	defer d.m.observe("ListCostAnomalies", time.Now())
	return d.s.ListCostAnomalies(ctx, p)
}

func (d timedTenantStore) GetRecommendation(ctx context.Context, id string) (*sirsiv1.Recommendation, error) {
	defer d.m.observe("GetRecommendation", time.Now())
	return d.s.GetRecommendation(ctx, id)
}

func (d timedTenantStore) SetRecommendationStatus(ctx context.Context, id string, status sirsiv1.RecommendationStatus) (*sirsiv1.Recommendation, error) {
	defer d.m.observe("SetRecommendationStatus", time.Now())
	return d.s.SetRecommendationStatus(ctx, id, status)
}

func (d timedTenantStore) ListRecommendations(ctx context.Context, f store.RecommendationFilter, p store.Page) ([]*sirsiv1.Recommendation, string, *sirsiv1.Money, error) {
	defer d.m.observe("ListRecommendations", time.Now())
	return d.s.ListRecommendations(ctx, f, p)
}

func (d timedTenantStore) ListActions(ctx context.Context, f store.ActionFilter, p store.Page) ([]*sirsiv1.Action, string, error) {
	defer d.m.observe("ListActions", time.Now())
	return d.s.ListActions(ctx, f, p)
}

func (d timedTenantStore) SavingsSummary(ctx context.Context, now time.Time) (*sirsiv1.GetSavingsSummaryResponse, error) {
	defer d.m.observe("SavingsSummary", time.Now())
	return d.s.SavingsSummary(ctx, now)
}

func (d timedTenantStore) PruneRetained(ctx context.Context, kind store.Retained, before time.Time, limit int) (int64, error) {
	defer d.m.observe("PruneRetained", time.Now())
	return d.s.PruneRetained(ctx, kind, before, limit)
}

func (d timedTenantStore) ListAuditEvents(ctx context.Context, f store.AuditFilter, p store.Page) ([]*sirsiv1.AuditEvent, string, error) {
	defer d.m.observe("ListAuditEvents", time.Now())
	return d.s.ListAuditEvents(ctx, f, p)
}

func (d timedTenantStore) ApproveRecommendation(ctx context.Context, id, approver string, at time.Time) (*sirsiv1.Recommendation, error) {
	defer d.m.observe("ApproveRecommendation", time.Now())
	return d.s.ApproveRecommendation(ctx, id, approver, at)
}

func (d timedTenantStore) RevokeRecommendationApproval(ctx context.Context, id string) (*sirsiv1.Recommendation, error) {
	defer d.m.observe("RevokeRecommendationApproval", time.Now())
	return d.s.RevokeRecommendationApproval(ctx, id)
}

func (d timedTenantStore) DismissRecommendation(ctx context.Context, id string) (*sirsiv1.Recommendation, error) {
	defer d.m.observe("DismissRecommendation", time.Now())
	return d.s.DismissRecommendation(ctx, id)
}

func (d timedTenantStore) SaveActionPlan(ctx context.Context, cloudAccountID, batchID string, p *sirsiv1.ActionPlan) (bool, error) {
	defer d.m.observe("SaveActionPlan", time.Now())
	return d.s.SaveActionPlan(ctx, cloudAccountID, batchID, p)
}

func (d timedTenantStore) GetActionPlan(ctx context.Context, id string) (*sirsiv1.ActionPlan, error) {
	defer d.m.observe("GetActionPlan", time.Now())
	return d.s.GetActionPlan(ctx, id)
}

func (d timedTenantStore) ListActionPlans(ctx context.Context, f store.ActionPlanFilter, p store.Page) ([]*sirsiv1.ActionPlan, string, error) {
	defer d.m.observe("ListActionPlans", time.Now())
	return d.s.ListActionPlans(ctx, f, p)
}

func (d timedTenantStore) ApproveActionPlan(ctx context.Context, id, approver string, at time.Time) (*sirsiv1.ActionPlan, error) {
	defer d.m.observe("ApproveActionPlan", time.Now())
	return d.s.ApproveActionPlan(ctx, id, approver, at)
}

func (d timedTenantStore) ReserveActions(ctx context.Context, r store.Reservation) (store.Grant, error) {
	defer d.m.observe("ReserveActions", time.Now())
	return d.s.ReserveActions(ctx, r)
}

func (d timedTenantStore) ListWebhookEvents(ctx context.Context, state sirsiv1.WebhookEventState, p store.Page) ([]*sirsiv1.WebhookEvent, string, error) {
	defer d.m.observe("ListWebhookEvents", time.Now())
	return d.s.ListWebhookEvents(ctx, state, p)
}

func (d timedStore) ExportTenant(ctx context.Context, tenantID string, emit func(table string, record []byte) error) error {
	defer d.m.observe("ExportTenant", time.Now())
	return d.s.ExportTenant(ctx, tenantID, emit)
}
