#!/usr/bin/env bash
# Installs the real third-party tools the build and the tests use (grpcurl, grpc-health-probe: gRPC clients; buf: the
# protobuf compiler that writes the descriptor set reflection serves, and the lint/breaking checker; ghz: the unary
# gRPC load generator of `npm run bench`) from the Go module proxy into .cache/tools/bin, and the OTLP receiver of the
# tracing test (scripts/install-otlp-receiver.sh). Idempotent: a no-op when every binary is present.
# Usage: scripts/install-tools.sh   (prints the bin directory on its last line)
set -euo pipefail
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
bin="${PRISM_TOOLS_BIN:-${root}/.cache/tools/bin}"
mkdir -p "${bin}"

# Pinned versions: the tests assert on their output formats.
declare -A tools=(
  [grpcurl]="github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3"
  [grpc-health-probe]="github.com/grpc-ecosystem/grpc-health-probe@v0.4.62"
  [buf]="github.com/bufbuild/buf/cmd/buf@v1.75.0"
  [ghz]="github.com/bojand/ghz/cmd/ghz@v0.120.0"
)
for name in "${!tools[@]}"; do
  if [[ -x "${bin}/${name}" ]]; then continue; fi
  # Go from PATH, /usr/local/go, or downloaded from the module proxy into .cache/go (only when a tool is missing).
  command -v go >/dev/null 2>&1 || PATH="$(bash "${root}/scripts/install-go.sh" | tail -n 1):${PATH}"
  echo "install-tools: go install ${tools[${name}]} (first run only)" >&2
  GOBIN="${bin}" go install "${tools[${name}]}"
done
# The OTLP receiver of the tracing test is a program of our own wiring (a minimal collector), built its own way.
PRISM_TOOLS_BIN="${bin}" bash "${root}/scripts/install-otlp-receiver.sh" >/dev/null
echo "${bin}"
