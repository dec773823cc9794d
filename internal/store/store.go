// Package store is the control plane's persistence: one interface, two
// back ends (embedded SQLite, PostgreSQL), one conformance suite.
//
// Tenant-owned data is reachable only through a TenantStore, which is bound
// to one tenant id when it is made and puts that id into every statement it
// runs; there is no method that reads or writes tenant data without it. The
// few cross-tenant operations (tenant management, looking a token up by its
// hash to find out whose it is, the operator audit log) live on Store itself.
//
// The records are the wire types of sirsi.v1: the store keeps what the API
// returns, so there is one model and no mapping layer to drift. The store
// sets ids it is given empty, create/update times and versions; callers
// validate input before they call.
package store

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// Errors the back ends return (wrapped); the control plane maps them to gRPC
// codes with errors.Is.
var (
	// ErrNotFound: no such object in this tenant (or at all).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a unique name or id is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrVersionMismatch: an update or delete carried a non-zero version that
	// is not the stored one.
	ErrVersionMismatch = errors.New("version mismatch")
	// ErrFailedPrecondition: the object is in a state that forbids the
	// operation (a tenant that still owns objects, a reference to a missing
	// cloud account, an exhausted or expired enrollment token).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrSchemaTooNew: the database was migrated by a newer binary.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
	// ErrInvalidPageToken: a page token that this store did not issue or
	// that belongs to another list; callers map it to InvalidArgument.
	ErrInvalidPageToken = errors.New("invalid page token")
	// ErrInvalidArgument: a record the store cannot keep (a batch row
	// without its key fields); the whole write is refused.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrRevoked: the agent an enrollment names was revoked; it cannot be
	// admitted again.
	ErrRevoked = errors.New("revoked")
	// ErrLimitReached means a cap on how many of a thing may exist is
	// reached.
	ErrLimitReached = errors.New("limit reached")
)

// Page asks for one page of a list. Size 0 means DefaultPageSize; sizes
// above MaxPageSize are clamped by the caller's validation, not here.
type Page struct {
	Size  int
	Token string
}

const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
	// MaxOIDCTrustsPerIssuer bounds the trusts one token is checked
	// against (LookupOIDCTrusts), so a token's cost does not grow with
	// the number of tenants trusting a popular issuer beyond it.
	MaxOIDCTrustsPerIssuer = 1000
)

