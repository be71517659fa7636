#!/usr/bin/env bash
# Acceptance tests of the plugin's container images, with podman (`npm run test:container`):
#   both targets build; production has no shell, no npm, only the bundle, no config or secrets, runs as 65532;
#   both start from environment variables only with --read-only --cap-drop ALL, reach the broker over
#   --network host, answer grpc.health.v1.Health/Check SERVING to a host client, and end on SIGTERM within
#   the grace period with exit code 0 and the log line "kafka plugin stopped"; debug has /busybox/sh;
#   a record published through the production container is on the broker (read back with kcat);
#   the compose example is valid (compose-go) and keeps those promises; its plugin health check works;
#   image sizes are printed (bundle vs base). Publish and consume round-trip through the container.
# Usage: scripts/image/test.sh
#
# Builds the images first (build.sh: seconds when nothing changed), so what is tested is the current
# tree; PRISM_IMAGE_SKIP_BUILD=1 tests the images as they are. Kafka: KAFKA_BROKERS when set, else
# the local broker (scripts/infra/up.sh kafka: started when down). Containers listen on 127.0.0.1 at
# PRISM_TEST_CONTAINER_PORT or the first free port from 19391 (not 9091: a developer's plugin may hold
# it). Every container it starts is removed on exit.
# Prints PASS / FAIL / PENDING lines; the last line is "container: N passed, M failed"; exit 1 on a failure.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# Set by pick_port: PRISM_TEST_CONTAINER_PORT, or the first free port from 19391 (another checkout's test
# run may hold one).
PORT=""
ADDR=""
# One topic per run (the local broker auto-creates it), so a record read back is this run's.
TOPIC="${PRISM_TEST_CONTAINER_TOPIC:-prism-container-test-$(date +%s)}"
# podman stop's timeout: the grace a container runtime gives before SIGKILL (Kubernetes: 30 s).
GRACE_SECONDS=30
# The plugin's own layers over its base: the bundle is ~4 MB; node_modules would be ~100+ MB.
MAX_PLUGIN_MB=20
# compose-go is the Compose Specification's reference loader (docker compose uses it); its cmd validates a file.
COMPOSE_GO=github.com/compose-spec/compose-go/v2/cmd@v2.16.2
COMPOSE_FILE="${REPO_ROOT}/deploy/compose/docker-compose.yaml"
QUEUE_SERVICE=prism.interfaces.queue.QueueBasicInterface

PRODUCTION_TAG="${IMAGE_REPO}:latest"
DEBUG_TAG="${IMAGE_REPO}:debug"
# Image ids (image_id): what this checkout's build produced, not whatever the shared tag points at now.
PRODUCTION=""
DEBUG=""
RUN_ID="prism-kafka-plugin-test-$$"
WORK="$(mktemp -d)"
CONTAINERS=()

# shellcheck source=checks.sh
source "${IMAGE_SCRIPTS_DIR}/checks.sh"

cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do
    pm rm -f "${c}" >/dev/null 2>&1 || true
  done
  rm -rf "${WORK}"
}
trap cleanup EXIT

# --- tools -----------------------------------------------------------------------------

# grpcurl as the README uses it, from the project's tool directory (scripts/install-tools.sh: go install of the
# pinned version into .cache/tools/bin, shared with `npm test`, so in CI it is already there). Without Go, a
# grpcurl on PATH; without that, a small grpc-js client from this repo's node_modules does the same Check.
HEALTH_CLIENT=""
choose_health_client() {
  local tools="${REPO_ROOT}/scripts/install-tools.sh" bin
  if [[ -f "${tools}" ]] && bin="$(bash "${tools}" | tail -n1)" && [[ -x "${bin}/grpcurl" ]]; then
    HEALTH_CLIENT="${bin}/grpcurl"
  elif command -v grpcurl >/dev/null 2>&1; then
    HEALTH_CLIENT="$(command -v grpcurl)"
  fi
  if [[ -n "${HEALTH_CLIENT}" ]]; then
    info "health client: ${HEALTH_CLIENT}"
  else
    [[ -d "${REPO_ROOT}/node_modules/@grpc/grpc-js" ]] || die "no grpcurl (scripts/install-tools.sh needs Go) and no node_modules for the fallback client (npm ci)"
    HEALTH_CLIENT=node
    info "health client: test/container/health-check.ts (grpc-js; grpcurl could not be installed)"
  fi
}

