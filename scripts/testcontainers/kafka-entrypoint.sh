#!/bin/sh
# Entrypoint of localhost/prism-test/kafka (scripts/testcontainers/images.sh), run by the image's busybox sh.
# Writes the broker config from the template images.sh made with scripts/infra/up.sh's write_server_properties
# (the scripted broker's listeners and settings), formats the KRaft storage with the admin SCRAM user (both
# mechanisms, as up.sh does) and execs the broker, so it is PID 1 and gets the runtime's SIGTERM.
# The container runs with host networking: every listener is 127.0.0.1:<port>, the ports chosen by the caller.
# Environment:
#   KAFKA_PLAINTEXT_PORT KAFKA_SASL_PORT KAFKA_CONTROLLER_PORT   required
#   KAFKA_CLUSTER_ID                                             required (base64url of 16 bytes)
#   KAFKA_ADMIN_USER KAFKA_ADMIN_PASSWORD                        required: the SCRAM user made at format time
#   KAFKA_HOST (127.0.0.1) KAFKA_HEAP_OPTS KAFKA_TOOL_HEAP_OPTS  optional
set -eu

: "${KAFKA_PLAINTEXT_PORT:?}" "${KAFKA_SASL_PORT:?}" "${KAFKA_CONTROLLER_PORT:?}" "${KAFKA_CLUSTER_ID:?}"
: "${KAFKA_ADMIN_USER:?}" "${KAFKA_ADMIN_PASSWORD:?}"
host="${KAFKA_HOST:-127.0.0.1}"
home=/opt/kafka
state=/tmp/kafka
config="${state}/server.properties"

mkdir -p "${state}"
sed -e "s|@PLAINTEXT_ADDR@|${host}:${KAFKA_PLAINTEXT_PORT}|g" \
  -e "s|@SASL_ADDR@|${host}:${KAFKA_SASL_PORT}|g" \
  -e "s|@CONTROLLER_ADDR@|${host}:${KAFKA_CONTROLLER_PORT}|g" \
  -e "s|@DATA_DIR@|${state}/data|g" \
  "${home}/server.properties.template" >"${config}"

# The password goes only to the format command's arguments (stored hashed in the metadata log), never to a log.
# shellcheck disable=SC2086  # the heap options are several JVM flags on purpose
java ${KAFKA_TOOL_HEAP_OPTS:-} -Djava.awt.headless=true \
  -Dlog4j2.configurationFile="${home}/log4j2-tools.properties" -Dkafka.tool.log.level=ERROR \
  -cp "${home}/libs/*" kafka.tools.StorageTool format \
  --config "${config}" --cluster-id "${KAFKA_CLUSTER_ID}" \
  --add-scram "SCRAM-SHA-512=[name=${KAFKA_ADMIN_USER},password=${KAFKA_ADMIN_PASSWORD}]" \
  --add-scram "SCRAM-SHA-256=[name=${KAFKA_ADMIN_USER},password=${KAFKA_ADMIN_PASSWORD}]"
unset KAFKA_ADMIN_PASSWORD

# The JVM flags of scripts/infra/up.sh's start_kafka.
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:-} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
  -Djava.awt.headless=true -Dlog4j2.configurationFile="${home}/log4j2-broker.properties" \
  -cp "${home}/libs/*" kafka.Kafka "${config}"
