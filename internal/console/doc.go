// Package console serves the web console at /ui/: a sign-in form taking a
// tenant API token, a single-page application (Preact, bundled by esbuild
// into dist/ and embedded, so building agentd needs no npm), JSON
// endpoints under /ui/api/ and a Server-Sent Events stream of changes.
//
// The console holds no access rule of its own: every JSON endpoint calls a
// ManagementService method in process with the signed-in token
// (controlplane.Server.InvokeManagement), so authentication, role checks,
// tenant scoping, rate limits and the audit log are the gRPC API's.
package console
