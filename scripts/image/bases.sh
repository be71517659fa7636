#!/usr/bin/env bash
# Assembles local stand-ins for the three base images the Dockerfile names, for machines that
# reach no container registry (these build machines: only Debian's and npm's package
# registries answer). Same content class as the real ones, same paths:
#   localhost/prism-standin/nodejs24:nonroot        for gcr.io/distroless/nodejs24-debian13:nonroot
#       Debian's libc6, libgcc-s1, libstdc++6, ca-certificates, tzdata, netbase; /etc/passwd with
#       nonroot (65532); Node at /nodejs/bin/node; USER 65532; ENTRYPOINT ["/nodejs/bin/node"]
#   localhost/prism-standin/nodejs24:debug-nonroot  for ...:debug-nonroot
#       the above plus a static busybox under /busybox (on PATH), like distroless's debug images
#   localhost/prism-standin/node:24-build           for the build stage's docker.io/library/node:24-*
#       the above plus busybox as /usr/bin/sh etc., Node at /usr/local/bin/node, npm; runs as root
# Usage: scripts/image/bases.sh [--force]
#
# Idempotent: each stand-in carries a recipe label (a hash of this script, the Debian package
# versions, the Node and npm versions); an image with the current recipe is left alone, so the
# layer cache of builds on top of it stays valid. --force rebuilds all three.
# Needs root (files in the root filesystem must be owned by 0 and 65532), podman, apt-get, npm.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# npm for the build stand-in. Node's own tarball bundles npm; the npm registry's node-linux-*
# package (our Node binary) does not, so it comes separately, pinned.
NPM_VERSION="${NPM_VERSION:-11.19.1}"
# The Debian packages distroless's cc/nodejs images are made of, minus base-files (we write
# /etc/os-release ourselves, so nobody mistakes a stand-in for the real thing) and gcc-N-base (only
# documentation, and N changes with each Debian release).
RUNTIME_DEBS=(libc6 libgcc-s1 libstdc++6 ca-certificates tzdata netbase)
# Static, so it needs nothing from the root filesystem and runs on the host to list its applets.
BUSYBOX_DEB=busybox-static
RECIPE_LABEL=org.prism.standin.recipe
# Fixed timestamps in the root filesystem tarball: the same inputs give the same layer digest.
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"

# --- inputs ----------------------------------------------------------------------------

# The Node version the project pins (package-lock.json), so the stand-ins run the same Node as
# `npm run` does on a developer machine.
pinned_node_version() {
  local v
  v="$(awk '/"node_modules\/node": \{/ { found = 1 } found && /"version":/ { gsub(/[",]/, "", $2); print $2; exit }' \
    "${REPO_ROOT}/package-lock.json")"
  [[ "${v}" =~ ^24\.[0-9]+\.[0-9]+$ ]] || die "package-lock.json pins node@'${v}', expected 24.x.y"
  printf '%s\n' "${v}"
}

# Debian and npm name the machine's architecture differently.
deb_arch() { dpkg --print-architecture; }
node_arch() {
  case "$(uname -m)" in
    x86_64) echo x64 ;;
    aarch64) echo arm64 ;;
    *) die "no Node build for $(uname -m)" ;;
  esac
}

