# shellcheck shell=bash
# Shared by scripts/demo.sh and scripts/bench-provider.sh (source it): build
# the binaries, run `agentd dev` in the background, and point Terraform at the
# fresh provider build with dev_overrides.

# sirsi_build BIN_DIR ROOT: terraform-provider-sirsi and agentd into BIN_DIR.
sirsi_build() {
  local bin=$1 root=$2
  (cd "$root" && go build -ldflags "-X main.version=0.0.0-dev" -o "$bin/terraform-provider-sirsi" .)
  (cd "$root" && go build -o "$bin/agentd" ./agentd)
}

# sirsi_start_agentd_dev BIN_DIR WORK_DIR [FLAG...]: starts agentd dev on
# free loopback ports (port 0: the export lines carry the ones it got) with
# its data in WORK_DIR/agentd and any further flags, waits (60s at most) for
# its export lines and evals them. Sets SIRSI_AGENTD_PID.
sirsi_start_agentd_dev() {
  local bin=$1 work=$2
  shift 2
  "$bin/agentd" dev -data-dir "$work/agentd" -listen 127.0.0.1:0 -http-listen 127.0.0.1:0 "$@" \
    >"$work/agentd.out" 2>"$work/agentd.log" &
  SIRSI_AGENTD_PID=$!
  local _
  for _ in $(seq 1 600); do
    if [[ $(grep -c '^export SIRSI_' "$work/agentd.out" || true) -ge 4 ]]; then
      eval "$(grep '^export SIRSI_' "$work/agentd.out")"
      return 0
    fi
    if ! kill -0 "$SIRSI_AGENTD_PID" 2>/dev/null; then
      echo "agentd dev exited before printing its exports; its log:" >&2
      tail -n 30 "$work/agentd.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "agentd dev printed no SIRSI_ exports within 60s" >&2
  return 1
}

# sirsi_stop_agentd: SIGTERM (agentd drains for a bounded time), then SIGKILL
# after 10s.
sirsi_stop_agentd() {
  local pid=${SIRSI_AGENTD_PID:-} _
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  SIRSI_AGENTD_PID=""
}

# sirsi_cli_config BIN_DIR FILE [SOURCE=DIR...]: a Terraform CLI
# configuration that uses the provider in BIN_DIR, and each further
# provider SOURCE (e.g. registry.terraform.io/hashicorp/time) from DIR;
# exported as TF_CLI_CONFIG_FILE. With every provider overridden (or built
# in), plan and apply need no `terraform init`; Terraform warns that dev
# overrides are in effect.
sirsi_cli_config() {
  local bin=$1 file=$2 extra="" o
  shift 2
  for o in "$@"; do
    extra+="    \"${o%%=*}\" = \"${o#*=}\""$'\n'
  done
  cat >"$file" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/sirsinexus/sirsi" = "$bin"
${extra}  }
  direct {}
}
RC
  export TF_CLI_CONFIG_FILE=$file
  export TF_IN_AUTOMATION=1
  export TF_INPUT=0
}
