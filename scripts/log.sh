#!/usr/bin/env bash
# Diagnostics helpers shared by scripts/infra/lib.sh and scripts/image/lib.sh. Sourced, never executed.
# The sourcing library sets LOG_TAG (the prefix, e.g. infra) and PREREQS_SCRIPT (what installs missing tools).
# All diagnostics go to stderr so stdout stays parseable (status.sh --env, kafka-tool.sh, image ids).

log() { printf '[%s] %s\n' "${LOG_TAG}" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "${LOG_TAG}" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "${LOG_TAG}" "$*" >&2
  exit 1
}

need_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found; run ${PREREQS_SCRIPT}"
}