# "package=version" for each package, the candidate apt would download (one apt-cache call: each
# costs ~0.5 s). Refreshes the package lists once when a package is unknown (a fresh machine may
# never have run apt-get update).
candidate_versions() {
  local out
  out="$(apt-cache policy "$@" 2>/dev/null |
    awk '/^[^ ]/ { pkg = $1; sub(/:$/, "", pkg) } /^ *Candidate:/ && $2 != "(none)" { print pkg "=" $2 }')"
  if (($(grep -c . <<<"${out}") != $#)); then
    log "apt-get update (the package lists lack some of: $*)"
    apt-get update -q >&2
    out="$(apt-cache policy "$@" 2>/dev/null |
      awk '/^[^ ]/ { pkg = $1; sub(/:$/, "", pkg) } /^ *Candidate:/ && $2 != "(none)" { print pkg "=" $2 }')"
    (($(grep -c . <<<"${out}") == $#)) || die "apt knows no installable version of some of: $*"
  fi
  printf '%s\n' "${out}"
}

# Downloads the .debs into a directory named after their exact versions, once. apt-get
# download runs unsandboxed as root: there is no _apt user needed for a plain file fetch.
fetch_debs() {
  local dir="$1" pkg
  shift
  [[ -f "${dir}/.complete" ]] && return 0
  rm -rf "${dir}"
  mkdir -p "${dir}"
  log "downloading $* (apt-get download)"
  (cd "${dir}" && apt-get download -q -o APT::Sandbox::User=root "$@" >&2) || die "apt-get download $* failed"
  for pkg in "$@"; do
    compgen -G "${dir}/${pkg}_*.deb" >/dev/null || die "apt-get download did not fetch ${pkg}"
  done
  touch "${dir}/.complete"
}

# The official Node binary, from the project's node_modules when it holds the pinned version
# (no download), else from the npm registry's node-linux-<arch> package.
fetch_node() {
  local version="$1" dest="$2" local_bin="${REPO_ROOT}/node_modules/node/bin/node" tmp
  [[ -x "${dest}/bin/node" ]] && return 0
  mkdir -p "${dest}/bin"
  if [[ -x "${local_bin}" && "$("${local_bin}" --version 2>/dev/null)" == "v${version}" ]]; then
    cp "${local_bin}" "${dest}/bin/node.tmp"
  else
    need_cmd npm
    tmp="$(mktemp -d)"
    log "downloading node-linux-$(node_arch)@${version} (npm pack)"
    (cd "${tmp}" && npm pack -q "node-linux-$(node_arch)@${version}" >/dev/null) || die "npm pack node-linux-$(node_arch)@${version} failed"
    tar -xzf "${tmp}"/node-linux-*.tgz -C "${tmp}"
    cp "${tmp}/package/bin/node" "${dest}/bin/node.tmp"
    rm -rf "${tmp}"
  fi
  mv "${dest}/bin/node.tmp" "${dest}/bin/node"
}

fetch_npm() {
  local dest="$1"
  [[ -s "${dest}" ]] && return 0
  need_cmd npm
  log "downloading npm@${NPM_VERSION} (npm pack)"
  local tmp
  tmp="$(mktemp -d)"
  (cd "${tmp}" && npm pack -q "npm@${NPM_VERSION}" >/dev/null) || die "npm pack npm@${NPM_VERSION} failed"
  mv "${tmp}/npm-${NPM_VERSION}.tgz" "${dest}"
  rm -rf "${tmp}"
}

# --- root filesystem -------------------------------------------------------------------

# Unpacks a .deb the way dpkg would place its files, without running maintainer scripts
# (there is nothing to configure in these packages beyond the CA bundle, made below).
# --keep-directory-symlink keeps the merged-/usr links (lib -> usr/lib) that Debian 13 and
# distroless's debian13 images use, instead of replacing them with directories.
unpack_deb() {
  dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --keep-directory-symlink
}

# Records each package the way distroless does (/var/lib/dpkg/status.d/<name>), so image
# scanners (trivy, grype, syft) can list what the stand-in contains.
record_deb() {
  local deb="$1" root="$2" name
  name="$(dpkg-deb -f "${deb}" Package)"
  mkdir -p "${root}/var/lib/dpkg/status.d"
  {
    dpkg-deb -f "${deb}" Package Version Architecture Maintainer Source Homepage Description
    echo "Status: install ok installed"
  } >"${root}/var/lib/dpkg/status.d/${name}"
}

write_runtime_etc() {
  local root="$1" node_version="$2"
  mkdir -p "${root}/etc/ssl/certs"
  # update-ca-certificates would build this bundle in the package's postinst; dpkg-deb -x runs none.
  cat "${root}"/usr/share/ca-certificates/mozilla/*.crt >"${root}/etc/ssl/certs/ca-certificates.crt"
  # The same users and groups as distroless's base images.
  cat >"${root}/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"${root}/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  # Without this file glibc tries DNS before /etc/hosts; containers expect files first.
  cat >"${root}/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
networks: files
protocols: files
services: files
EOF
  cat >"${root}/etc/os-release" <<EOF
PRETTY_NAME="Prism local stand-in for distroless nodejs24 (Debian $(cut -d. -f1 /etc/debian_version) packages, Node ${node_version})"
NAME="prism-standin"
ID=prism-standin
ID_LIKE=debian
HOME_URL="https://github.com/GoogleContainerTools/distroless"
EOF
  install -d -m 0700 -o 0 -g 0 "${root}/root"
  install -d -m 0700 -o 65532 -g 65532 "${root}/home/nonroot"
  install -d -m 1777 "${root}/tmp"
}

# The production stand-in's root filesystem: packages, /etc, Node at distroless's path.
assemble_runtime_rootfs() {
  local root="$1" debs="$2" node_dir="$3" node_version="$4" deb
  rm -rf "${root}"
  mkdir -p "${root}/usr/bin" "${root}/usr/sbin" "${root}/usr/lib" "${root}/usr/lib64"
  ln -s usr/bin "${root}/bin"
  ln -s usr/sbin "${root}/sbin"
  ln -s usr/lib "${root}/lib"
  ln -s usr/lib64 "${root}/lib64"
  for deb in "${debs}"/*.deb; do
    [[ "$(basename "${deb}")" == "${BUSYBOX_DEB}"_* ]] && continue
    unpack_deb "${deb}" "${root}"
    record_deb "${deb}" "${root}"
  done
  # Documentation is not part of distroless images either.
  rm -rf "${root}/usr/share/doc" "${root}/usr/share/man" "${root}/usr/share/info" "${root}/usr/share/lintian"
  write_runtime_etc "${root}" "${node_version}"
  install -D -m 0755 "${node_dir}/bin/node" "${root}/nodejs/bin/node"
}

# Tar with fixed owners' numbers, order and times, so the layer is the same for the same inputs.
import_rootfs() {
  local root="$1" image="$2" recipe="$3"
  shift 3
  local tarball="${root}.tar"
  tar -C "${root}" --numeric-owner --sort=name --mtime="@${SOURCE_DATE_EPOCH}" \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "${tarball}" .
  local -a changes=()
  local change
  for change in "$@" "LABEL ${RECIPE_LABEL}=${recipe}"; do
    changes+=(--change "${change}")
  done
  pm import -q "${changes[@]}" --message "prism stand-in ${recipe}" "${tarball}" "${image}" >/dev/null
  rm -f "${tarball}"
}

# A stand-in layered on another one with podman build, as distroless layers its debug images.
build_layer() {
  local context="$1" image="$2"
  pm build -q --network none --format oci -t "${image}" "${context}" >/dev/null
}

current_recipe() { pm image inspect --format "{{index .Labels \"${RECIPE_LABEL}\"}}" "$1" 2>/dev/null || true; }

# --- main ------------------------------------------------------------------------------

main() {
  local force=0
  case "${1:-}" in
    --force) force=1 ;;
    "") ;;
    -h | --help)
      sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      return 0
      ;;
    *) die "usage: bases.sh [--force]" ;;
  esac
  ((EUID == 0)) || die "run as root: the root filesystems need files owned by 0 and 65532"
  need_cmd podman
  need_cmd apt-get
  need_cmd dpkg-deb

  local started=${SECONDS} node_version recipe
  node_version="$(pinned_node_version)"
  local -a versions=()
  mapfile -t versions < <(candidate_versions "${RUNTIME_DEBS[@]}" "${BUSYBOX_DEB}")
  ((${#versions[@]} == ${#RUNTIME_DEBS[@]} + 1)) || die "could not read the Debian package versions"
  recipe="$(
    {
      sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
      printf '%s\n' "node=${node_version}" "npm=${NPM_VERSION}" "arch=$(deb_arch)" "${versions[@]}"
    } | sha256sum | cut -c1-16
  )"

  if ((force == 0)) &&
    [[ "$(current_recipe "${STANDIN_PRODUCTION_BASE}")" == "${recipe}" &&
      "$(current_recipe "${STANDIN_DEBUG_BASE}")" == "${recipe}" &&
      "$(current_recipe "${STANDIN_BUILD_BASE}")" == "${recipe}" ]]; then
    log "stand-in bases are current (recipe ${recipe})"
    return 0
  fi

  local work="${PRISM_IMAGE_CACHE}/standin" debs node_dir
  debs="${PRISM_IMAGE_CACHE}/debs-$(printf '%s\n' "${versions[@]}" | sha256sum | cut -c1-12)"
  node_dir="${PRISM_IMAGE_CACHE}/node-v${node_version}-linux-$(node_arch)"
  local npm_tgz="${PRISM_IMAGE_CACHE}/npm-${NPM_VERSION}.tgz"
  mkdir -p "${PRISM_IMAGE_CACHE}"
  fetch_debs "${debs}" "${RUNTIME_DEBS[@]}" "${BUSYBOX_DEB}"
  fetch_node "${node_version}" "${node_dir}"
  fetch_npm "${npm_tgz}"
  "${node_dir}/bin/node" --version >/dev/null || die "${node_dir}/bin/node does not run on this machine"
  # Inputs of earlier recipes (a Node binary is 127 MB) are not needed again.
  local old
  for old in "${PRISM_IMAGE_CACHE}"/debs-* "${PRISM_IMAGE_CACHE}"/node-v* "${PRISM_IMAGE_CACHE}"/npm-*.tgz; do
    [[ -e "${old}" && "${old}" != "${debs}" && "${old}" != "${node_dir}" && "${old}" != "${npm_tgz}" ]] && rm -rf "${old}"
  done

  log "assembling ${STANDIN_PRODUCTION_BASE} (recipe ${recipe})"
  assemble_runtime_rootfs "${work}/rootfs" "${debs}" "${node_dir}" "${node_version}"
  local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  import_rootfs "${work}/rootfs" "${STANDIN_PRODUCTION_BASE}" "${recipe}" \
    "ENV PATH=${path}" \
    "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
    "USER 65532" \
    "WORKDIR /home/nonroot" \
    'ENTRYPOINT ["/nodejs/bin/node"]'
  rm -rf "${work}/rootfs"

  # busybox's applets as symlinks beside it, listed by the static binary itself.
  local bb="${work}/busybox"
  rm -rf "${bb}"
  mkdir -p "${bb}/unpacked" "${bb}/ctx/busybox"
  unpack_deb "${debs}/${BUSYBOX_DEB}"_*.deb "${bb}/unpacked"
  install -m 0755 "${bb}/unpacked/bin/busybox" "${bb}/ctx/busybox/busybox"
  local applet
  while read -r applet; do
    [[ "${applet}" == busybox ]] || ln -s busybox "${bb}/ctx/busybox/${applet}"
  done < <("${bb}/ctx/busybox/busybox" --list)

  log "assembling ${STANDIN_DEBUG_BASE}"
  cat >"${bb}/ctx/Containerfile" <<EOF
FROM ${STANDIN_PRODUCTION_BASE}
COPY busybox/ /busybox/
ENV PATH=${path}:/busybox
LABEL ${RECIPE_LABEL}=${recipe}
EOF
  build_layer "${bb}/ctx" "${STANDIN_DEBUG_BASE}"

  # The build stand-in looks like the official node image where the Dockerfile can tell:
  # a POSIX shell at /bin/sh, node and npm on PATH under /usr/local, root, HOME=/root.
  log "assembling ${STANDIN_BUILD_BASE}"
  local ctx="${work}/build-ctx"
  rm -rf "${ctx}"
  mkdir -p "${ctx}/usr/bin" "${ctx}/usr/local/bin" "${ctx}/usr/local/lib/node_modules"
  install -m 0755 "${bb}/unpacked/bin/busybox" "${ctx}/usr/bin/busybox"
  while read -r applet; do
    [[ "${applet}" == busybox ]] || ln -s busybox "${ctx}/usr/bin/${applet}"
  done < <("${ctx}/usr/bin/busybox" --list)
  tar -xzf "${npm_tgz}" -C "${ctx}/usr/local/lib/node_modules"
  mv "${ctx}/usr/local/lib/node_modules/package" "${ctx}/usr/local/lib/node_modules/npm"
  ln -s /nodejs/bin/node "${ctx}/usr/local/bin/node"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "${ctx}/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "${ctx}/usr/local/bin/npx"
  cat >"${ctx}/Containerfile" <<EOF
FROM ${STANDIN_PRODUCTION_BASE}
COPY usr/ /usr/
USER root
WORKDIR /
ENV NODE_VERSION=${node_version} NPM_CONFIG_UPDATE_NOTIFIER=false
ENTRYPOINT []
CMD ["node"]
LABEL ${RECIPE_LABEL}=${recipe}
EOF
  build_layer "${ctx}" "${STANDIN_BUILD_BASE}"
  rm -rf "${work}"

  # Fail here, not in the middle of the plugin's build, when a stand-in cannot run Node.
  local out
  out="$(pm run --rm --network none "${STANDIN_PRODUCTION_BASE}" -p 'process.version + " uid " + process.getuid()')" ||
    die "${STANDIN_PRODUCTION_BASE} cannot run node"
  [[ "${out}" == "v${node_version} uid 65532" ]] || die "${STANDIN_PRODUCTION_BASE} printed '${out}', expected 'v${node_version} uid 65532'"
  out="$(pm run --rm --network none "${STANDIN_BUILD_BASE}" sh -c 'npm --version')" ||
    die "${STANDIN_BUILD_BASE} cannot run npm"
  [[ "${out}" == "${NPM_VERSION}" ]] || die "${STANDIN_BUILD_BASE}: npm --version printed '${out}'"
  log "stand-in bases ready in $((SECONDS - started))s: node v${node_version}, npm ${NPM_VERSION}"
}

main "$@"