node_bin() {
  if [[ -x "${REPO_ROOT}/node_modules/.bin/node" ]]; then echo "${REPO_ROOT}/node_modules/.bin/node"; else echo node; fi
}

# Prints the Health/Check status of a service ("" = the server), e.g. SERVING.
health_status() {
  local service="$1" out
  if [[ "${HEALTH_CLIENT}" == node ]]; then
    "$(node_bin)" "${REPO_ROOT}/test/container/health-check.ts" "${ADDR}" "${service}"
    return
  fi
  out="$("${HEALTH_CLIENT}" -plaintext -max-time 5 -d "{\"service\":\"${service}\"}" "${ADDR}" grpc.health.v1.Health/Check 2>&1)" || {
    echo "${out}"
    return 1
  }
  sed -n 's/.*"status": *"\([A-Z_]*\)".*/\1/p' <<<"${out}"
}

port_free() { ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pick_port() {
  local p
  if [[ -n "${PRISM_TEST_CONTAINER_PORT:-}" ]]; then
    PORT="${PRISM_TEST_CONTAINER_PORT}"
  else
    for p in $(seq 19391 19410); do
      if port_free "${p}"; then
        PORT="${p}"
        break
      fi
    done
    [[ -n "${PORT}" ]] || die "ports 19391-19410 are all in use; set PRISM_TEST_CONTAINER_PORT"
  fi
  ADDR="127.0.0.1:${PORT}"
}

# The id build.sh recorded for a target, or (PRISM_IMAGE_SKIP_BUILD=1) the one its tag names.
image_id() {
  local target="$1" tag="$2" file
  file="$(image_id_file "${target}")"
  if [[ "${PRISM_IMAGE_SKIP_BUILD:-0}" != 1 && -s "${file}" ]]; then
    sed 's/^sha256://' "${file}"
  else
    pm image inspect --format '{{.Id}}' "${tag}" 2>/dev/null || true
  fi
}

# --- broker ----------------------------------------------------------------------------

BROKERS=""
# KAFKA_BROKERS when set; else the project's local broker, started when down (up.sh is idempotent and prints
# the addresses it serves: its ports can be overridden, see scripts/infra/lib.sh).
ensure_broker() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    BROKERS="${KAFKA_BROKERS}"
    return 0
  fi
  BROKERS="$(bash "${REPO_ROOT}/scripts/infra/up.sh" kafka | sed -n 's/^KAFKA_BROKERS=\([^ ]*\).*/\1/p')"
  [[ -n "${BROKERS}" ]] || die "scripts/infra/up.sh kafka printed no KAFKA_BROKERS"
}

# --- image checks ----------------------------------------------------------------------

# `tar -tv` of an image's whole file system, via a created (never started) container.
list_files() {
  local image="$1" out="$2" cid
  cid="$(pm create "${image}")"
  CONTAINERS+=("${cid}")
  pm export "${cid}" | tar -tvf - >"${out}"
  pm rm "${cid}" >/dev/null
}

