#!/usr/bin/env bash
# Installs the real Prometheus tools the observability tests run against the plugin: the `prometheus` server (the
# tests start their own, on a free loopback port, with a generated config) and `promtool` (lints our /metrics
# output). Both come from the Debian package `prometheus`, installed without its recommends (no node exporter).
# Usage: scripts/install-observability-tools.sh
#
# Idempotent and fast: it only checks when both binaries are present, and runs `apt-get update` (once) only when
# something must be installed. Prints the directory holding both binaries on its last line.
set -euo pipefail

log() { printf '[observability-tools] %s\n' "$*" >&2; }
die() {
  printf '[observability-tools] ERROR: %s\n' "$*" >&2
  exit 1
}

present() { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; }

if ! present; then
  command -v apt-get >/dev/null 2>&1 || die "prometheus/promtool missing and no apt-get: install Prometheus 2.x by hand"
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "prometheus/promtool missing: re-run as root (no sudo found)"
    sudo=(sudo)
  fi
  started=${SECONDS}
  log "apt-get update"
  "${sudo[@]}" apt-get update -q >&2
  log "installing prometheus (brings promtool)"
  # The package's service is never needed: the tests run their own server. In containers policy-rc.d usually keeps
  # it from starting; where it does start, it listens on :9090, which the tests do not use.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >&2
  present || die "the prometheus package installed but prometheus/promtool are still not on PATH"
  log "installed in $((SECONDS - started))s"
fi
dirname -- "$(command -v promtool)"
