#!/usr/bin/env bash
# demo.sh: the quickstart end to end, non-interactively. Builds the provider
# and agentd into ./bin, starts `agentd dev`, applies examples/quickstart with
# a dev_overrides CLI configuration pointing at the fresh provider build,
# checks that a second plan is empty, prints the outputs, destroys, and stops
# agentd. Exits 0 only if every step worked.
#
# Uses bin/terraform (Terraform 1.5.7, built by `make demo` before this runs).
# SIRSI_DEMO_KEEP=1 keeps the work directory for inspection.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
tf="$bin/terraform"
# shellcheck source=scripts/lib/agentd-dev.sh
source "$root/scripts/lib/agentd-dev.sh"

if [[ ! -x "$tf" ]]; then
  echo "demo: $tf not found; run 'make demo', which builds Terraform first" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sirsi-demo.XXXXXX")

cleanup() {
  local rc=$?
  sirsi_stop_agentd
  if [[ $rc -ne 0 && -f "$work/agentd.log" ]]; then
    echo "demo: failed (exit $rc); last lines of the agentd log:" >&2
    tail -n 30 "$work/agentd.log" >&2 || true
  fi
  if [[ "${SIRSI_DEMO_KEEP:-}" == "1" ]]; then
    echo "demo: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n==> %s\n' "$*"; }

step "Building terraform-provider-sirsi and agentd into $bin"
sirsi_build "$bin" "$root"

step "Starting agentd dev"
sirsi_start_agentd_dev "$bin" "$work"
echo "endpoint $SIRSI_ENDPOINT, dev tenant $SIRSI_TENANT_ID"

sirsi_cli_config "$bin" "$work/terraformrc"
mkdir "$work/quickstart"
cp "$root"/examples/quickstart/*.tf "$work/quickstart/"
cd "$work/quickstart"

step "terraform apply"
"$tf" apply -auto-approve -no-color

step "terraform plan (must be empty after apply)"
set +e
"$tf" plan -detailed-exitcode -no-color >"$work/replan.txt" 2>&1
replan=$?
set -e
if [[ $replan -ne 0 ]]; then
  cat "$work/replan.txt"
  echo "demo: the plan after apply is not empty (exit $replan)" >&2
  exit 1
fi
echo "No changes."

step "terraform output"
"$tf" output -no-color

step "terraform destroy"
"$tf" destroy -auto-approve -no-color

step "What the dev agent found in the simulated AWS account (tenant dev)"
mkdir "$work/dev-inventory"
cp "$root"/examples/dev-inventory/*.tf "$work/dev-inventory/"
cd "$work/dev-inventory"
# The agent reports its first inventory seconds after start; wait up to a minute.
for _ in $(seq 1 30); do
  "$tf" apply -auto-approve -no-color >"$work/inventory.txt" 2>&1 || { cat "$work/inventory.txt"; exit 1; }
  [[ "$("$tf" output -raw resource_count)" -gt 0 ]] && break
  sleep 2
done
if [[ "$("$tf" output -raw resource_count)" -eq 0 ]]; then
  echo "demo: the dev agent reported no inventory within a minute" >&2
  exit 1
fi
"$tf" output -no-color

step "An auto policy right-sizes the simulated account (tenant dev)"
mkdir "$work/dev-optimize"
cp "$root"/examples/dev-optimize/*.tf "$work/dev-optimize/"
cd "$work/dev-optimize"
# The agent decides after its next utilisation sweep (it starts one when a
# policy appears) and acts in the next optimize run; wait up to 3 minutes.
for _ in $(seq 1 60); do
  "$tf" apply -auto-approve -no-color >"$work/optimize.txt" 2>&1 || { cat "$work/optimize.txt"; exit 1; }
  [[ "$("$tf" output -raw actions_succeeded)" -gt 0 ]] && break
  sleep 3
done
if [[ "$("$tf" output -raw actions_succeeded)" -eq 0 ]]; then
  echo "demo: the dev agent took no action within 3 minutes" >&2
  exit 1
fi
"$tf" output -no-color

step "Demo finished: apply, re-plan, outputs and destroy all succeeded; the agent's inventory, costs, recommendations and realised savings are in"
