#!/usr/bin/env bash
# bench-provider.sh: `terraform plan -refresh=true` of N (default 500)
# sirsi_optimization_policy resources against the same plan of N
# terraform_data resources (Terraform's built-in provider) and of N
# time_static resources of hashicorp/terraform-provider-time (the peer: a
# provider on the same terraform-plugin-framework version, built from the
# Go module proxy): same Terraform CLI (bin/terraform), same machine, RUNS
# (default 5) timed runs each, alternating. Prints every run, the median of
# each and the ratios of the medians (goal: <= 1.5x terraform_data).
#
# The policies are created first with `terraform apply` against `agentd dev`,
# in a tenant of their own, so the plan refreshes N real objects over gRPC.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
tf="$bin/terraform"
n=${N:-500}
runs=${RUNS:-5}
# The peer's version: its go.mod requires terraform-plugin-framework
# v1.19.0 and terraform-plugin-go v0.31.0, as ours does.
time_version=v0.14.2
# shellcheck source=scripts/lib/agentd-dev.sh
source "$root/scripts/lib/agentd-dev.sh"

if [[ ! -x "$tf" ]]; then
  echo "bench-provider: $tf not found; run 'make bench-provider', which builds Terraform first" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sirsi-bench.XXXXXX")
cleanup() {
  local rc=$?
  sirsi_stop_agentd
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "building provider and agentd" >&2
sirsi_build "$bin" "$root"
time_dir="$bin/terraform-provider-time-$time_version"
if [[ ! -x "$time_dir/terraform-provider-time" ]]; then
  echo "building hashicorp/terraform-provider-time $time_version from the Go module proxy" >&2
  GOBIN="$time_dir" go install "github.com/hashicorp/terraform-provider-time@$time_version"
fi
# No simulated account and no agent: their sweeps would share the two cores
# with the plans being timed.
sirsi_start_agentd_dev "$bin" "$work" -dev-fleet-size 0
sirsi_cli_config "$bin" "$work/terraformrc" "registry.terraform.io/hashicorp/time=$time_dir"

for d in setup policies terraform_data time_static; do
  mkdir "$work/$d"
  cp "$root/scripts/bench/$d/main.tf" "$work/$d/"
done

echo "creating a tenant and its admin token" >&2
(cd "$work/setup" && "$tf" apply -auto-approve -no-color >"$work/setup.log")
SIRSI_TOKEN=$(cd "$work/setup" && "$tf" output -raw token)
SIRSI_TENANT_ID=$(cd "$work/setup" && "$tf" output -raw tenant_id)
export SIRSI_TOKEN SIRSI_TENANT_ID

echo "applying $n optimization policies, $n terraform_data and $n time_static" >&2
(cd "$work/policies" && "$tf" apply -auto-approve -no-color -var "n=$n" >"$work/policies-apply.log")
(cd "$work/terraform_data" && "$tf" apply -auto-approve -no-color -var "n=$n" >"$work/data-apply.log")
(cd "$work/time_static" && "$tf" apply -auto-approve -no-color -var "n=$n" >"$work/time-apply.log")

# time_plan DIR: seconds of one refreshing plan, which must find no changes.
time_plan() {
  local dir=$1 start end rc
  start=$(date +%s.%N)
  set +e
  (cd "$dir" && "$tf" plan -refresh=true -detailed-exitcode -no-color -var "n=$n" >"$work/plan.log" 2>&1)
  rc=$?
  set -e
  end=$(date +%s.%N)
  if [[ $rc -ne 0 ]]; then
    cat "$work/plan.log" >&2
    echo "bench-provider: plan in $dir was not clean (exit $rc)" >&2
    return 1
  fi
  python3 -c "print(f'{$end - $start:.3f}')"
}

sirsi_times=()
data_times=()
time_times=()
for i in $(seq 1 "$runs"); do
  s=$(time_plan "$work/policies")
  d=$(time_plan "$work/terraform_data")
  p=$(time_plan "$work/time_static")
  sirsi_times+=("$s")
  data_times+=("$d")
  time_times+=("$p")
  echo "run $i: sirsi_optimization_policy ${s}s, terraform_data ${d}s, time_static ${p}s"
done

python3 - "$n" "$(cut -d' ' -f1 /proc/loadavg)" "${sirsi_times[*]}" "${data_times[*]}" "${time_times[*]}" <<'PY'
import statistics, sys
n, load = sys.argv[1], sys.argv[2]
sirsi, data, peer = ([float(x) for x in a.split()] for a in sys.argv[3:6])
ms, md, mp = statistics.median(sirsi), statistics.median(data), statistics.median(peer)
print(f"median plan -refresh=true of {n} sirsi_optimization_policy: {ms:.3f}s")
print(f"median plan -refresh=true of {n} terraform_data:            {md:.3f}s")
print(f"median plan -refresh=true of {n} time_static:               {mp:.3f}s")
for name, base in (("terraform_data", data), ("time_static", peer)):
    ratios = [s / b for s, b in zip(sirsi, base)]
    print(f"sirsi / {name}: ratio of the medians {ms / statistics.median(base):.2f}x; median of the per-run ratios {statistics.median(ratios):.2f}x")
print("goal: <= 1.5x terraform_data")
print()
print("| runs | policies (median) | terraform_data (median) | time_static (median) | sirsi / terraform_data | sirsi / time_static | load avg at end |")
print("| --- | --- | --- | --- | --- | --- | --- |")
print(f"| {len(sirsi)} | {ms:.2f} s | {md:.2f} s | {mp:.2f} s | {ms / md:.2f}x | {ms / mp:.2f}x | {load} |")
PY

echo "destroying" >&2
(cd "$work/policies" && "$tf" destroy -auto-approve -no-color -var "n=$n" >/dev/null)
(cd "$work/time_static" && "$tf" destroy -auto-approve -no-color -var "n=$n" >/dev/null)