# Paths of non-directories (files, links), without "./" and with "-> target" cut off.
file_paths() { awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' "$1"; }

no_shell() {
  local hits
  hits="$(file_paths "$1" | grep -E '(^|/)(sh|bash|dash|ash|zsh|busybox)$' || true)"
  [[ -z "${hits}" ]] || { echo "found: $(tr '\n' ' ' <<<"${hits}")"; return 1; }
}

bin_sh_does_not_run() {
  local rc=0 out
  out="$(pm run --rm --network none --entrypoint /bin/sh "$1" -c true 2>&1)" || rc=$?
  # podman's code for "the command cannot be found in the container".
  ((rc == 127)) || { echo "exit ${rc}: ${out}"; return 1; }
}

no_package_manager() {
  local hits
  hits="$(file_paths "$1" | grep -E '(^|/)(npm|npx|yarn|pnpm|apt|apt-get|dpkg)$|(^|/)node_modules/' || true)"
  [[ -z "${hits}" ]] || { echo "found: $(head -n3 <<<"${hits}" | tr '\n' ' ')"; return 1; }
}

only_bundle_in_app() {
  local extra
  extra="$(file_paths "$1" | grep '^app/' | grep -Ev '^app/(server\.mjs|server\.mjs\.LEGAL\.txt|descriptors\.binpb|proto/.*|assets/.*)$' || true)"
  [[ -z "${extra}" ]] || { echo "unexpected: $(head -n5 <<<"${extra}" | tr '\n' ' ')"; return 1; }
  # grep without -q: with pipefail, an early exit would fail the pipeline on the writer's SIGPIPE.
  file_paths "$1" | grep -x 'app/server.mjs' >/dev/null || { echo "no app/server.mjs"; return 1; }
}

no_baked_config() {
  local image="$1" listing="$2" env files
  env="$(pm image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "${image}" |
    grep -E '^(KAFKA_|PRISM_|VAULT_|NODE_OPTIONS=)|PASSWORD|TOKEN|SECRET|CREDENTIAL' || true)"
  [[ -z "${env}" ]] || { echo "environment: $(cut -d= -f1 <<<"${env}" | tr '\n' ' ')"; return 1; }
  files="$(file_paths "${listing}" |
    grep -Ei '\.(pem|key|p12|pfx|jks|ya?ml|env)$|(^|/)(\.env|\.npmrc|id_rsa|id_ed25519|credentials|kafka\.properties)$' || true)"
  [[ -z "${files}" ]] || { echo "files: $(head -n5 <<<"${files}" | tr '\n' ' ')"; return 1; }
}

image_config() {
  local image="$1" user entrypoint ports signal
  user="$(pm image inspect --format '{{.Config.User}}' "${image}")"
  entrypoint="$(pm image inspect --format '{{json .Config.Entrypoint}}' "${image}")"
  ports="$(pm image inspect --format '{{json .Config.ExposedPorts}}' "${image}")"
  signal="$(pm image inspect --format '{{.Config.StopSignal}}' "${image}")"
  [[ "${user}" =~ ^65532(:65532)?$ ]] || { echo "user '${user}'"; return 1; }
  [[ "${entrypoint}" == '["/nodejs/bin/node","--max-semi-space-size=8","/app/server.mjs"]' ]] || { echo "entrypoint ${entrypoint}"; return 1; }
  [[ "${ports}" == *'"9091/tcp"'* ]] || { echo "exposed ${ports}"; return 1; }
  [[ "${signal}" == SIGTERM || "${signal}" == 15 ]] || { echo "stop signal '${signal}'"; return 1; }
}

busybox_shell_runs() {
  local out
  out="$(pm run --rm --network none --entrypoint /busybox/sh "$1" -c 'id -u' 2>&1)" || { echo "${out}"; return 1; }
  [[ "${out}" == 65532 ]] || { echo "id -u printed '${out}'"; return 1; }
}

# Even without --read-only, the process cannot change its own code (root owns /app).
app_not_writable() {
  local out
  if out="$(pm run --rm --network none --entrypoint /busybox/sh "$1" -c 'echo x > /app/server.mjs' 2>&1)"; then
    echo "the process could overwrite /app/server.mjs"
    return 1
  fi
}

config_error_exits_2() {
  local rc=0 out
  out="$(pm run --rm --network none -e KAFKA_ACKS=sometimes "$1" 2>&1)" || rc=$?
  ((rc == 2)) || { echo "exit ${rc}: ${out}"; return 1; }
  [[ "${out}" == *"invalid configuration"*"KAFKA_ACKS"* ]] || { echo "message: ${out}"; return 1; }
}

# --- compose example -------------------------------------------------------------------

# Loads the file as docker compose would (schema, interpolation, references) into ${WORK}/compose.json.
# Run from ${WORK} so that no stray .env in the caller's directory changes the result.
compose_valid() {
  command -v go >/dev/null 2>&1 || { echo "needs Go (go run ${COMPOSE_GO})"; return 1; }
  local out
  out="$(cd "${WORK}" && go run "${COMPOSE_GO}" --format json "${COMPOSE_FILE}" 2>&1 >"${WORK}/compose.json")" || {
    echo "${out}" | tail -n1
    return 1
  }
}