// Store is a back end. Implementations are safe for concurrent use.
type Store interface {
	// Tenant returns the view of one tenant's data. It does not check that
	// the tenant exists; operations on a missing tenant find nothing and
	// creating objects under it fails with ErrFailedPrecondition.
	Tenant(tenantID string) TenantStore

	CreateTenant(ctx context.Context, t *sirsiv1.Tenant) (*sirsiv1.Tenant, error)
	GetTenant(ctx context.Context, id string) (*sirsiv1.Tenant, error)
	GetTenantByName(ctx context.Context, name string) (*sirsiv1.Tenant, error)
	// UpdateTenant replaces display name, tier, labels, webhook URL and
	// the two limits (unset stores unset); an empty webhook secret keeps the stored one while the URL is set.
	// Tenant reads return the webhook secret: the control plane signs
	// deliveries with it and clears it from every API response.
	UpdateTenant(ctx context.Context, t *sirsiv1.Tenant) (*sirsiv1.Tenant, error)
	// DeleteTenant refuses a tenant that owns cloud accounts or policies
	// unless force; with force it removes every row the tenant owns in the
	// same transaction. Audit events are kept.
	DeleteTenant(ctx context.Context, id string, version int64, force bool) error
	ListTenants(ctx context.Context, p Page) ([]*sirsiv1.Tenant, string, error)
	// ExportTenant hands emit the tenant's row and every row the tenant
	// owns (its audit events included), table by table, each as one JSON
	// object (column name to value) without secret columns (token hashes,
	// sealed secrets). All is read in one read transaction, so the export
	// is one consistent snapshot; ErrNotFound when the tenant does not
	// exist in it. An error from emit ends the export and is returned.
	ExportTenant(ctx context.Context, tenantID string, emit func(table string, record []byte) error) error

	// LookupAPIToken finds a token by the hash of its secret, whoever owns it.
	LookupAPIToken(ctx context.Context, secretHash []byte) (*sirsiv1.ApiToken, error)
	// TouchAPIToken records a use; callers may rate-limit how often.
	TouchAPIToken(ctx context.Context, tenantID, id string, at time.Time) error
	// LookupOIDCTrusts lists the trusts, in every tenant, whose issuer is
	// exactly issuer (at most MaxOIDCTrustsPerIssuer): the verifier's
	// first step for a token that names it.
	LookupOIDCTrusts(ctx context.Context, issuer string) ([]*sirsiv1.OidcTrust, error)
	// EnrollAgent admits the agent of an Enrollment in one transaction:
	// when the agent does not exist yet it counts one use of the token and
	// creates the agent holding the certificate; when it does (the same
	// key presenting the same token again after the answer was lost) it
	// counts no use and records the new certificate (Replayed). ErrNotFound
	// when the token is unknown or not e.TokenID, ErrFailedPrecondition
	// when it expired or is used up, ErrRevoked when the agent was revoked.
	EnrollAgent(ctx context.Context, e Enrollment) (*Enrolled, error)
	// LookupEnrollmentToken finds the token with this hash without using
	// it, so a refused enrollment can say whether the token expired or was
	// used up; ErrNotFound when unknown.
	LookupEnrollmentToken(ctx context.Context, secretHash []byte) (*sirsiv1.EnrollmentToken, error)

	// AppendAudit appends to the log; TenantID may be empty (operator-level
	// events and failures whose tenant is unknown). Sequence and the hash
	// chain are assigned by the store, and the id when empty. An event
	// whose id is already in the log is not appended again: the stored one
	// is returned, so a report retried after a crash is audited once.
	AppendAudit(ctx context.Context, e *sirsiv1.AuditEvent) (*sirsiv1.AuditEvent, error)
	// ListOperatorAuditEvents lists events with an empty tenant id.
	ListOperatorAuditEvents(ctx context.Context, f AuditFilter, p Page) ([]*sirsiv1.AuditEvent, string, error)
	// VerifyAudit walks the whole chain and returns the first event whose
	// hash does not match, or nil when the chain is intact.
	VerifyAudit(ctx context.Context) (*AuditBreak, error)
	// VerifyAuditChain walks the whole chain and checks it against the
	// signed checkpoints (signatures with pub, the server's checkpoint
	// key; nil checks none), and, with expect, that it reaches expect.
	VerifyAuditChain(ctx context.Context, expect *AuditHead, pub ed25519.PublicKey) (*AuditVerdict, error)
	// AuditCheckpoints lists every signed checkpoint, oldest first.
	AuditCheckpoints(ctx context.Context) ([]*AuditCheckpoint, error)
	// WriteAuditCheckpoint signs the chain's current head with key (the
	// server's checkpoint key, sealed.AuditCheckpointKey) after checking
	// the entries since the previous checkpoint; one row per head however
	// many replicas write it; nil for an empty log.
	WriteAuditCheckpoint(ctx context.Context, key ed25519.PrivateKey, at time.Time) (*AuditCheckpoint, error)
	// PruneAudit removes the audit entries of tenant tenantID ("" for
	// the operator-level entries) older than before, in one transaction
	// that first writes a checkpoint signed with key (the server's
	// checkpoint key, sealed.AuditCheckpointKey) of the chain's head and
	// of exactly which entries it removes, and keeps each removed entry's
	// link (sequence and hashes) so the chain still verifies. It refuses
	// (ErrFailedPrecondition) to remove an entry that does not match its
	// hash; nothing to remove writes nothing and returns Pruned 0.
	PruneAudit(ctx context.Context, tenantID string, before time.Time, key ed25519.PrivateKey) (*AuditPrune, error)

	// TryLeader runs fn while holding the named cluster-wide lock, if the
	// lock can be had now; ok reports whether fn ran. On PostgreSQL this is
	// an advisory lock, so one replica at a time runs a background job.
	TryLeader(ctx context.Context, name string, fn func(ctx context.Context) error) (ok bool, err error)

	// GetSetting reads an operator-level setting; ErrNotFound when absent.
	GetSetting(ctx context.Context, key string) ([]byte, error)
	// PutSettingIfAbsent stores value unless the key is set and returns
	// what is stored after the call, so replicas racing to initialise a
	// setting all end up using the same value.
	PutSettingIfAbsent(ctx context.Context, key string, value []byte) (stored []byte, err error)
	// PutSetting stores value, replacing any previous one.
	PutSetting(ctx context.Context, key string, value []byte) error

	// ClaimEvents takes up to limit pending webhook events, of every
	// tenant, whose next attempt is due at now, oldest first, and moves
	// their next attempt to now+lease so that no other claimer (another
	// worker or replica) takes them meanwhile; one whose claimer dies is
	// taken again after the lease. Replicas on PostgreSQL claim with FOR
	// UPDATE SKIP LOCKED and never wait for each other.
	ClaimEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*OutboxEvent, error)
	// FinishEvent records the outcome of one attempt at a claimed event.
	// An event no longer pending is left as it is (ErrNotFound when it
	// does not exist).
	FinishEvent(ctx context.Context, tenantID, id string, o EventOutcome) error

	// MarkStaleAgents marks every agent, of every tenant, that is not
	// revoked and was last seen before silentSince as stale, writing one
	// agent.stale webhook event per silence in the same transaction; it
	// returns how many it marked. The agent's next heartbeat clears the
	// mark and writes agent.connected.
	MarkStaleAgents(ctx context.Context, silentSince time.Time) (int, error)

	// SchemaVersion is the migration the database is at.
	SchemaVersion(ctx context.Context) (int, error)
	Close() error
}

