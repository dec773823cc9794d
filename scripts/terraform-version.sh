#!/usr/bin/env bash
# terraform-version.sh TERRAFORM VERSION: exits 0 when TERRAFORM reports
# exactly "Terraform vVERSION" on a line of `version` (a CLI configuration
# warning may come first).
#
# The output is captured whole and matched in the shell: piping it into
# `grep -q` under pipefail fails at random, because grep exits at the first
# match and Terraform, still writing its platform line, dies of SIGPIPE
# (exit 141) — the pipeline then fails although the version is right.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 TERRAFORM VERSION" >&2
  exit 2
fi
tf=$1 want=$2
out=$("$tf" version 2>&1) || { echo "$tf version failed:" >&2; echo "$out" >&2; exit 1; }
nl=$'\n'
if [[ "$nl$out$nl" == *"${nl}Terraform v$want$nl"* ]]; then
  exit 0
fi
echo "$tf is not Terraform v$want; it says:" >&2
echo "$out" >&2
exit 1
