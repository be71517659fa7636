#!/usr/bin/env bash
# The testcontainers path of the integration tests (`npm run test:testcontainers`): Kafka and OpenBao are started by
# testcontainers from the local images (images.sh: the scripted services' jars and bao binary) through a Docker API,
# and a subset of the integration files runs against them:
#   queue-publish, queue-consume (publish, consume/ack, codecs), stream-tail, stream-query (Tail, Query),
#   security-sasl (SCRAM on the SASL listener), openbao, security-vault (credentials from OpenBao), and
#   testcontainers (the services really are the containers).
# Usage: scripts/testcontainers/run.sh [test files...]   (default: the subset above)
#
# The Docker API: DOCKER_HOST when it answers, else /var/run/docker.sock when it answers, else podman's, started
# here with `podman system service` on .cache/testcontainers/podman-<pid>.sock and stopped again on exit. The
# images are built with the CLI of the engine behind it (podman, or docker). Ryuk stays off
# (TESTCONTAINERS_RYUK_DISABLED=true: its image cannot be pulled here); containers of this run that outlive it (a
# killed vitest) are removed on exit by their org.prism.test.run label. The scripted services are neither used nor
# touched (the containers take free ephemeral ports, not 9092-9094/8200). Exits non-zero when anything fails.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

DEFAULT_FILES=(
  test/integration/testcontainers.test.ts
  test/integration/queue-publish.test.ts
  test/integration/queue-consume.test.ts
  test/integration/stream-query.test.ts
  test/integration/security-sasl.test.ts
  test/integration/openbao.test.ts
)
# One per run: two runs at once in one checkout must not remove or stop each other's API.
PODMAN_SOCKET="${TC_CACHE}/podman-$$.sock"
# Appended to by every run (its lines name the socket).
PODMAN_SERVICE_LOG="${TC_CACHE}/podman-service.log"
SERVICE_START_TIMEOUT="${PRISM_TC_SERVICE_TIMEOUT:-30}"
RUN_ID="tc-$(date +%Y%m%d%H%M%S)-$$"
SERVICE_PID=""

# "unix:///path" -> curl's --unix-socket form; "tcp://host:port" -> http://host:port. Prints the _ping answer.
api_ping() {
  local host="$1"
  case "${host}" in
    unix://*) curl -s -m 3 --unix-socket "${host#unix://}" http://d/_ping 2>/dev/null ;;
    tcp://*) curl -s -m 3 "http://${host#tcp://}/_ping" 2>/dev/null ;;
    *) return 1 ;;
  esac
}
api_answers() { [[ "$(api_ping "$1" || true)" == OK ]]; }

# "podman" when the engine behind the API is podman (its /version lists a "Podman Engine" component), else "docker".
api_engine() {
  local host="$1" version
  case "${host}" in
    unix://*) version="$(curl -s -m 3 --unix-socket "${host#unix://}" http://d/version 2>/dev/null || true)" ;;
    *) version="$(curl -s -m 3 "http://${host#tcp://}/version" 2>/dev/null || true)" ;;
  esac
  if [[ "${version}" == *'"Podman Engine"'* ]]; then echo podman; else echo docker; fi
}

start_podman_service() {
  need_cmd podman
  mkdir -p "${TC_CACHE}"
  # A socket file left by a killed run answers nothing; podman refuses to bind over it.
  rm -f "${PODMAN_SOCKET}"
  log "starting podman's Docker API: podman system service --time=0 unix://${PODMAN_SOCKET} (log: ${PODMAN_SERVICE_LOG})"
  # --time=0: no idle timeout (a long test file may leave the API idle). Not setsid: it is this script's to stop.
  # pm's settings (runc, cgroupfs), but exec'd in the background subshell so that $! is podman's own pid (a
  # function run with & is a subshell whose child podman would outlive a signal to it).
  (exec podman --runtime runc --cgroup-manager cgroupfs system service --time=0 "unix://${PODMAN_SOCKET}" \
    >>"${PODMAN_SERVICE_LOG}" 2>&1 </dev/null) &
  SERVICE_PID=$!
  local deadline=$((SECONDS + SERVICE_START_TIMEOUT))
  until api_answers "unix://${PODMAN_SOCKET}"; do
    if ! kill -0 "${SERVICE_PID}" 2>/dev/null; then
      tail -n 20 "${PODMAN_SERVICE_LOG}" >&2 || true
      SERVICE_PID=""
      die "podman system service exited at once"
    fi
    ((SECONDS < deadline)) || die "podman system service did not answer on ${PODMAN_SOCKET} within ${SERVICE_START_TIMEOUT}s"
    sleep 0.2
  done
}