// SharedLimits is implemented by stores whose database several control
// plane replicas share (PostgreSQL): rate budgets and the lockout are
// counted there so replicas enforce one limit. Stores used by one process
// (SQLite) do not implement it and the control plane counts in memory.
type SharedLimits interface {
	// ReserveQuota grants up to want units of scope's limit in the fixed
	// window starting at window, in one atomic step: what earlier grants
	// (from any replica) left, at most want, 0 when nothing is left or a
	// lowered limit is already exceeded. used is the window's total after
	// the grant.
	ReserveQuota(ctx context.Context, scope string, window time.Time, want, limit int64) (granted, used int64, err error)
	// MarkUntil records that scope holds until the instant until (a
	// source's block); MarkedUntil is the latest such instant, zero when
	// none was recorded.
	MarkUntil(ctx context.Context, scope string, until time.Time) error
	MarkedUntil(ctx context.Context, scope string) (time.Time, error)
	// PruneQuotas deletes windows (and marks) that started before before.
	PruneQuotas(ctx context.Context, before time.Time) (int64, error)
}

// SharedLimitsOf is st's SharedLimits, looking through decorators (the
// sealing store) that return what they wrap from Unwrap.
func SharedLimitsOf(st Store) (SharedLimits, bool) {
	for {
		if sl, ok := st.(SharedLimits); ok {
			return sl, true
		}
		w, ok := st.(interface{ Unwrap() Store })
		if !ok {
			return nil, false
		}
		st = w.Unwrap()
	}
}

// OutboxEvent is a claimed webhook event with its CloudEvents data (JSON).
type OutboxEvent struct {
	Event *sirsiv1.WebhookEvent
	Data  []byte
}

// EventOutcome is what one delivery attempt came to: delivered; or
// failed with Err, to be tried again at RetryAt, or dead-lettered when
// RetryAt is zero.
type EventOutcome struct {
	At        time.Time
	Delivered bool
	Err       string
	RetryAt   time.Time
}

