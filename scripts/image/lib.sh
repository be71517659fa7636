#!/usr/bin/env bash
# Shared settings and helpers for the container image scripts (install-prereqs.sh, bases.sh,
# build.sh, test.sh). Sourced, never executed: it only defines variables and functions.
# Every setting can be overridden from the environment.
# shellcheck disable=SC2034  # variables are consumed by the scripts that source this file

if [[ -n "${PRISM_IMAGE_LIB_LOADED:-}" ]]; then
  return 0
fi
PRISM_IMAGE_LIB_LOADED=1

IMAGE_SCRIPTS_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "${IMAGE_SCRIPTS_DIR}/../.." && pwd -P)"

# Downloads (.debs, the npm tarball, the Node binary), the assembled root filesystems and the ids
# of the last built images live here; the repo git-ignores .cache/. Kept between runs so a rebuilt
# stand-in costs no download.
PRISM_IMAGE_CACHE="$(realpath -m -- "${PRISM_IMAGE_CACHE:-${REPO_ROOT}/.cache/image}")"

# The image this project ships (prism-contracts.md §9): tags latest, vX.Y.Z and debug.
IMAGE_REPO="${IMAGE_REPO:-prism/kafka-plugin}"

# The real bases, as the Dockerfile defaults name them. Fully qualified: podman refuses
# (or prompts for) short names when no unqualified-search registry is configured.
UPSTREAM_BUILD_BASE="${UPSTREAM_BUILD_BASE:-docker.io/library/node:24-trixie-slim}"
UPSTREAM_PRODUCTION_BASE="${UPSTREAM_PRODUCTION_BASE:-gcr.io/distroless/nodejs24-debian13:nonroot}"
UPSTREAM_DEBUG_BASE="${UPSTREAM_DEBUG_BASE:-gcr.io/distroless/nodejs24-debian13:debug-nonroot}"

# Local stand-ins for the three bases, assembled by bases.sh when the real ones cannot be
# pulled. localhost/ makes clear they never came from a registry.
STANDIN_REPO="${STANDIN_REPO:-localhost/prism-standin}"
STANDIN_BUILD_BASE="${STANDIN_REPO}/node:24-build"
STANDIN_PRODUCTION_BASE="${STANDIN_REPO}/nodejs24:nonroot"
STANDIN_DEBUG_BASE="${STANDIN_REPO}/nodejs24:debug-nonroot"

# auto: use a base that is present locally, else try a pull, else a stand-in.
# standin: always the stand-ins (no pull attempt). upstream: the real bases or fail.
PRISM_IMAGE_BASES="${PRISM_IMAGE_BASES:-auto}"
# A registry that is unreachable here fails fast on DNS, but a firewalled one can hang: bound it.
PRISM_IMAGE_PULL_TIMEOUT="${PRISM_IMAGE_PULL_TIMEOUT:-20}"

# --- small helpers ---------------------------------------------------------------------

LOG_TAG=image
PREREQS_SCRIPT=scripts/image/install-prereqs.sh
# shellcheck source-path=SCRIPTDIR source=../log.sh
source "${IMAGE_SCRIPTS_DIR}/../log.sh"

# podman with the two settings that make it work on these machines passed explicitly, so a
# machine whose containers.conf predates install-prereqs.sh still works: crun fails on the
# hybrid cgroup layout here, and the systemd cgroup manager needs a systemd session.
pm() {
  podman --runtime runc --cgroup-manager cgroupfs "$@"
}

image_exists() { pm image exists "$1"; }

# Where build.sh records the id of the image it built for a target (production, debug).
image_id_file() { echo "${PRISM_IMAGE_CACHE}/$1.iid"; }

# The project version (package.json), for the vX.Y.Z tag and the image labels.
project_version() {
  sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "${REPO_ROOT}/package.json" | head -n1
}

# Human-readable size of a byte count (MB = 10^6 bytes, as podman reports image sizes).
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