# compose-go's model when it loaded, else the file itself (written in the normalised forms).
compose_model() {
  if [[ -s "${WORK}/compose.json" ]]; then echo "${WORK}/compose.json"; else echo "${COMPOSE_FILE}"; fi
}

compose_promises() {
  "$(node_bin)" "${REPO_ROOT}/test/container/compose-check.ts" "$(compose_model)" | tr '\n' ';'
  return "${PIPESTATUS[0]}"
}

# The compose file's plugin health check, run inside the running production container: proves the check
# works with no shell and no curl. The test's plugin listens on ${PORT}, not the compose file's 9091.
compose_healthcheck_passes() {
  local name="$1" js
  js="$("$(node_bin)" "${REPO_ROOT}/test/container/compose-check.ts" "$(compose_model)" --healthcheck-js)"
  [[ -n "${js}" ]] || { echo "the plugin service has no exec-form health check"; return 1; }
  pm exec "${name}" /nodejs/bin/node -e "${js//:9091\//:${PORT}/}" || { echo "exit $? from: ${js}"; return 1; }
}

# --- running containers ----------------------------------------------------------------

start_container() {
  local image="$1" name="$2"
  CONTAINERS+=("${name}")
  pm rm -f "${name}" >/dev/null 2>&1 || true
  # Only environment variables: no file, no argument, no volume. 127.0.0.1: with --network host the
  # plugin shares the host's interfaces, and a test has no business listening on all of them.
  pm run -d --name "${name}" \
    --read-only --cap-drop ALL --security-opt no-new-privileges \
    --network host \
    -e "KAFKA_BROKERS=${BROKERS}" -e "KAFKA_TOPIC=${TOPIC}" \
    -e "PRISM_CONTROL_PLANE_PORT=${PORT}" -e PRISM_LISTEN_HOST=127.0.0.1 \
    "${image}" >/dev/null
}

started() {
  local name="$1" deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)); do
    if pm logs "${name}" 2>/dev/null | grep '"msg":"kafka plugin initialized"' >/dev/null; then
      [[ "$(pm inspect --format '{{.State.Running}}' "${name}")" == true ]] && return 0
    fi
    if [[ "$(pm inspect --format '{{.State.Status}}' "${name}")" == exited ]]; then
      echo "exited: $(pm logs "${name}" 2>&1 | tail -n1)"
      return 1
    fi
    sleep 0.3
  done
  echo "no 'kafka plugin initialized' line within 20 s: $(pm logs "${name}" 2>&1 | tail -n1)"
  return 1
}

# From the kernel's view of the process, not the image's metadata.
runs_as_nonroot_without_caps() {
  local pid status
  pid="$(pm inspect --format '{{.State.Pid}}' "$1")"
  status="$(cat "/proc/${pid}/status")"
  grep -Eq '^Uid:\s+65532\s+65532\s+65532\s+65532$' <<<"${status}" || { grep '^Uid:' <<<"${status}"; return 1; }
  grep -Eq '^CapEff:\s+0+$' <<<"${status}" || { grep '^CapEff:' <<<"${status}"; return 1; }
}

# SERVING needs a broker metadata round trip, so this proves the container reached Kafka.
serving() {
  local service="$1" deadline=$((SECONDS + 20)) got=""
  while ((SECONDS < deadline)); do
    got="$(health_status "${service}" 2>&1 || true)"
    [[ "${got}" == SERVING ]] && return 0
    sleep 0.5
  done
  echo "Health/Check(service='${service}') answered '${got}'"
  return 1
}

http_ready() {
  local code
  code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://${ADDR}/ready" || true)"
  [[ "${code}" == 200 ]] || { echo "GET /ready: ${code}"; return 1; }
}