// TenantStore is everything that belongs to one tenant.
type TenantStore interface {
	TenantID() string

	CreateCloudAccount(ctx context.Context, a *sirsiv1.CloudAccount) (*sirsiv1.CloudAccount, error)
	GetCloudAccount(ctx context.Context, id string) (*sirsiv1.CloudAccount, error)
	// UpdateCloudAccount replaces regions, role ARN, external id and display
	// name; cloud and account id are immutable.
	UpdateCloudAccount(ctx context.Context, a *sirsiv1.CloudAccount) (*sirsiv1.CloudAccount, error)
	DeleteCloudAccount(ctx context.Context, id string, version int64) error
	ListCloudAccounts(ctx context.Context, p Page) ([]*sirsiv1.CloudAccount, string, error)

	CreatePolicy(ctx context.Context, p *sirsiv1.OptimizationPolicy) (*sirsiv1.OptimizationPolicy, error)
	GetPolicy(ctx context.Context, id string) (*sirsiv1.OptimizationPolicy, error)
	// UpdatePolicy replaces every field but id, tenant and create time.
	UpdatePolicy(ctx context.Context, p *sirsiv1.OptimizationPolicy) (*sirsiv1.OptimizationPolicy, error)
	DeletePolicy(ctx context.Context, id string, version int64) error
	ListPolicies(ctx context.Context, p Page) ([]*sirsiv1.OptimizationPolicy, string, error)

	// CreateEnrollmentToken stores the token's hash, never its secret; the
	// token's Token field is ignored.
	CreateEnrollmentToken(ctx context.Context, t *sirsiv1.EnrollmentToken, secretHash []byte) (*sirsiv1.EnrollmentToken, error)
	GetEnrollmentToken(ctx context.Context, id string) (*sirsiv1.EnrollmentToken, error)
	DeleteEnrollmentToken(ctx context.Context, id string) error
	ListEnrollmentTokens(ctx context.Context, p Page) ([]*sirsiv1.EnrollmentToken, string, error)

	// CreateAPIToken fails with ErrLimitReached when the tenant already
	// holds the cap's Max live tokens, counted in the transaction that
	// inserts, so replicas creating at once cannot pass the cap together.
	CreateAPIToken(ctx context.Context, t *sirsiv1.ApiToken, secretHash []byte, limit TokenCap) (*sirsiv1.ApiToken, error)
	GetAPIToken(ctx context.Context, id string) (*sirsiv1.ApiToken, error)
	UpdateAPIToken(ctx context.Context, id, description string, version int64) (*sirsiv1.ApiToken, error)
	// DeleteAPIToken revokes: the row goes, so the hash no longer resolves.
	DeleteAPIToken(ctx context.Context, id string) error
	ListAPITokens(ctx context.Context, p Page) ([]*sirsiv1.ApiToken, string, error)

	// CreateOIDCTrust stores a validated trust with its defaults filled
	// in; a name taken in the tenant is ErrAlreadyExists.
	CreateOIDCTrust(ctx context.Context, o *sirsiv1.OidcTrust) (*sirsiv1.OidcTrust, error)
	GetOIDCTrust(ctx context.Context, id string) (*sirsiv1.OidcTrust, error)
	// UpdateOIDCTrust replaces every field but id, tenant and create time.
	UpdateOIDCTrust(ctx context.Context, o *sirsiv1.OidcTrust) (*sirsiv1.OidcTrust, error)
	DeleteOIDCTrust(ctx context.Context, id string, version int64) error
	ListOIDCTrusts(ctx context.Context, p Page) ([]*sirsiv1.OidcTrust, string, error)

	// CreateWebhook stores an endpoint with its secret as given (sealing
	// is the job of internal/store/sealed); unset enabled stores true.
	// Webhook reads return the secret: the control plane signs deliveries
	// with it and clears it from every response.
	CreateWebhook(ctx context.Context, w *sirsiv1.Webhook) (*sirsiv1.Webhook, error)
	GetWebhook(ctx context.Context, id string) (*sirsiv1.Webhook, error)
	// UpdateWebhook replaces url, event types, enabled and description; an
	// empty secret keeps the stored one. Disabling dead-letters the
	// endpoint's pending deliveries in the same transaction.
	UpdateWebhook(ctx context.Context, w *sirsiv1.Webhook) (*sirsiv1.Webhook, error)
	// DeleteWebhook removes the endpoint and dead-letters its pending
	// deliveries in the same transaction.
	DeleteWebhook(ctx context.Context, id string, version int64) error
	ListWebhooks(ctx context.Context, p Page) ([]*sirsiv1.Webhook, string, error)

	CreateAgent(ctx context.Context, a *sirsiv1.Agent) (*sirsiv1.Agent, error)
	GetAgent(ctx context.Context, id string) (*sirsiv1.Agent, error)
	// RecordHeartbeat updates the agent and its cloud account's last-seen
	// time and agent version in one transaction.
	RecordHeartbeat(ctx context.Context, agentID string, hb Heartbeat) (*sirsiv1.Agent, error)
	// UpdateAgentCertificate records a newly issued certificate; the one it
	// replaces becomes the previous certificate (see AgentAuth).
	UpdateAgentCertificate(ctx context.Context, agentID string, serial string, expires time.Time) error
	// GetAgentAuth is what an agent's client certificate is checked
	// against on every call, in one read.
	GetAgentAuth(ctx context.Context, agentID string) (*AgentAuth, error)
	RevokeAgent(ctx context.Context, id string) (*sirsiv1.Agent, error)
	ListAgents(ctx context.Context, cloudAccountID string, p Page) ([]*sirsiv1.Agent, string, error)

	// Apply* write one agent batch in one transaction, at most once per
	// (tenant, batch id): a batch id seen before returns duplicate=true and
	// changes nothing.
	ApplyInventory(ctx context.Context, cloudAccountID, batchID string, b InventoryBatch) (InventoryResult, error)
	ApplyUtilization(ctx context.Context, cloudAccountID, batchID string, s []*sirsiv1.UtilizationSummary) (duplicate bool, err error)
	ApplyCosts(ctx context.Context, cloudAccountID, batchID string, records []*sirsiv1.CostRecord, anomalies []*sirsiv1.CostAnomaly) (duplicate bool, err error)
	// ApplyResourceCosts keeps resource-level daily costs and reconciles
	// the savings ledger entries of the resources named with them
	// (internal/ledger); a non-empty unavailable instead records on the
	// account's estimated entries why Cost Explorer cannot verify them.
	ApplyResourceCosts(ctx context.Context, cloudAccountID, batchID string, costs []*sirsiv1.ResourceCost, unavailable string) (duplicate bool, err error)
	// ApplyRecommendations replaces the open set of (account, policy): open
	// recommendations for the same resource and action keep their id and
	// status; approved ones too, unless the new report proposes other
	// sizes (an approval covers exactly the change approved: the approved
	// one is superseded and the new proposal is open); open and approved
	// ones not reported become superseded. resourceTypes scopes the
	// report: only open and approved recommendations of those resource
	// types are replaced (nil: every type), so a report deciding some types
	// leaves the others' recommendations as they are. Returns the ids in
	// input order.
	ApplyRecommendations(ctx context.Context, cloudAccountID, batchID, policyID string, resourceTypes []string, recs []*sirsiv1.Recommendation) (ids []string, duplicate bool, err error)
	// ApplyActions upserts actions by id. A finished (succeeded, failed or
	// rolled back) action that is not a dry run marks its recommendation
	// executed and, once every action of its approved plan has such an
	// action (matched by recommendation id), the plan executed.
	ApplyActions(ctx context.Context, cloudAccountID, batchID string, actions []*sirsiv1.Action) (duplicate bool, err error)

	ListResources(ctx context.Context, f ResourceFilter, p Page) ([]*sirsiv1.Resource, string, error)
	// InventoryVersion is the tenant's inventory version: it changes in
	// the transaction of every change to the tenant's resources (inventory
	// batches, a cloud account's deletion), so ListResources pages cached
	// under it are never served once a change has committed. 0 until the
	// first change.
	InventoryVersion(ctx context.Context) (int64, error)
	ListUtilization(ctx context.Context, f UtilizationFilter, p Page) ([]*sirsiv1.UtilizationSummary, string, error)
	// SumCosts aggregates stored cost records.
	SumCosts(ctx context.Context, q CostQuery) ([]CostRow, error)
	ListCostAnomalies(ctx context.Context, p Page) ([]*sirsiv1.CostAnomaly, string, error)
	GetRecommendation(ctx context.Context, id string) (*sirsiv1.Recommendation, error)
	// SetRecommendationStatus sets the status without the approval state
	// machine (tests and tools); the approver stays only on approved.
	SetRecommendationStatus(ctx context.Context, id string, status sirsiv1.RecommendationStatus) (*sirsiv1.Recommendation, error)
	// ListRecommendations also returns the total known saving over every
	// page.
	ListRecommendations(ctx context.Context, f RecommendationFilter, p Page) ([]*sirsiv1.Recommendation, string, *sirsiv1.Money, error)
	ListActions(ctx context.Context, f ActionFilter, p Page) ([]*sirsiv1.Action, string, error)

	// ApproveRecommendation moves an open recommendation to approved and
	// records approver and time; any other status is ErrFailedPrecondition
	// naming it.
	ApproveRecommendation(ctx context.Context, id, approver string, at time.Time) (*sirsiv1.Recommendation, error)
	// RevokeRecommendationApproval moves an approved recommendation back
	// to open and clears its approver; an open one is returned unchanged;
	// any other status is ErrFailedPrecondition.
	RevokeRecommendationApproval(ctx context.Context, id string) (*sirsiv1.Recommendation, error)
	// DismissRecommendation moves an open or approved recommendation to
	// dismissed; a dismissed one is returned unchanged; any other status
	// is ErrFailedPrecondition.
	DismissRecommendation(ctx context.Context, id string) (*sirsiv1.Recommendation, error)

	// SaveActionPlan stores a dry-run plan of the cloud account once per
	// (tenant, batch id), as pending, and supersedes the earlier pending
	// plans of the same account and policy. The plan id is the agent's: an
	// id stored for another cloud account is ErrAlreadyExists, one stored
	// for this account already is a duplicate that changes nothing (a saved
	// plan never changes, so an approval covers exactly what was saved).
	// The policy must exist (ErrFailedPrecondition).
	SaveActionPlan(ctx context.Context, cloudAccountID, batchID string, p *sirsiv1.ActionPlan) (duplicate bool, err error)
	GetActionPlan(ctx context.Context, id string) (*sirsiv1.ActionPlan, error)
	ListActionPlans(ctx context.Context, f ActionPlanFilter, p Page) ([]*sirsiv1.ActionPlan, string, error)
	// ApproveActionPlan moves a pending plan to approved and records
	// approver and time; any other status is ErrFailedPrecondition naming
	// it.
	ApproveActionPlan(ctx context.Context, id, approver string, at time.Time) (*sirsiv1.ActionPlan, error)

	// ReserveActions grants up to r.Count actions under the tenant-wide
	// cap (the tenant's max_actions_per_hour, r.DefaultLimit when unset):
	// the grants of the reservations made in the trailing ReservationWindow
	// before r.At are counted, in a transaction that serialises
	// reservations of one tenant. A reservation id seen before returns the
	// grant stored for it and counts nothing again. The policy must exist
	// (ErrNotFound).
	ReserveActions(ctx context.Context, r Reservation) (Grant, error)

	// SavingsSummary reports the savings ledger as of now (internal/ledger):
	// what its entries accrued to date, in the last 30 days and this month,
	// and the run-rate of those open at now.
	SavingsSummary(ctx context.Context, now time.Time) (*sirsiv1.GetSavingsSummaryResponse, error)

	ListAuditEvents(ctx context.Context, f AuditFilter, p Page) ([]*sirsiv1.AuditEvent, string, error)

	// PruneRetained deletes at most limit of the tenant's rows of kind
	// older than before, in one short transaction, and returns how many
	// it deleted (fewer than limit: nothing older is left). What "older"
	// means per kind is said at Retained. Rows another transaction holds
	// (a replica pruning at once, a batch updating them) are skipped, not
	// waited for, and a row updated to be newer is never deleted.
	PruneRetained(ctx context.Context, kind Retained, before time.Time, limit int) (int64, error)
	// ListWebhookEvents lists the tenant's webhook events, oldest first;
	// an unspecified state means every state.
	ListWebhookEvents(ctx context.Context, state sirsiv1.WebhookEventState, p Page) ([]*sirsiv1.WebhookEvent, string, error)
}

