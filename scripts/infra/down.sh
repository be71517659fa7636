#!/usr/bin/env bash
# Stops the local infrastructure started by up.sh.
# Usage: scripts/infra/down.sh [--wipe] [kafka|openbao|all]   (default: all)
#   --wipe   also delete the Kafka data dir (topics, offsets, SCRAM users, admin password,
#            logs) and the OpenBao state/logs. Downloaded jars and the OpenBao venv are
#            kept, so the next up.sh is still fast.
#
# Each service gets SIGTERM (Kafka does a clean shutdown), a bounded wait, then SIGKILL.
# Stale pid files are removed; processes whose pid file was lost are found via /proc.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Stops every process that is "ours" for a service: the one in the pid file plus, to
# leave nothing behind, any other live process carrying the same markers.
stop_service() {
  local name="$1" pid_file="$2" timeout_s="$3" pid stopped=0
  shift 3
  local -a pids=()
  if pid="$(read_pid "${pid_file}")"; then
    if pid_matches "${pid}" "$@"; then
      pids+=("${pid}")
    else
      log "${name}: removing stale pid file (pid ${pid} is not ${name})"
    fi
  fi
  while read -r pid; do
    [[ -n "${pid}" && " ${pids[*]} " != *" ${pid} "* ]] && pids+=("${pid}")
  done < <(find_pids_by_markers "$@")

  for pid in "${pids[@]}"; do
    log "${name}: stopping pid ${pid}"
    stop_pid "${pid}" "${name}" "${timeout_s}"
    stopped=$((stopped + 1))
  done
  rm -f "${pid_file}"
  if ((stopped == 0)); then
    log "${name}: not running"
  else
    log "${name}: stopped"
  fi
}

main() {
  local wipe=0 target=all arg
  for arg in "$@"; do
    case "${arg}" in
      --wipe) wipe=1 ;;
      kafka | openbao | all) target="${arg}" ;;
      -h | --help)
        usage
        return 0
        ;;
      *)
        usage >&2
        die "unknown argument '${arg}'"
        ;;
    esac
  done

  acquire_infra_lock
  if [[ "${target}" == kafka || "${target}" == all ]]; then
    stop_service kafka "${KAFKA_PID_FILE}" "${KAFKA_STOP_TIMEOUT}" "${KAFKA_MARKERS[@]}"
    if ((wipe)); then
      # Safety net against a misconfigured PRISM_INFRA_DIR: only delete inside it.
      [[ "${KAFKA_STATE_DIR}" == "${PRISM_INFRA_DIR}/"* ]] || die "refusing to wipe ${KAFKA_STATE_DIR}"
      rm -rf "${KAFKA_STATE_DIR}"
      log "kafka: wiped ${KAFKA_STATE_DIR}"
    fi
  fi
  if [[ "${target}" == openbao || "${target}" == all ]]; then
    stop_service openbao "${OPENBAO_PID_FILE}" "${OPENBAO_STOP_TIMEOUT}" "${OPENBAO_MARKERS[@]}"
    if ((wipe)); then
      [[ "${OPENBAO_STATE_DIR}" == "${PRISM_INFRA_DIR}/"* ]] || die "refusing to wipe ${OPENBAO_STATE_DIR}"
      rm -rf "${OPENBAO_STATE_DIR}"
      log "openbao: wiped ${OPENBAO_STATE_DIR}"
    fi
  fi
  log "down (${target}) done in ${SECONDS}s"
}

main "$@"
