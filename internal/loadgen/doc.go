// Package loadgen is the ListResources load generator of `make
// bench-listresources` (docs/benchmarks.md): from a process of its own it
// starts `agentd server` (one on SQLite, or replicas on one PostgreSQL),
// seeds a tenant through the real API and ingest path, and drives N gRPC
// clients, each with its own connection and viewer token, in open and
// closed loop. Each model runs several times; the figures are medians with
// their spread, the machine's load average during the runs and the CPU
// the server processes actually got (from /proc/PID/stat), so the clients'
// decoding never counts as server work.
//
// The same load models and statistics serve the in-process regression
// benchmark in internal/controlplane.
package loadgen