// Retained is a kind of tenant data the retention pruner removes once it
// is older than the tenant's retention (sirsiv1.Tenant's *_retention_days).
type Retained string

const (
	// RetainedUtilization: summaries whose window ended before the cutoff
	// (no sweep has refreshed them since).
	RetainedUtilization Retained = "utilization"
	// RetainedActions: actions that ended before the cutoff (succeeded,
	// failed or rolled back) and dry runs started before it; never a
	// running action, nor one of an approved plan still waiting for its
	// other actions. The savings ledger keeps its own entries, and the
	// summary's action counts include what was pruned.
	RetainedActions Retained = "actions"
	// RetainedAnomalies: cost anomalies about a day before the cutoff and
	// last detected before it.
	RetainedAnomalies Retained = "cost_anomalies"
)

// RetainedAudit names audit events in retention's reports and metrics;
// they are pruned through Store.PruneAudit, which keeps the chain
// verifiable, never through PruneRetained.
const RetainedAudit Retained = "audit_events"

// RetainedKinds are the kinds PruneRetained accepts, in the order the
// pruner walks them.
var RetainedKinds = []Retained{RetainedUtilization, RetainedActions, RetainedAnomalies}

// Heartbeat is what an agent tells about itself.
type Heartbeat struct {
	At             time.Time
	Version        string
	Hostname       string
	Uptime         time.Duration
	LastSweepTimes map[string]time.Time
	LastError      string
	// LastSweepFailures is each sweep's last failure.
	LastSweepFailures map[string]SweepFailure
	// CredentialsVerdict is the agent's last check of its AWS credentials;
	// unspecified keeps the stored verdict. A mismatch or a refused role
	// becomes the agent's and the cloud account's status, with
	// CredentialsDetail as their status_detail.
	CredentialsVerdict sirsiv1.CredentialsVerdict
	CredentialsDetail  string
}

