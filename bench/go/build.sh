#!/usr/bin/env bash
# Builds the bench's Go load client (bench/go) into .cache/bench/bin/prism-bench-load: generates the Go stubs for the
# queue and stream services from proto/ with buf and the protoc plugins pinned in scripts/examples.sh, into
# .cache/bench/gen/go (generated code is never committed), then `go build`. Fast on a second run: the stubs are
# regenerated only when proto/ or a plugin pin changed, and go build caches.
# Usage: bench/go/build.sh   (prints the binary's path on its last line)
set -euo pipefail
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)"
LOG_TAG=bench-go
PREREQS_SCRIPT="bench/go/build.sh (Go must be on PATH or in /usr/local/go/bin)"
# shellcheck source=scripts/log.sh
source "${root}/scripts/log.sh"
command -v go >/dev/null 2>&1 || PATH="${PATH}:/usr/local/go/bin"
need_cmd go

cache="${root}/.cache/bench"
gen="${cache}/gen/go"
out="${cache}/bin/prism-bench-load"
bin="${PRISM_TOOLS_BIN:-${root}/.cache/tools/bin}"
# The stubs form the module their go_package options name; bench/go/go.mod replaces it with ${gen}.
gen_module="github.com/jrepp/prism-data-layer/pkg/plugin/gen"

# One set of pins for every generated Go client: read them from scripts/examples.sh.
pin() {
  local value
  value="$(sed -n "s/^$1=\"\(.*\)\"$/\1/p" "${root}/scripts/examples.sh")"
  [[ -n "${value}" ]] || die "no $1 pin in scripts/examples.sh"
  printf '%s\n' "${value}"
}
protoc_gen_go="$(pin protoc_gen_go)"
protoc_gen_go_grpc="$(pin protoc_gen_go_grpc)"

# Installs a protoc plugin unless the binary in bin reports the pinned version (as scripts/examples.sh does).
go_plugin() {
  local name="$1" pkg="$2" version="${2##*@}"
  if [[ -x "${bin}/${name}" ]] && "${bin}/${name}" --version 2>/dev/null | grep -q -- "${version#v}\$"; then return; fi
  log "go install ${pkg}"
  mkdir -p "${bin}"
  GOBIN="${bin}" go install "${pkg}"
}

generate() {
  local stamp want
  want="$( (cd "${root}" && find proto -name '*.proto' -print0 | sort -z | xargs -0 sha256sum; echo "${protoc_gen_go} ${protoc_gen_go_grpc}") | sha256sum | cut -d' ' -f1)"
  stamp="${gen}/.inputs.sha256"
  [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]] && return
  [[ -x "${bin}/buf" ]] || bash "${root}/scripts/install-tools.sh" >/dev/null
  go_plugin protoc-gen-go "${protoc_gen_go}"
  go_plugin protoc-gen-go-grpc "${protoc_gen_go_grpc}"
  log "generating Go stubs into ${gen#"${root}/"}"
  rm -rf "${gen}" && mkdir -p "${gen}"
  local template
  template="$(printf '{"version":"v2","plugins":[{"local":"%s","out":"%s","opt":["module=%s"]},{"local":"%s","out":"%s","opt":["module=%s"]}]}' \
    "${bin}/protoc-gen-go" "${gen}" "${gen_module}" "${bin}/protoc-gen-go-grpc" "${gen}" "${gen_module}")"
  (cd "${root}" && "${bin}/buf" generate --template "${template}" \
    --path proto/prism/interfaces/queue/queue_basic.proto --path proto/prism/interfaces/stream/stream_basic.proto)
  cat >"${gen}/go.mod" <<GOMOD
module ${gen_module}

go 1.26.0

require (
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)
GOMOD
  echo "${want}" >"${stamp}"
}

generate
(cd "${root}/bench/go" && go build -o "${out}" .)
echo "${out}"
