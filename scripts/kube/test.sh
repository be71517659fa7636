#!/usr/bin/env bash
# Acceptance tests of the Kubernetes packaging, deploy/kubernetes/ (`npm run test:kube`; docs/adr/0008):
#   every variant (base; with the vault and servicemonitor components) renders with kustomize and is valid, strictly,
#   for the oldest and newest Kubernetes release we support (kubeconform, the API's own schemas, the operator's CRD);
#   each keeps the deployment's promises (test/container/kube-check.ts); and the base runs for real under
#   `podman kube play` on the locally built production image against the local broker: its startup, readiness and
#   liveness probes answer 200 where the manifest points them, Health/Check answers SERVING, a publish through it is
#   on the broker (kcat), the process runs as 65532 with no capabilities on a read-only root, and stopping the pod
#   drains it (SIGTERM, exit 0, "kafka plugin stopped") before `podman kube down` removes it.
# Usage: scripts/kube/test.sh   (builds the production image first unless PRISM_IMAGE_SKIP_BUILD=1)
# Prints PASS / FAIL lines; the last line is "kube: N passed, M failed"; exit 1 on a failure.
set -euo pipefail

# shellcheck source=../image/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../image/lib.sh"
# shellcheck source=../image/checks.sh
source "${IMAGE_SCRIPTS_DIR}/checks.sh"
LOG_TAG=kube

KUBE_DIR="${REPO_ROOT}/deploy/kubernetes"
WORK="$(mktemp -d)"
TOPIC="prism-kube-test-$(date +%s)"
POD=""
cleanup() {
  if [[ -s "${WORK}/pod" ]]; then pm pod rm -f "$(cat "${WORK}/pod")" >/dev/null 2>&1 || true; fi
  rm -rf "${WORK}"
}
trap cleanup EXIT

eval "$(bash "${REPO_ROOT}/scripts/kube/install.sh" | tail -n 2)"
TOOLS="$(bash "${REPO_ROOT}/scripts/install-tools.sh" | tail -n 1)"
node_bin() { if [[ -x "${REPO_ROOT}/node_modules/.bin/node" ]]; then echo "${REPO_ROOT}/node_modules/.bin/node"; else echo node; fi; }

# An overlay in ${WORK}/<name> over the base with the given components, extra kustomization lines on stdin.
render() {
  local name="$1" dir="${WORK}/$1" rel c
  shift
  mkdir -p "${dir}"
  rel="$(realpath --relative-to="${dir}" "${KUBE_DIR}")"
  {
    echo "resources: [${rel}/base]"
    if (($# > 0)); then
      echo "components:"
      for c in "$@"; do echo "  - ${rel}/components/${c}"; done
    fi
    cat
  } >"${dir}/kustomization.yaml"
  "${BIN}/kustomize" build "${dir}" >"${WORK}/$name.yaml"
}

valid_for() {
  "${BIN}/kubeconform" -strict -summary -kubernetes-version "$1" \
    -schema-location "${SCHEMAS}/v$1/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "${SCHEMAS}/crds/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$2"
}

promises() { "$(node_bin)" "${REPO_ROOT}/test/container/kube-check.ts" "$@" | tr '\n' ';'; return "${PIPESTATUS[0]}"; }

# --- podman kube play -------------------------------------------------------------------

port_free() { ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 40))); do
    if port_free "${p}"; then echo "${p}"; return 0; fi
  done
  die "no free port from $1"
}

# What differs from a cluster, and only that: one replica on the host's network (the broker listens on loopback),
# so no containerPorts (podman refuses port mappings there) and numeric probe ports; a literal namespace (podman 4
# has no fieldRef for it); the local image, broker and free ports.
play_overlay() {
  cat <<EOF
images: [{name: prism/kafka-plugin, newName: localhost/${IMAGE_REPO}, newTag: latest}]
configMapGenerator:
  - {name: prism-kafka-plugin, behavior: merge, literals: [KAFKA_BROKERS=${BROKERS}, KAFKA_TOPIC=${TOPIC}, PRISM_LISTEN_HOST=127.0.0.1]}
patches:
  - patch: |-
      {apiVersion: apps/v1, kind: Deployment, metadata: {name: prism-kafka-plugin}, spec: {replicas: 1, template: {spec: {hostNetwork: true,
        containers: [{name: plugin, env: [{name: PRISM_CONTROL_PLANE_PORT, value: "${PORT}"}, {name: HEALTH_PORT, value: "${HEALTH}"},
          {name: PRISM_NAMESPACE, value: kube-play, valueFrom: null}]}]}}}}
  - target: {kind: Deployment, name: prism-kafka-plugin}
    patch: |-
      - {op: remove, path: /spec/template/spec/containers/0/ports}
      - {op: replace, path: /spec/template/spec/containers/0/startupProbe/httpGet/port, value: ${HEALTH}}
      - {op: replace, path: /spec/template/spec/containers/0/readinessProbe/httpGet/port, value: ${HEALTH}}
      - {op: replace, path: /spec/template/spec/containers/0/livenessProbe/httpGet/port, value: ${HEALTH}}
EOF
}