stop_podman_service() {
  [[ -n "${SERVICE_PID}" ]] || return 0
  kill -TERM "${SERVICE_PID}" 2>/dev/null || true
  local waited=0
  while kill -0 "${SERVICE_PID}" 2>/dev/null && ((waited < 100)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL "${SERVICE_PID}" 2>/dev/null || true
  wait "${SERVICE_PID}" 2>/dev/null || true
  rm -f "${PODMAN_SOCKET}"
  log "stopped podman system service (pid ${SERVICE_PID})"
  SERVICE_PID=""
}

# Containers of this run still there (vitest killed before its teardown): removed, so their ports are free again.
remove_leftovers() {
  local -a ids=()
  mapfile -t ids < <(engine ps -aq --filter "label=org.prism.test.run=${RUN_ID}" 2>/dev/null || true)
  ((${#ids[@]} > 0)) || return 0
  warn "removing ${#ids[@]} container(s) of this run that its teardown left behind"
  engine rm -f "${ids[@]}" >/dev/null 2>&1 || true
}

cleanup() {
  local rc=$?
  remove_leftovers || true
  stop_podman_service || true
  log "done in ${SECONDS}s (exit ${rc})"
  exit "${rc}"
}

main() {
  case "${1:-}" in
    -h | --help)
      sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      return 0
      ;;
  esac
  local -a files=("$@")
  ((${#files[@]} > 0)) || files=("${DEFAULT_FILES[@]}")
  need_cmd curl
  trap cleanup EXIT

  local host=""
  if [[ -n "${DOCKER_HOST:-}" ]] && api_answers "${DOCKER_HOST}"; then
    host="${DOCKER_HOST}"
    log "Docker API: DOCKER_HOST=${host}"
  elif api_answers unix:///var/run/docker.sock; then
    host=unix:///var/run/docker.sock
    log "Docker API: ${host}"
  else
    [[ -z "${DOCKER_HOST:-}" ]] || warn "DOCKER_HOST=${DOCKER_HOST} does not answer; using podman's own"
    start_podman_service
    host="unix://${PODMAN_SOCKET}"
  fi
  export DOCKER_HOST="${host}"
  # The images go into the store of the engine the tests talk to (PRISM_TC_ENGINE=podman|docker overrides).
  if [[ "${PRISM_TC_ENGINE}" == auto ]]; then
    PRISM_TC_ENGINE="$(api_engine "${host}")"
  fi
  export PRISM_TC_ENGINE
  log "images built with: ${PRISM_TC_ENGINE}"

  local images
  images="$(bash "${TC_SCRIPTS_DIR}/images.sh")"
  PRISM_TEST_KAFKA_IMAGE="$(sed -n 's/^KAFKA_IMAGE=//p' <<<"${images}")"
  PRISM_TEST_OPENBAO_IMAGE="$(sed -n 's/^OPENBAO_IMAGE=//p' <<<"${images}")"
  [[ -n "${PRISM_TEST_KAFKA_IMAGE}" && -n "${PRISM_TEST_OPENBAO_IMAGE}" ]] || die "images.sh printed no image names: ${images}"
  export PRISM_TEST_KAFKA_IMAGE PRISM_TEST_OPENBAO_IMAGE

  export PRISM_TEST_SERVICES=testcontainers PRISM_TC_RUN_ID="${RUN_ID}"
  export TESTCONTAINERS_RYUK_DISABLED="${TESTCONTAINERS_RYUK_DISABLED:-true}"
  # Anything that would point the suite elsewhere than at the containers.
  unset KAFKA_BROKERS PRISM_TEST_KAFKA_SASL_BROKERS PRISM_TEST_KAFKA_ADMIN_USER PRISM_TEST_KAFKA_ADMIN_PASSWORD_FILE \
    PRISM_TEST_KAFKA_ADMIN_CLIENT_CONFIG PRISM_TEST_OPENBAO_ADDR PRISM_TEST_OPENBAO_TOKEN

  log "running ${#files[@]} integration file(s) against the containers (run ${RUN_ID})"
  local started=${SECONDS}
  # --reporter=default: under CI=true the config adds a JSON report at .cache/test-results.json, the main suite's.
  (cd "${REPO_ROOT}" && PATH="${REPO_ROOT}/node_modules/.bin:${PATH}" vitest run --project integration --reporter=default "${files[@]}")
  log "tests passed in $((SECONDS - started))s"
}

main "$@"
