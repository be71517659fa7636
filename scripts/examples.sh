#!/usr/bin/env bash
# The example clients (examples/go, examples/python), built from stubs generated out of proto/ into .cache/examples/
# (generated code is never committed), and run against a plugin.
# Usage: scripts/examples.sh setup                 install what is missing, generate the stubs, build the Go client
#        scripts/examples.sh go [flags]            setup, then run the Go client (flags: --addr host:port, --count N,
#        scripts/examples.sh python [flags]          --queue-topic, --group, --stream-topic)
# Needs Go and Python 3 with venv. Idempotent and fast on a second run: the venv is rebuilt only when
# examples/python/requirements.txt changes, a protoc plugin only when its pinned version does; go build caches.
# Diagnostics go to stderr; the clients print one JSON line per step on stdout.
set -euo pipefail
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
LOG_TAG=examples
PREREQS_SCRIPT="scripts/examples.sh (it installs its own tools; Go and python3 must be on PATH)"
# shellcheck source=scripts/log.sh
source "${root}/scripts/log.sh"

cache="${root}/.cache/examples"
bin="${PRISM_TOOLS_BIN:-${root}/.cache/tools/bin}"
venv="${cache}/venv"
gen="${cache}/gen"
# The Go stubs form the module their go_package options name; examples/go/go.mod replaces it with this directory.
gen_module="github.com/jrepp/prism-data-layer/pkg/plugin/gen"
# Pinned: the generated code must match the runtime versions in examples/go/go.mod.
protoc_gen_go="google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12"
protoc_gen_go_grpc="google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2"

# Go may be installed without being on PATH (the official tarball's default location).
command -v go >/dev/null 2>&1 || PATH="${PATH}:/usr/local/go/bin"

python_env() {
  need_cmd python3
  local want have=""
  want="$(sha256sum "${root}/examples/python/requirements.txt" | cut -d' ' -f1)"
  [[ -f "${venv}/.requirements.sha256" ]] && have="$(cat "${venv}/.requirements.sha256")"
  [[ "${want}" == "${have}" && -x "${venv}/bin/python" ]] && return
  log "creating ${venv} from examples/python/requirements.txt"
  rm -rf "${venv}"
  python3 -m venv "${venv}"
  "${venv}/bin/pip" install --quiet --disable-pip-version-check -r "${root}/examples/python/requirements.txt" >&2
  echo "${want}" >"${venv}/.requirements.sha256"
}

# Installs a protoc plugin unless the binary in bin reports the pinned version.
go_plugin() {
  local name="$1" pkg="$2" version="${2##*@}"
  if [[ -x "${bin}/${name}" ]] && "${bin}/${name}" --version 2>/dev/null | grep -q -- "${version#v}\$"; then return; fi
  need_cmd go
  log "go install ${pkg}"
  mkdir -p "${bin}"
  GOBIN="${bin}" go install "${pkg}"
}

generate() {
  local protos
  mapfile -t protos < <(cd "${root}/proto" && find . -name '*.proto' -printf '%P\n' | sort)
  rm -rf "${gen}" && mkdir -p "${gen}/python" "${gen}/go"
  # grpc_tools.protoc is a full protoc (it adds the well-known types such as google/protobuf/struct.proto).
  "${venv}/bin/python" -m grpc_tools.protoc -I "${root}/proto" \
    --python_out="${gen}/python" --pyi_out="${gen}/python" --grpc_python_out="${gen}/python" \
    --plugin=protoc-gen-go="${bin}/protoc-gen-go" --go_out="${gen}/go" --go_opt=module="${gen_module}" \
    --plugin=protoc-gen-go-grpc="${bin}/protoc-gen-go-grpc" --go-grpc_out="${gen}/go" --go-grpc_opt=module="${gen_module}" \
    "${protos[@]}"
  cat >"${gen}/go/go.mod" <<EOF
module ${gen_module}

go 1.26.0

require (
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)
EOF
}

setup() {
  python_env
  go_plugin protoc-gen-go "${protoc_gen_go}"
  go_plugin protoc-gen-go-grpc "${protoc_gen_go_grpc}"
  generate
  (cd "${root}/examples/go" && go build -o "${cache}/bin/prism-kafka-example" .)
}

case "${1:-}" in
  setup) setup ;;
  go)
    shift
    setup
    exec "${cache}/bin/prism-kafka-example" "$@"
    ;;
  python)
    shift
    setup
    PYTHONPATH="${gen}/python" exec "${venv}/bin/python" "${root}/examples/python/client.py" "$@"
    ;;
  *) die "usage: scripts/examples.sh setup | go [flags] | python [flags]" ;;
esac