# A field of the rendered Deployment, e.g. probe startupProbe path.
field() { "$(node_bin)" -e "const y=require('${REPO_ROOT}/node_modules/yaml');const d=y.parseAllDocuments(require('fs').readFileSync('$1','utf8')).map(x=>x.toJS()).find(x=>x.kind==='Deployment');const v=($2);process.stdout.write(String(v))"; }

plays() {
  local out
  out="$(pm kube play --replace --log-opt "path=${WORK}/plugin.log" "${WORK}/play.yaml" 2>&1)" || { echo "${out}" | tail -n1; return 1; }
  # check() runs this in a subshell: the pod id reaches the other checks through a file.
  awk '/^Pod:/ { getline; print; exit }' <<<"${out}" >"${WORK}/pod"
  [[ -s "${WORK}/pod" ]] || { echo "no pod id in: ${out}"; return 1; }
}

# The kubelet's view: each probe, as the manifest defines it, answers 200 within its own failure budget.
probe_answers() {
  local probe="$1" path port budget deadline code=""
  path="$(field "${WORK}/play.yaml" "d.spec.template.spec.containers[0].${probe}.httpGet.path")"
  port="$(field "${WORK}/play.yaml" "d.spec.template.spec.containers[0].${probe}.httpGet.port")"
  budget="$(field "${WORK}/play.yaml" "(p=>p.periodSeconds*p.failureThreshold)(d.spec.template.spec.containers[0].${probe})")"
  deadline=$((SECONDS + budget))
  while ((SECONDS < deadline)); do
    code="$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:${port}${path}" || true)"
    [[ "${code}" == 200 ]] && return 0
    sleep 1
  done
  echo "GET :${port}${path} answered ${code} for ${budget} s"
  return 1
}

container_pid() { pm inspect --format '{{.State.Pid}}' "$(pm pod inspect --format '{{range .Containers}}{{.Name}} {{end}}' "${POD}" | tr ' ' '\n' | grep -- '-plugin$')"; }

locked_down() {
  local status name
  status="$(cat "/proc/$(container_pid)/status")"
  grep -Eq '^Uid:\s+65532\s+65532\s+65532\s+65532$' <<<"${status}" || { grep '^Uid:' <<<"${status}"; return 1; }
  grep -Eq '^CapEff:\s+0+$' <<<"${status}" || { grep '^CapEff:' <<<"${status}"; return 1; }
  grep -Eq '^NoNewPrivs:\s+1$' <<<"${status}" || { grep '^NoNewPrivs:' <<<"${status}"; return 1; }
  name="$(pm pod inspect --format '{{range .Containers}}{{.Name}} {{end}}' "${POD}" | tr ' ' '\n' | grep -- '-plugin$')"
  [[ "$(pm inspect --format '{{.HostConfig.ReadonlyRootfs}}' "${name}")" == true ]] || { echo "root filesystem writable"; return 1; }
}

serving() {
  local out
  out="$("${TOOLS}/grpcurl" -plaintext -max-time 10 -d '{"service":"kafka"}' "127.0.0.1:${PORT}" grpc.health.v1.Health/Check 2>&1)" || { echo "${out}"; return 1; }
  grep -q '"SERVING"' <<<"${out}" || { echo "${out}"; return 1; }
}

