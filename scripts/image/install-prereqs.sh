#!/usr/bin/env bash
# Installs and configures what the image scripts need on a fresh Debian machine:
#   podman + runc (apt)      builds and runs the images (there is no Docker engine here)
#   catatonit (apt)          the init of podman's pause image, which every pod needs (`podman kube play`)
#   /etc/containers/containers.conf with the settings podman needs on these machines
# Usage: scripts/image/install-prereqs.sh
#
# Idempotent: when podman and runc are present and the config holds the settings, it only checks.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

CONTAINERS_CONF="${CONTAINERS_CONF_PATH:-/etc/containers/containers.conf}"

install_packages() {
  local -a missing=() sudo=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v catatonit >/dev/null 2>&1 || missing+=(catatonit)
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: install them by hand"
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]}: re-run as root (no sudo found)"
    sudo=(sudo)
  fi
  # apt's progress goes to a file (shown on failure): a CI log should not carry 100 dpkg lines.
  local apt_log="${PRISM_IMAGE_CACHE}/apt-install.log"
  mkdir -p "${PRISM_IMAGE_CACHE}"
  log "installing ${missing[*]} (apt-get; log: ${apt_log})"
  # --no-install-recommends: the recommends (buildah, fuse-overlayfs, slirp4netns, uidmap,
  # dbus-user-session) serve rootless use; we run as root with the kernel's overlayfs.
  if ! { "${sudo[@]}" apt-get update -q &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"${apt_log}" 2>&1; then
    tail -n 30 "${apt_log}" >&2
    die "apt-get could not install ${missing[*]}"
  fi
  command -v podman >/dev/null 2>&1 || die "podman still missing after apt-get install"
  command -v runc >/dev/null 2>&1 || die "runc still missing after apt-get install"
  command -v catatonit >/dev/null 2>&1 || die "catatonit still missing after apt-get install"
}

# podman 4.3 (Debian 12) runs containers here only with:
#   default_ulimits = []   as root, podman otherwise raises the container's nofile limit to
#                          1048576, above this machine's hard limit (20000), and runc fails with
#                          "error setting rlimit type 7: operation not permitted"
#   cgroup_manager = "cgroupfs"  no systemd session to create cgroup scopes in
#   runtime = "runc"       crun fails on the hybrid cgroup layout
# The scripts also pass --runtime/--cgroup-manager on every call (lib.sh: pm); default_ulimits
# has no flag, so the file is needed. An existing file is never rewritten (it may hold someone's
# settings): we only say what it lacks.
configure_containers_conf() {
  if [[ ! -e "${CONTAINERS_CONF}" ]]; then
    log "writing ${CONTAINERS_CONF}"
    mkdir -p "$(dirname -- "${CONTAINERS_CONF}")"
    cat >"${CONTAINERS_CONF}.tmp" <<'CONF'
# Written by the Prism Kafka plugin's scripts/image/install-prereqs.sh: the settings podman 4.3
# needs on these build machines (see that script for why each one is needed).
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
    mv "${CONTAINERS_CONF}.tmp" "${CONTAINERS_CONF}"
    return 0
  fi
  local setting
  for setting in 'default_ulimits *= *\[ *\]' 'cgroup_manager *= *"cgroupfs"'; do
    if ! grep -Eq "^[[:space:]]*${setting}" "${CONTAINERS_CONF}"; then
      warn "${CONTAINERS_CONF} exists but lacks '${setting//\\/}': containers may fail to start (see the comment in install-prereqs.sh)"
    fi
  done
}

main() {
  (($# == 0)) || die "usage: install-prereqs.sh (no arguments)"
  local started=${SECONDS}
  install_packages
  configure_containers_conf
  # A smoke test that fails here, with podman's own message, rather than in the middle of a build.
  pm info --format '{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}}' >/dev/null ||
    die "podman does not work on this machine (podman info failed)"
  log "podman $(podman --version | awk '{print $3}') with runc ready ($((SECONDS - started))s)"
}

main "$@"
