#!/usr/bin/env bash
# Runs every benchmark and prints the figures that docs/benchmarks.md quotes.
# Usage: scripts/bench.sh [go-test-bench-regexp]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
pattern="${1:-.}"
export TF_ACC_TERRAFORM_PATH="${TF_ACC_TERRAFORM_PATH:-$PWD/bin/terraform}"

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(go version)"
# -run '^$' keeps the tests out; BENCHTIME overrides go test's default.
go test -run '^$' -bench "$pattern" -benchmem ${BENCHTIME:+-benchtime "$BENCHTIME"} -timeout 60m \
	./internal/store/... ./internal/controlplane/... ./internal/awssim/... ./internal/pricing/... \
	./internal/discovery/ ./internal/monitor/ ./internal/agent/... ./internal/actuator/ ./internal/secrets/
# The optimizer's goal is per core.
GOMAXPROCS=1 go test -run '^$' -bench "$pattern" ${BENCHTIME:+-benchtime "$BENCHTIME"} ./internal/optimizer/
if [ "$pattern" = "." ]; then
	make --no-print-directory bench-listresources BENCH_STORE=sqlite
	make --no-print-directory bench-listresources BENCH_STORE=postgres
	./scripts/bench-provider.sh
fi
