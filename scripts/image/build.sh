#!/usr/bin/env bash
# Builds the plugin's image from the Dockerfile with podman (`npm run image`):
#   production -> prism/kafka-plugin:latest and :vX.Y.Z (version from package.json)
#   debug      -> prism/kafka-plugin:debug
# Usage: scripts/image/build.sh [production|debug|all]   (default: all)
#
# Base images: the Dockerfile's defaults (node:24 for the build stage, distroless nodejs24-debian13
# nonroot / debug-nonroot) when they are present or can be pulled within PRISM_IMAGE_PULL_TIMEOUT
# seconds; otherwise local stand-ins assembled by bases.sh, passed as build arguments so the
# Dockerfile stays the same. PRISM_IMAGE_BASES=standin skips the pull attempts; =upstream forbids
# the fallback. Installs and configures podman first when missing (install-prereqs.sh).
# Idempotent and cached: an unchanged tree rebuilds in seconds from podman's layer cache.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# A TLS-inspecting proxy (as on these machines) re-signs the npm registry's certificate with its own
# CA; the build stage's npm must trust what the host trusts. Passed as a build secret, so it is
# mounted for `npm ci` only and stored in no layer.
BUILD_CA_FILE="${PRISM_BUILD_CA_FILE:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}"

NEED_STANDINS=0

# Sets RESOLVED to the image to use for one base: the real one when it is here or can be pulled,
# else the stand-in (and then NEED_STANDINS). A global, not $(...), so NEED_STANDINS survives.
RESOLVED=""
resolve_base() {
  local upstream="$1" standin="$2"
  case "${PRISM_IMAGE_BASES}" in
    standin)
      RESOLVED="${standin}"
      NEED_STANDINS=1
      return 0
      ;;
    upstream | auto) ;;
    *) die "PRISM_IMAGE_BASES must be auto, standin or upstream (is '${PRISM_IMAGE_BASES}')" ;;
  esac
  if image_exists "${upstream}"; then
    RESOLVED="${upstream}"
    return 0
  fi
  log "pulling ${upstream} (at most ${PRISM_IMAGE_PULL_TIMEOUT}s)"
  local why
  if why="$(timeout "${PRISM_IMAGE_PULL_TIMEOUT}" podman --runtime runc --cgroup-manager cgroupfs pull -q "${upstream}" 2>&1 >/dev/null)"; then
    RESOLVED="${upstream}"
    return 0
  fi
  [[ "${PRISM_IMAGE_BASES}" == auto ]] || die "cannot pull ${upstream}: ${why:-timed out}"
  log "cannot pull it (${why##*$'\n'}); using the local stand-in ${standin}"
  RESOLVED="${standin}"
  NEED_STANDINS=1
}

build_target() {
  local target="$1" tag="$2" version="$3" revision="$4" started=${SECONDS} iidfile ctx
  shift 4
  iidfile="$(image_id_file "${target}")"
  log "building target ${target} -> ${tag}"
  # The image id goes to a file of this checkout: test.sh tests exactly what this build produced, even
  # when a build in another checkout on the same machine moves the shared tag meanwhile.
  pm build --network host --target "${target}" --iidfile "${iidfile}" "$@" "${REPO_ROOT}" >&2 ||
    die "podman build --target ${target} failed (see above)"
  # podman 4.3's layer cache reuses a LABEL step whose ARG values changed, so the Dockerfile's version and
  # revision labels can be stale; a metadata-only step on top sets them (labels given with --label are
  # part of its cache key). Docker/BuildKit evaluates the Dockerfile's labels correctly by itself.
  ctx="$(mktemp -d)"
  printf 'FROM %s\n' "$(sed 's/^sha256://' "${iidfile}")" >"${ctx}/Containerfile"
  pm build -q --network none --iidfile "${iidfile}" --tag "${tag}" \
    --label "org.opencontainers.image.version=${version}" \
    --label "org.opencontainers.image.revision=${revision}" "${ctx}" >/dev/null ||
    die "could not label ${tag}"
  rm -rf "${ctx}"
  log "built ${tag} in $((SECONDS - started))s"
}

