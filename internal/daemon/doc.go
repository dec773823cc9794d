// Package daemon is the agentd command line: a subcommand per role, like
// Consul and Nomad, in one command tree (command.go) that opens every
// command the same way and lists nested ones in `agentd -h`. Each
// long-running role is an oklog/run group whose actors (gRPC and HTTP
// listeners, the control plane's background jobs, the agent's sweeps,
// signal handling) stop together; dev adds the simulated account and its
// agent as more actors through serve's extra argument.
//
// # agentd server
//
// Settings come from defaults < -config FILE (HCL) < SIRSI_* environment <
// flags; internal/config lists them. The data dir holds:
//
//	agentd.db        SQLite database (unless database_url selects PostgreSQL)
//	operator-token   generated on first start, mode 0600, never overwritten
//	tls/ca.pem       CA certificate (give it to clients as SIRSI_CA_CERT_FILE)
//	tls/ca-key.pem   CA key, 0600
//	tls/server*.pem  server certificate issued by that CA, renewed when due
//
// gRPC is TLS 1.2+ with the tls.cert_file/key_file pair when given, else
// with a certificate from the data dir CA; plaintext only with -insecure.
// tls.client_ca_file makes client certificates required.
//
// # agentd dev
//
// A server with zero setup: SQLite in a temporary data dir (or -data-dir,
// reusable across restarts), gRPC on 127.0.0.1:7443, the operator token
// "sirsi-dev-root-token" (or -dev-token), TLS from a generated CA, and a
// tenant named dev. It reads flags only. stdout carries exactly
//
//	export SIRSI_ENDPOINT=https://127.0.0.1:7443
//	export SIRSI_TOKEN=sirsi-dev-root-token
//	export SIRSI_TENANT_ID=<id of tenant dev>
//	export SIRSI_CA_CERT_FILE=<data dir>/tls/ca.pem
//
// and nothing else, so `agentd dev > sirsi.env &` followed, once the file
// has its lines, by `. ./sirsi.env` configures the provider in that shell. With -insecure the endpoint
// is http:// and there is no CA line. Endpoints are URLs: https = TLS,
// http = plaintext, as internal/client parses them.
//
// # agentd sim
//
// Serves internal/awssim on loopback (default 127.0.0.1:4566) and prints
// AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
// and AWS_DEFAULT_REGION export lines.
//
// # Signals and exit codes
//
// SIGINT/SIGTERM stop accepting RPCs and drain the in-flight ones for up
// to shutdown_timeout, then exit 0. A second SIGINT/SIGTERM cuts every
// connection and exits 3. SIGHUP re-reads the configuration (file and
// environment; flags still win) and applies the log level and, when
// configured, the tls.cert_file/key_file pair; an invalid file is logged
// and the running settings stay. Exit 1 is a failure to start or serve,
// exit 2 a usage or configuration error.
package daemon