publishes() {
  local payload out partition offset rec
  payload="kube play $(date +%s%N)"
  out="$("${TOOLS}/grpcurl" -plaintext -max-time 15 -d "{\"topic\":\"${TOPIC}\",\"payload\":\"$(printf '%s' "${payload}" | base64 -w0)\"}" \
    "127.0.0.1:${PORT}" prism.interfaces.queue.QueueBasicInterface/Publish 2>&1)" || { echo "$(tr '\n' ' ' <<<"${out}")"; return 1; }
  partition="$(sed -n 's/.*"partition": *\([0-9]*\).*/\1/p' <<<"${out}")"
  offset="$(sed -n 's/.*"offset": *"\([0-9]*\)".*/\1/p' <<<"${out}")"
  rec="$(timeout 20 kcat -C -q -b "${BROKERS}" -t "${TOPIC}" -p "${partition:-0}" -o "${offset:-0}" -c 1 -e -f '%s' 2>&1)" || { echo "kcat: ${rec}"; return 1; }
  [[ "${rec}" == "${payload}" ]] || { echo "kcat read '${rec}' at ${partition:-0}@${offset:-0}, published '${payload}'"; return 1; }
}

# podman before 5.1 SIGKILLs on `kube down` (containers/podman#22397): there the pod is stopped first, with the
# manifest's grace period, as a kubelet would; from 5.1 on `kube down` itself sends SIGTERM and waits.
drains() {
  local grace version last name code
  grace="$(field "${WORK}/play.yaml" 'd.spec.template.spec.terminationGracePeriodSeconds')"
  version="$(pm version --format '{{.Client.Version}}')"
  name="$(pm pod inspect --format '{{range .Containers}}{{.Name}} {{end}}' "${POD}" | tr ' ' '\n' | grep -- '-plugin$')"
  if [[ "$(printf '%s\n5.1.0\n' "${version}" | sort -V | head -n1)" != 5.1.0 ]]; then
    pm pod stop --time "${grace}" "${POD}" >/dev/null
    code="$(pm inspect --format '{{.State.ExitCode}}' "${name}")"
  fi
  pm kube down "${WORK}/play.yaml" >/dev/null 2>&1 || { echo "podman kube down failed"; return 1; }
  last="$(tail -n1 "${WORK}/plugin.log")"
  [[ -z "${code:-}" || "${code}" == 0 ]] || { echo "exit code ${code}"; return 1; }
  [[ "${last}" == *'"msg":"kafka plugin stopped"'* ]] || { echo "last log line: ${last}"; return 1; }
  grep -q '"signal":"SIGTERM"' "${WORK}/plugin.log" || { echo "no log line names SIGTERM"; return 1; }
}

main() {
  local variant version
  render base </dev/null
  render vault vault </dev/null
  render servicemonitor servicemonitor </dev/null
  for variant in base vault servicemonitor; do
    for version in 1.31.0 1.37.0; do
      check "${variant}: valid for Kubernetes ${version} (kubeconform -strict)" valid_for "${version}" "${WORK}/${variant}.yaml"
    done
  done
  check "base: probes, grace, securityContext, resources, config keys, selectors" promises "${WORK}/base.yaml"
  check "vault: the same, plus a projected audience-bound token at VAULT_JWT_FILE and no static user" promises "${WORK}/vault.yaml" --vault

  if [[ "${PRISM_IMAGE_SKIP_BUILD:-0}" != 1 ]]; then bash "${IMAGE_SCRIPTS_DIR}/build.sh" production >&2; fi
  BROKERS="${KAFKA_BROKERS:-$(bash "${REPO_ROOT}/scripts/infra/up.sh" kafka | sed -n 's/^KAFKA_BROKERS=\([^ ]*\).*/\1/p')}"
  PORT="$(free_port 19421)"
  HEALTH="$(free_port $((PORT + 1)))"
  play_overlay | render play
  info "podman $(pm version --format '{{.Client.Version}}'); broker ${BROKERS}; plugin 127.0.0.1:${PORT}, probes :${HEALTH}"
  check "podman kube play starts the base (locally built image, local broker)" plays
  POD="$(cat "${WORK}/pod" 2>/dev/null || true)"
  if [[ -n "${POD}" ]]; then
    check "startupProbe answers 200 within its budget" probe_answers startupProbe
    check "readinessProbe answers 200 (broker reached, not draining)" probe_answers readinessProbe
    check "livenessProbe answers 200" probe_answers livenessProbe
    check "the process runs as 65532 with no capabilities, no-new-privs, on a read-only root" locked_down
    check "Health/Check(kafka) on the main port: SERVING (grpcurl)" serving
    check "a publish through the pod is on the broker at the acknowledged offset (kcat)" publishes
    check "stopping the pod drains it: SIGTERM, 'kafka plugin stopped', exit 0; podman kube down removes it" drains
  fi
  summary kube
}

main "$@"
