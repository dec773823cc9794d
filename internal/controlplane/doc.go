// Package controlplane serves sirsi.v1.ManagementService: request
// validation, authentication and authorisation, audit, metrics, and the
// periodic jobs of the control plane. It keeps no state in memory that
// another replica would need: everything lives in the store, so several
// servers can share one PostgreSQL database.
//
// Wiring it into a gRPC server (what agentd server and agentd dev do):
//
//	srv, err := controlplane.New(controlplane.Options{
//		Store:         st,             // store.Store, owned by the caller
//		Logger:        log.Named("controlplane"),
//		Registerer:    registry,       // the daemon's own prometheus.Registry
//		OperatorToken: cfg.OperatorToken, // optional
//	})
//	if tok := srv.InitialOperatorToken(); tok != "" {
//		// first start: write tok to <data-dir>/operator-token, mode 0600
//	}
//	g := grpc.NewServer(append(srv.ServerOptions(), grpc.Creds(tlsCreds))...)
//	srv.Register(g)
//	// run srv.Run(ctx) in the run group next to g.Serve(lis)
//
// ServerOptions chains the interceptors (UnaryInterceptors and
// StreamInterceptors return them for callers that build their own chain).
// Request ids, panic recovery and metrics apply to every service on the
// server; bearer-token authentication and authorisation apply to
// ManagementService only, AgentService calls are authenticated by client
// certificate instead (see AgentServer; RegisterAgentService serves it).
//
// Authentication: "authorization: Bearer <token>" metadata. The operator
// token (one per deployment) is kept as a SHA-256 hash in the store's
// settings; tenant API tokens are looked up by hash and carry a role.
//
// Authorisation is the table in authz.go, one rule per RPC. The operator
// manages tenants, bootstraps and revokes their API tokens and reads the
// audit log; everything inside a tenant (accounts, policies, enrollment
// tokens, inventory, costs...) is for that tenant's own API tokens:
// viewer reads, editor also writes accounts, policies and enrollment
// tokens and revokes agents, admin also manages API tokens. A tenant token
// naming another tenant gets PermissionDenied before anything is looked
// up, so it cannot learn whether the other tenant or its objects exist.
//
// Server-side defaults: tenant tier standard; cloud account cloud aws;
// policy mode recommend, max_actions_per_run 5 (an explicit 0 stays 0:
// recommend only), verify.rollback_on_failure true, verify.wait_minutes
// 10, timezone UTC (offhours inherit the policy's), rightsizing statistic
// p95 and lookback 14 days, idle lookback 7 days and action recommend; an
// empty resource_types list means every type; policies in approve or auto
// mode need a schedule. Enrollment tokens: ttl 24h, max_uses 1. Pages:
// 100 items. Enrollment and API token secrets appear only in the Create
// response.
//
// Status: a cloud account is pending until its first heartbeat, then
// connected, or stale once silent for longer than AgentStaleAfter; agents
// likewise (counted from enrollment before the first heartbeat) unless
// revoked. Both are computed at read time, never stored.
//
// Background jobs (Run): pruning enrollment tokens that expired or were
// used up more than EnrollmentTokenRetention ago, every JobInterval, under
// store.TryLeader so replicas on one PostgreSQL take turns.
//
// Errors: store.ErrNotFound → NotFound, ErrAlreadyExists → AlreadyExists,
// ErrVersionMismatch → Aborted, ErrFailedPrecondition → FailedPrecondition,
// ErrInvalidPageToken and ErrInvalidArgument → InvalidArgument; anything
// else is logged and returned as Internal carrying only the request id.
// Validation failures are InvalidArgument with a
// google.rpc.BadRequest detail listing every field path and reason.
//
// Cost forecast: GetCostSummary's forecast_month_end is the current UTC
// month's spend up to yesterday plus the average daily spend of the last
// seven complete days that have cost records, times the days left in the
// month including today. Days without records are left out of the
// average so a new account's missing history does not drag it to zero.
package controlplane