// SweepFailure is when a sweep last failed and why.
type SweepFailure struct {
	At    time.Time
	Error string
}

// AgentAuth is an agent with its certificate serials: the current one
// (expiring at Agent.CertExpireTime) and the one it replaced, which stays
// acceptable until PrevCertExpire so that a renewal whose answer was lost
// does not lock the agent out. Serials are empty until issued.
type AgentAuth struct {
	Agent          *sirsiv1.Agent
	CertSerial     string
	PrevCertSerial string
	PrevCertExpire time.Time
	// AccountID is the cloud account's provider account id (the 12-digit
	// AWS account).
	AccountID string
}

// Enrollment is an agent presenting an enrollment token. AgentID is
// derived from the token and the agent's key, so that presenting them
// again names the same agent; the certificate was issued for it.
type Enrollment struct {
	SecretHash []byte
	TokenID    string
	At         time.Time
	AgentID    string
	Hostname   string
	Version    string
	CertSerial string
	CertExpire time.Time
}

// Enrolled is what EnrollAgent admitted.
type Enrolled struct {
	Token *sirsiv1.EnrollmentToken
	Agent *sirsiv1.Agent
	// Replayed: the agent existed; no use of the token was counted.
	Replayed bool
}

// InventoryBatch is one ReportInventory call.
type InventoryBatch struct {
	Upserts    []*sirsiv1.Resource
	Deletions  []*sirsiv1.ResourceRef
	ObservedAt time.Time
	// Units state collection units' membership as the sweep at ObservedAt
	// found them (see sirsiv1.InventoryUnit).
	Units []*sirsiv1.InventoryUnit
}

