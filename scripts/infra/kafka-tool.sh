#!/usr/bin/env bash
# Runs an Apache Kafka CLI tool from the jars resolved by up.sh (no Kafka install needed).
# Usage: scripts/infra/kafka-tool.sh <tool> [args...]
#        scripts/infra/kafka-tool.sh run-class <main.Class> [args...]
#        scripts/infra/kafka-tool.sh --list
# <tool> is the name of Kafka's bin/ script, with or without "kafka-" and ".sh", e.g.
#   scripts/infra/kafka-tool.sh kafka-topics --bootstrap-server 127.0.0.1:9092 --list
#   scripts/infra/kafka-tool.sh kafka-topics --bootstrap-server 127.0.0.1:9093 \
#     --command-config .cache/infra/kafka/admin-client.properties --list
# Client logging is limited to errors on stderr (KAFKA_TOOL_LOG_LEVEL=WARN|INFO to change),
# so stdout carries only the tool's own output.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

list_tools() {
  local name
  for name in ${KAFKA_TOOL_NAMES}; do
    printf '  kafka-%-28s %s\n' "${name}" "$(kafka_tool_class "${name}")"
  done
}

main() {
  local tool main_class
  if (($# == 0)); then
    usage >&2
    exit 2
  fi
  tool="$1"
  shift
  case "${tool}" in
    -h | --help | help)
      usage
      echo
      echo "Tools (main classes of Kafka ${KAFKA_VERSION}):"
      list_tools
      return 0
      ;;
    --list | list)
      list_tools
      return 0
      ;;
    run-class | kafka-run-class | kafka-run-class.sh)
      (($# > 0)) || die "run-class needs a main class"
      main_class="$1"
      shift
      ;;
    *)
      if ! main_class="$(kafka_tool_class "${tool}")"; then
        echo "Known tools:" >&2
        list_tools >&2
        die "unknown Kafka tool '${tool}'"
      fi
      ;;
  esac

  require_java
  ensure_kafka_libs
  kafka_class_cmd "${main_class}"
  # exec: signals (Ctrl-C on a console consumer) and the exit code go straight to the tool.
  exec "${KAFKA_CMD[@]}" "$@"
}

main "$@"
