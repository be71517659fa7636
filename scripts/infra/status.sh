#!/usr/bin/env bash
# Shows whether the local infrastructure started by up.sh is running, and how to reach it.
# Usage: scripts/infra/status.sh [--env]
#   --env   print only KEY=value lines (set -a; eval "$(scripts/infra/status.sh --env)"; set +a)
# Exit status: 0 when every service is running and answering, 1 otherwise.
#
# Takes no lock and never starts, stops or downloads anything (it only tidies a stale pid
# file). The Kafka admin password is never printed, only the path of the file holding it.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

listener_state() {
  if port_open "${KAFKA_HOST}" "$1"; then echo "accepting"; else echo "closed"; fi
}

# Prints the Kafka section; returns 1 when Kafka is not fully up.
kafka_status() {
  local pid ok=0
  if pid="$(kafka_pid)"; then
    if kafka_answers; then
      echo "kafka:   running (pid ${pid}, Kafka ${KAFKA_VERSION}, answering metadata requests)"
    else
      echo "kafka:   process running (pid ${pid}) but NOT answering on ${KAFKA_PLAINTEXT_ADDR}"
      ok=1
    fi
  else
    echo "kafka:   not running"
    ok=1
  fi
  printf '  %-30s %-16s %s\n' "PLAINTEXT" "${KAFKA_PLAINTEXT_ADDR}" "$(listener_state "${KAFKA_PLAINTEXT_PORT}")"
  printf '  %-30s %-16s %s\n' "SASL_PLAINTEXT/SCRAM-SHA-512" "${KAFKA_SASL_ADDR}" "$(listener_state "${KAFKA_SASL_PORT}") (SCRAM-SHA-256 also enabled)"
  printf '  %-30s %-16s %s\n' "CONTROLLER (KRaft)" "${KAFKA_CONTROLLER_ADDR}" "$(listener_state "${KAFKA_CONTROLLER_PORT}")"
  echo "  admin SCRAM user:     ${KAFKA_ADMIN_USER}"
  if [[ -s "${KAFKA_ADMIN_PASSWORD_FILE}" ]]; then
    echo "  admin password file:  ${KAFKA_ADMIN_PASSWORD_FILE}"
    echo "  admin client config:  ${KAFKA_ADMIN_CLIENT_CONFIG}"
  else
    echo "  admin password file:  ${KAFKA_ADMIN_PASSWORD_FILE} (not created yet: run up.sh)"
  fi
  echo "  data dir:             ${KAFKA_DATA_DIR}"
  echo "  log:                  ${KAFKA_LOG_DIR}/server.log"
  return "${ok}"
}

openbao_status() {
  local pid ok=0
  if pid="$(openbao_pid)"; then
    if openbao_healthy; then
      echo "openbao: running (pid ${pid}, dev mode, /v1/sys/health = 200)"
    else
      echo "openbao: process running (pid ${pid}) but NOT healthy on ${OPENBAO_ADDR}"
      ok=1
    fi
  else
    echo "openbao: not running"
    ok=1
  fi
  echo "  address:              ${OPENBAO_ADDR}"
  echo "  token:                ${OPENBAO_DEV_TOKEN} (fixed dev root token)"
  echo "  log:                  ${OPENBAO_LOG_FILE}"
  return "${ok}"
}

main() {
  local env_only=0 rc=0
  case "${1:-}" in
    "") ;;
    --env) env_only=1 ;;
    -h | --help)
      usage
      return 0
      ;;
    *)
      usage >&2
      die "unknown argument '$1'"
      ;;
  esac

  if ((env_only)); then
    print_kafka_addresses
    print_openbao_addresses
    # Still report health through the exit code.
    kafka_pid >/dev/null && kafka_answers || rc=1
    openbao_pid >/dev/null && openbao_healthy || rc=1
    return "${rc}"
  fi

  kafka_status || rc=1
  openbao_status || rc=1
  return "${rc}"
}

main "$@"
