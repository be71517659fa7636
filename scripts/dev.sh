#!/usr/bin/env bash
# `npm run dev`: brings up the local Kafka broker (and OpenBao), builds the bundle and runs the plugin on :9091
# against that broker, in the foreground. Ctrl-C stops the plugin (the broker keeps running: `npm run infra:down`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  bash scripts/infra/install-prereqs.sh
  bash scripts/infra/up.sh
  export KAFKA_BROKERS=127.0.0.1:9092
fi
node build.mjs
# Same V8 young-generation cap as the container image (README "Memory").
exec node --max-semi-space-size=8 dist/server.mjs "$@"
