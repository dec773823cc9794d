// Package cptest starts a real control plane for tests: the
// controlplane.Server over a SQLite store in t.TempDir(), served by gRPC on
// 127.0.0.1:0 (plaintext, or TLS with a throwaway CA), torn down with
// t.Cleanup.
//
//	env := cptest.Start(t)                     // plaintext
//	env := cptest.Start(t, cptest.WithTLS())   // TLS; env.CACertFile for clients
//
//	env.Endpoint        "127.0.0.1:port"
//	env.OperatorToken   the operator token the server made on first start
//	env.Client          ManagementServiceClient authenticated as the operator
//	env.Store           the store.Store, to seed agent data:
//	                    env.Store.Tenant(id).ApplyInventory(ctx, acct, batch, b)
//	env.Clock           the server's clock; Advance or Set it to expire tokens
//	                    or make agents stale
//	env.Registry        the server's Prometheus registry
//	env.Server          the *controlplane.Server
//
//	tn := env.NewTenant(t, "acme")  // a tenant plus admin, editor and viewer
//	tn.ID, tn.AdminToken, tn.EditorToken, tn.ViewerToken
//	tn.Admin, tn.Editor, tn.Viewer  // clients for those tokens
//	secret, tok := env.NewAPIToken(t, tn.ID, sirsiv1.Role_ROLE_VIEWER, time.Hour)
//	c := env.Dial(t, secret)        // a client for any token ("" sends none)
//	conn := env.DialConn(t, secret) // the same as a *grpc.ClientConn
//
// AgentService (mutual TLS on a second listener, as agentd server runs it):
//
//	env := cptest.Start(t, cptest.WithAgentService())
//	env.AgentEndpoint   "127.0.0.1:port" of AgentService
//	env.CACertPEM       the agent CA agents trust (also env.CACertFile)
//	env.AgentCA         the *pki.CA, to sign test certificates
//	acct := env.NewCloudAccount(t, tn.ID, "123456789012")
//	secret := env.NewEnrollmentToken(t, tn.ID, acct.Id)  // single use, 1h
//	ag := env.EnrollAgent(t, tn.ID, acct.Id)  // ag.ID, ag.Cert, ag.Client
//	c := env.DialAgent(t, &ag.Cert)           // nil: no client certificate
//
// Options: WithTLS, WithAgentService, WithStore (e.g. a PostgreSQL store from
// internal/store/pgtest; Start closes it), WithOperatorToken, WithLogger,
// WithServerOptions (edit controlplane.Options before New).
package cptest