// InventoryResult is what applying an inventory batch found.
type InventoryResult struct {
	Duplicate bool
	// Missing are ids the batch's units named that no stored resource
	// has: a delta that was lost. Empty for a duplicate.
	Missing []*sirsiv1.ResourceRef
}

type ResourceFilter struct {
	CloudAccountID string
	Type           string
	Region         string
	Tags           map[string]string
	// ResourceID is the cloud's id, in any account and region.
	ResourceID string
	// Query is a free-text search (validation.Search): each of its words
	// (validation.SearchTerms) must occur, ignoring the case of ASCII
	// letters, in the name, the resource id or the type, or in a tag key
	// or value.
	Query string
}

type UtilizationFilter struct {
	ResourceID string
	// ResourceIDs, when not empty, keeps summaries of these resource ids.
	ResourceIDs []string
	Metric      string
}

// CostQuery selects [Start, End) days. GroupBy is "", "service", "account",
// "region" or "tag:<key>" (records without the tag group under "").
type CostQuery struct {
	Start, End     time.Time
	Monthly        bool
	GroupBy        string
	CloudAccountID string
}

// CostRow is the sum of one group in one period (a day, or a calendar month
// when Monthly).
type CostRow struct {
	PeriodStart time.Time
	Key         string
	// AmountMicros is in micro-units of Currency, the sum of the known
	// amounts; Unknown counts the records whose amount is unknown (a row
	// of those alone has no Currency).
	AmountMicros int64
	Currency     string
	Unknown      int64
}

