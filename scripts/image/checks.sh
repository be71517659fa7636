#!/usr/bin/env bash
# PASS / FAIL / PENDING bookkeeping shared by the acceptance scripts (scripts/image/test.sh, scripts/kube/test.sh).
# Sourced, never executed. `check NAME FUNCTION ARGS…` runs a check; its last output line is the reason shown on failure.
# shellcheck disable=SC2034  # the counters are read by the sourcing script

PASSED=0
FAILED=0
PENDING=0
pass() {
  printf 'PASS %s\n' "$1"
  PASSED=$((PASSED + 1))
}
fail() {
  printf 'FAIL %s: %s\n' "$1" "$2"
  FAILED=$((FAILED + 1))
}
pending() {
  printf 'PENDING %s: %s\n' "$1" "$2"
  PENDING=$((PENDING + 1))
}
info() { printf 'INFO %s\n' "$*"; }

check() {
  local name="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    pass "${name}"
  else
    out="${out%$'\n'}"
    fail "${name}" "${out##*$'\n'}"
  fi
}

# The last line of a script: "<label>: N passed, M failed" (and the pending count when there are any); false on a failure.
summary() {
  local label="$1"
  if ((PENDING > 0)); then
    printf '%s: %d pending, not counted (see PENDING above)\n' "${label}" "${PENDING}"
  fi
  printf '%s: %d passed, %d failed\n' "${label}" "${PASSED}" "${FAILED}"
  ((FAILED == 0))
}