STOP_SECONDS=""
stops_on_sigterm() {
  local name="$1" t0 t1 code last
  t0="$(date +%s%N)"
  pm stop --time "${GRACE_SECONDS}" "${name}" >/dev/null
  t1="$(date +%s%N)"
  STOP_SECONDS="$(awk -v n=$((t1 - t0)) 'BEGIN { printf "%.1f", n / 1e9 }')"
  code="$(pm inspect --format '{{.State.ExitCode}}' "${name}")"
  last="$(pm logs "${name}" 2>/dev/null | tail -n1)"
  [[ "${code}" == 0 ]] || { echo "exit code ${code} after ${STOP_SECONDS} s"; return 1; }
  awk -v s="${STOP_SECONDS}" -v g="${GRACE_SECONDS}" 'BEGIN { exit !(s < g) }' || { echo "took ${STOP_SECONDS} s"; return 1; }
  [[ "${last}" == *'"msg":"kafka plugin stopped"'* ]] || { echo "last log line: ${last}"; return 1; }
  # The stop came from the signal (exec-form entrypoint: node is PID 1 and got it), not from a crash.
  pm logs "${name}" 2>/dev/null | grep '"signal":"SIGTERM"' >/dev/null || { echo "no log line names SIGTERM"; return 1; }
}