type RecommendationFilter struct {
	PolicyID     string
	ResourceType string
	// ResourceID is the cloud's id of the resource.
	ResourceID string
	// MinMonthlySavingsMicros keeps recommendations saving at least this
	// many US-dollar micro-units; 0 keeps all.
	MinMonthlySavingsMicros int64
	// Unspecified means open.
	Status sirsiv1.RecommendationStatus
}

type ActionFilter struct {
	PolicyID   string
	ResourceID string
	Status     sirsiv1.ActionStatus
}

type ActionPlanFilter struct {
	PolicyID       string
	CloudAccountID string
	// Unspecified means every status.
	Status sirsiv1.ActionPlanStatus
}

// ReservationWindow is the trailing period the tenant-wide action cap
// counts grants over.
const ReservationWindow = time.Hour

// Reservation asks for permission to start Count actions at At.
type Reservation struct {
	ID             string
	CloudAccountID string
	PolicyID       string
	Count          int
	At             time.Time
	DefaultLimit   int
}

// Grant answers a Reservation. RetryAt is set when Granted < Count: when
// the oldest grant counted leaves the window, or a whole window after the
// reservation when nothing was counted (a cap of zero).
type Grant struct {
	Granted int
	RetryAt time.Time
}

type AuditFilter struct {
	Actor      string
	Action     string
	Outcome    string
	Target     string
	Start, End time.Time
}

// AuditBreak names the first audit event whose chain hash is wrong.
// AuditHead is the newest entry of the audit chain, as an operator keeps
// it elsewhere to detect truncation: "SEQUENCE:HASH".
type AuditHead struct {
	Sequence int64
	Hash     string
}

func (h AuditHead) String() string { return fmt.Sprintf("%d:%s", h.Sequence, h.Hash) }

// ParseAuditHead reads an AuditHead's String form.
func ParseAuditHead(v string) (AuditHead, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(v), ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 1 {
		return AuditHead{}, fmt.Errorf("audit head %q: want SEQUENCE:HASH with a sequence of at least 1", v)
	}
	if _, err := hex.DecodeString(hash); err != nil || len(hash) != 2*sha256.Size {
		return AuditHead{}, fmt.Errorf("audit head %q: the hash must be %d hexadecimal digits", v, 2*sha256.Size)
	}
	return AuditHead{Sequence: n, Hash: strings.ToLower(hash)}, nil
}

type AuditBreak struct {
	Sequence int64
	ID       string
	Reason   string
}

// TokenCap bounds a tenant's live API tokens: those not expired at Now
// (the caller's clock, which judges expiry when a token is used). Max 0 is
// no cap.
type TokenCap struct {
	Max int
	Now time.Time
}