size_line() {
  local image="$1" base="$2" size base_size
  size="$(pm image inspect --format '{{.Size}}' "${image}")"
  base_size="$(pm image inspect --format '{{.Size}}' "${base}")"
  log "$(printf '%-28s %s = base %s + plugin %s' "${image}" "$(mb "${size}")" "$(mb "${base_size}")" "$(mb $((size - base_size)))")"
}

main() {
  local which="${1:-all}"
  case "${which}" in
    production | debug | all) ;;
    -h | --help)
      sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      return 0
      ;;
    *) die "usage: build.sh [production|debug|all]" ;;
  esac
  local started=${SECONDS}
  bash "${IMAGE_SCRIPTS_DIR}/install-prereqs.sh"

  local build_base production_base debug_base
  resolve_base "${UPSTREAM_BUILD_BASE}" "${STANDIN_BUILD_BASE}"
  build_base="${RESOLVED}"
  production_base="${STANDIN_PRODUCTION_BASE}"
  debug_base="${STANDIN_DEBUG_BASE}"
  if [[ "${which}" != debug ]]; then
    resolve_base "${UPSTREAM_PRODUCTION_BASE}" "${STANDIN_PRODUCTION_BASE}"
    production_base="${RESOLVED}"
  fi
  if [[ "${which}" != production ]]; then
    resolve_base "${UPSTREAM_DEBUG_BASE}" "${STANDIN_DEBUG_BASE}"
    debug_base="${RESOLVED}"
  fi
  if ((NEED_STANDINS)); then
    bash "${IMAGE_SCRIPTS_DIR}/bases.sh"
  fi

  local version revision
  version="$(project_version)"
  revision="$(git -C "${REPO_ROOT}" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
  if [[ "${revision}" != unknown && -n "$(git -C "${REPO_ROOT}" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    revision="${revision}-dirty"
  fi
  local -a args=(
    --build-arg "BUILD_BASE=${build_base}"
    --build-arg "PRODUCTION_BASE=${production_base}"
    --build-arg "DEBUG_BASE=${debug_base}"
    --build-arg "VERSION=${version}"
    --build-arg "REVISION=${revision}"
  )
  if [[ -r "${BUILD_CA_FILE}" ]]; then
    args+=(--secret "id=extra_ca_certs,src=${BUILD_CA_FILE}")
  fi

  # Server reflection serves a descriptor set compiled by buf, which the build stage cannot run (no Go there): it is
  # compiled here, on the host, into .cache/descriptors/ (the one .cache/ folder .dockerignore lets into the context),
  # and the stage's `npm run build` reuses it after checking the recorded hash of every input proto.
  local node="${REPO_ROOT}/node_modules/.bin/node"
  [[ -x "${node}" ]] || node=node
  "${node}" "${REPO_ROOT}/build-descriptors.mjs" >&2 || die "could not compile the descriptor set (build-descriptors.mjs)"

  mkdir -p "${PRISM_IMAGE_CACHE}"
  # The second target reuses the build stage from podman's layer cache.
  if [[ "${which}" != debug ]]; then
    build_target production "${IMAGE_REPO}:latest" "${version}" "${revision}" "${args[@]}"
    pm tag "${IMAGE_REPO}:latest" "${IMAGE_REPO}:v${version}"
  fi
  if [[ "${which}" != production ]]; then
    build_target debug "${IMAGE_REPO}:debug" "${version}" "${revision}" "${args[@]}"
  fi

  [[ "${which}" == debug ]] || size_line "${IMAGE_REPO}:latest" "${production_base}"
  [[ "${which}" == production ]] || size_line "${IMAGE_REPO}:debug" "${debug_base}"
  log "image ${which} done in $((SECONDS - started))s (bases: build ${build_base}, production ${production_base}, debug ${debug_base})"
}

main "$@"