# Publish through the container (QueueBasicInterface/Publish answers with partition and offset), then
# read that offset back with kcat, an independent client: the acknowledged record is on the broker.
publish_reaches_broker() {
  local topic="${TOPIC}" payload out id partition offset rec
  payload="container round trip $(date +%s%N)"
  out="$("${HEALTH_CLIENT}" -plaintext -emit-defaults -max-time 15 \
    -d "{\"topic\":\"${topic}\",\"payload\":\"$(printf '%s' "${payload}" | base64 -w0)\",\"metadata\":{\"origin\":\"container-test\"}}" \
    "${ADDR}" "${QUEUE_SERVICE}/Publish" 2>&1)" || {
    echo "Publish failed: $(tr '\n' ' ' <<<"${out}")"
    return 1
  }
  # Reflection serves buf's descriptors, so grpcurl prints proto3 JSON names (messageId).
  id="$(sed -n 's/.*"messageId": *"\([^"]*\)".*/\1/p' <<<"${out}")"
  # check() runs this in a subshell: hand the id to the consume check through a file.
  printf '%s' "${id}" >"${WORK}/published-id"
  partition="$(sed -n 's/.*"partition": *\([0-9]*\).*/\1/p' <<<"${out}")"
  offset="$(sed -n 's/.*"offset": *"\([0-9]*\)".*/\1/p' <<<"${out}")"
  [[ -n "${id}" && -n "${partition}" && -n "${offset}" ]] || {
    echo "Publish answered without id/partition/offset: $(tr '\n' ' ' <<<"${out}")"
    return 1
  }
  rec="$(timeout 20 kcat -C -q -b "${BROKERS}" -t "${topic}" -p "${partition}" -o "${offset}" -c 1 -e -f '%s\t%h\n' 2>&1)" || {
    echo "kcat could not read ${topic}/${partition}@${offset}: ${rec}"
    return 1
  }
  [[ "${rec%%$'\t'*}" == "${payload}" ]] || { echo "kcat read payload '${rec%%$'\t'*}', published '${payload}'"; return 1; }
  [[ "${rec#*$'\t'}" == *"prism-message-id=${id}"* && "${rec#*$'\t'}" == *"origin=container-test"* ]] ||
    { echo "headers '${rec#*$'\t'}' lack prism-message-id=${id} or origin=container-test"; return 1; }
}

# Consume through the container: the message published above arrives on a Consume stream of a new group
# (from the earliest offset), and its receipt is accepted by Ack. grpcurl ends the stream at -max-time.
consume_roundtrip() {
  local out receipt ack PUBLISHED_ID
  PUBLISHED_ID="$(cat "${WORK}/published-id" 2>/dev/null || true)"
  [[ -n "${PUBLISHED_ID}" ]] || { echo "nothing was published"; return 1; }
  out="$("${HEALTH_CLIENT}" -plaintext -max-time 12 -d "{\"topic\":\"${TOPIC}\",\"group\":\"${RUN_ID}-consume\"}" \
    "${ADDR}" "${QUEUE_SERVICE}/Consume" 2>&1 || true)"
  # grpcurl prints proto3 JSON names: reflection serves the compiler's descriptors (json_name set).
  grep -Eq "\"messageId\": \"${PUBLISHED_ID}\"" <<<"${out}" || { echo "Consume did not deliver ${PUBLISHED_ID}: $(head -c 600 <<<"${out}" | tr '\n' ' ')"; return 1; }
  receipt="$(sed -n 's/.*"receipt": *"\([^"]*\)".*/\1/p' <<<"${out}" | head -n1)"
  [[ -n "${receipt}" ]] || { echo "no receipt in the delivered message"; return 1; }
  # The stream has ended, so its subscription is gone: Ack must say so (FAILED_PRECONDITION), not succeed silently.
  ack="$("${HEALTH_CLIENT}" -plaintext -max-time 10 -d "{\"receipts\":[\"${receipt}\"]}" "${ADDR}" "${QUEUE_SERVICE}/Ack" 2>&1 || true)"
  grep -q "FailedPrecondition" <<<"${ack}" || { echo "Ack after the stream ended answered: $(tr '\n' ' ' <<<"${ack}")"; return 1; }
}

# Everything a container runtime would do with one target: start, probe, stop.
run_target() {
  local label="$1" image="$2" name="${RUN_ID}-$1"
  if ! port_free "${PORT}"; then
    fail "${label}: starts" "${ADDR} is already in use; set PRISM_TEST_CONTAINER_PORT"
    return 0
  fi
  local failed_before=${FAILED}
  start_container "${image}" "${name}"
  check "${label}: starts with environment variables only, --read-only --cap-drop ALL" started "${name}"
  ((FAILED == failed_before)) || return 0
  check "${label}: the process runs as uid/gid 65532 with no effective capabilities" runs_as_nonroot_without_caps "${name}"
  check "${label}: reaches Kafka over --network host; Health/Check from the host: SERVING" serving ""
  check "${label}: Health/Check(service=kafka): SERVING" serving kafka
  check "${label}: GET /ready on the same port: 200" http_ready
  if [[ "${label}" == production ]]; then
    check "${label}: the compose file's health check (node + fetch /ready, exec form) passes in the container" \
      compose_healthcheck_passes "${name}"
    if [[ "${HEALTH_CLIENT}" == node ]]; then
      fail "${label}: publish through the container" "needs grpcurl (scripts/install-tools.sh)"
    else
      check "${label}: publish through the container; kcat reads the payload and prism-message-id at the acknowledged offset" publish_reaches_broker
    fi
    if [[ "${HEALTH_CLIENT}" != node ]]; then
      check "${label}: consume through the container delivers the published message with a receipt" consume_roundtrip
    fi
  fi
  if stops_on_sigterm "${name}" >"${WORK}/stop.out" 2>&1; then
    pass "${label}: SIGTERM (podman stop) ends it in ${STOP_SECONDS} s (< ${GRACE_SECONDS} s), exit 0, last line 'kafka plugin stopped'"
  else
    fail "${label}: SIGTERM ends it within ${GRACE_SECONDS} s with exit 0 and 'kafka plugin stopped'" "$(tail -n1 "${WORK}/stop.out")"
  fi
}

# --- sizes -----------------------------------------------------------------------------

report_sizes() {
  local image="$1" listing="$2" label="$3" tag="$4" base size base_size bundle app
  base="$(pm image inspect --format '{{index .Labels "org.opencontainers.image.base.name"}}' "${image}")"
  size="$(pm image inspect --format '{{.Size}}' "${image}")"
  base_size="$(pm image inspect --format '{{.Size}}' "${base}" 2>/dev/null || echo 0)"
  bundle="$(awk '$6 ~ /^(\.\/)?app\/server\.mjs$/ { print $3 }' "${listing}")"
  app="$(awk '$6 ~ /^(\.\/)?app\// && $1 !~ /^d/ { s += $3 } END { print s + 0 }' "${listing}")"
  info "$(printf '%-10s %s: %s = base %s (%s) + plugin layers %s; app/ %s, of which server.mjs %s' \
    "${label}" "${tag}" "$(mb "${size}")" "$(mb "${base_size}")" "${base}" "$(mb $((size - base_size)))" "$(mb "${app}")" "$(mb "${bundle:-0}")")"
  PLUGIN_BYTES=$((size - base_size))
}

plugin_layers_small() {
  ((PLUGIN_BYTES > 0 && PLUGIN_BYTES < MAX_PLUGIN_MB * 1000000)) || { echo "$(mb "${PLUGIN_BYTES}") over the base"; return 1; }
}

# --- main ------------------------------------------------------------------------------

main() {
  (($# == 0)) || die "usage: test.sh (no arguments)"
  local t0=${SECONDS} label image tag
  if [[ "${PRISM_IMAGE_SKIP_BUILD:-0}" != 1 ]]; then
    if ! bash "${IMAGE_SCRIPTS_DIR}/build.sh" all; then
      fail "both targets build" "scripts/image/build.sh failed (see above)"
      printf 'container: %d passed, %d failed\n' "${PASSED}" "${FAILED}"
      exit 1
    fi
  fi
  info "build: $((SECONDS - t0)) s"
  PRODUCTION="$(image_id production "${PRODUCTION_TAG}")"
  DEBUG="$(image_id debug "${DEBUG_TAG}")"
  for label in production debug; do
    image="${PRODUCTION}"
    tag="${PRODUCTION_TAG}"
    if [[ "${label}" == debug ]]; then
      image="${DEBUG}"
      tag="${DEBUG_TAG}"
    fi
    if [[ -n "${image}" ]] && image_exists "${image}"; then
      pass "target ${label} built: ${tag} (${image:0:12}, revision $(pm image inspect --format '{{index .Labels "org.opencontainers.image.revision"}}' "${image}"))"
    else
      fail "target ${label} built: ${tag}" "no such image (npm run image)"
    fi
  done
  ((FAILED == 0)) || {
    printf 'container: %d passed, %d failed\n' "${PASSED}" "${FAILED}"
    exit 1
  }

  list_files "${PRODUCTION}" "${WORK}/production.list"
  list_files "${DEBUG}" "${WORK}/debug.list"
  check "production: no shell anywhere in the file system (no /bin/sh, bash, busybox)" no_shell "${WORK}/production.list"
  check "production: /bin/sh cannot be run (podman exit 127)" bin_sh_does_not_run "${PRODUCTION}"
  check "production: no npm, package manager or node_modules" no_package_manager "${WORK}/production.list"
  check "production: /app holds only server.mjs, its license notes, descriptors.binpb, proto/ and assets/" only_bundle_in_app "${WORK}/production.list"
  for label in production debug; do
    image="${PRODUCTION}"
    [[ "${label}" == debug ]] && image="${DEBUG}"
    check "${label}: USER 65532, ENTRYPOINT [\"/nodejs/bin/node\",\"--max-semi-space-size=8\",\"/app/server.mjs\"], EXPOSE 9091, STOPSIGNAL SIGTERM" image_config "${image}"
    check "${label}: no configuration or secrets baked in (environment, files)" no_baked_config "${image}" "${WORK}/${label}.list"
  done
  check "debug: /busybox/sh runs (as uid 65532)" busybox_shell_runs "${DEBUG}"
  check "debug: the process cannot write to its own code in /app" app_not_writable "${DEBUG}"
  check "production: invalid configuration exits 2 naming the variable" config_error_exits_2 "${PRODUCTION}"
  check "compose: deploy/compose/docker-compose.yaml is valid per the Compose Specification (compose-go)" compose_valid
  check "compose: KRaft broker with a health check, plugin waits for it, read-only, no capabilities, 65532, env only" compose_promises

  local cmd
  for cmd in kcat curl; do
    command -v "${cmd}" >/dev/null 2>&1 || die "'${cmd}' not found; run scripts/infra/install-prereqs.sh"
  done
  ensure_broker
  pick_port
  choose_health_client
  info "broker: ${BROKERS}; plugin address: ${ADDR}"
  for label in production debug; do
    image="${PRODUCTION}"
    [[ "${label}" == debug ]] && image="${DEBUG}"
    run_target "${label}" "${image}"
  done

  report_sizes "${PRODUCTION}" "${WORK}/production.list" production "${PRODUCTION_TAG}"
  check "production: the plugin adds < ${MAX_PLUGIN_MB} MB to its base (the bundle only)" plugin_layers_small
  report_sizes "${DEBUG}" "${WORK}/debug.list" debug "${DEBUG_TAG}"
  info "total: $((SECONDS - t0)) s"
  summary container
}

main "$@"
