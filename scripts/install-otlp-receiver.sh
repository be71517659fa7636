#!/usr/bin/env bash
# Builds the real OTLP receiver the tracing integration test sends spans to: a minimal OpenTelemetry Collector
# (scripts/otlp-receiver/main.go: the collector's OTLP receiver and the contrib file exporter), from pinned modules
# of the Go module proxy, in a throwaway module under .cache, into .cache/tools/bin/otlp-receiver. Idempotent: a
# no-op when the binary is present. Measured on a 2-core machine: about 2.5 minutes with empty Go caches (Jaeger's
# all-in-one, the heavier alternative, about 7), a few seconds with warm ones.
# Usage: scripts/install-otlp-receiver.sh   (prints the binary's path on its last line)
set -euo pipefail
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
bin="${PRISM_TOOLS_BIN:-${root}/.cache/tools/bin}"
target="${bin}/otlp-receiver"
if [[ -x "${target}" ]]; then
  echo "${target}"
  exit 0
fi
mkdir -p "${bin}" "${root}/.cache"
command -v go >/dev/null 2>&1 || PATH="$(bash "${root}/scripts/install-go.sh" | tail -n 1):${PATH}"

# One collector release throughout (core v0.161.0 goes with v1.67.0 and contrib v0.161.0).
modules=(
  go.opentelemetry.io/collector/otelcol@v0.161.0
  go.opentelemetry.io/collector/receiver/otlpreceiver@v0.161.0
  go.opentelemetry.io/collector/confmap/provider/fileprovider@v1.67.0
  go.opentelemetry.io/collector/service@v0.161.0
  github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter@v0.161.0
)
work="$(mktemp -d "${root}/.cache/otlp-receiver.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
cp "${root}/scripts/otlp-receiver/main.go" "${work}/"
started=${SECONDS}
echo "install-otlp-receiver: building a minimal OpenTelemetry Collector (first run only)" >&2
(
  cd "${work}"
  go mod init prism-otlp-receiver >/dev/null 2>&1
  go get "${modules[@]}" >&2
  go mod tidy >&2
  go build -trimpath -o "${target}.tmp" .
)
mv "${target}.tmp" "${target}"
echo "install-otlp-receiver: built in $((SECONDS - started))s" >&2
echo "${target}"
