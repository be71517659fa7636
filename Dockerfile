# The Prism Kafka plugin's image (prism-contracts.md §9; decisions in docs/adr/0002-container-base-images.md).
#   build       Node 24 + npm: `npm ci`, `npm run build` -> dist/ (one ESM bundle + proto and asset files); the
#               descriptor set for reflection comes compiled (buf) from the host: .cache/descriptors/ (build.sh)
#   debug       distroless Node 24 debug-nonroot: the bundle + its source map; busybox at /busybox/sh
#   production  distroless Node 24 nonroot: the bundle and its runtime files only; no shell, no npm
# production is the last stage, so a build without --target gives the production image.
#
#   npm run image        both targets with podman, as prism/kafka-plugin:latest and :debug (stand-in bases
#                        are assembled first where no registry answers: scripts/image/build.sh)
#   docker build --target production -t prism/kafka-plugin:latest .
#
# Run it with environment variables only (nothing is baked in; README "Configuration"):
#   podman run -d -p 9091:9091 -e KAFKA_BROKERS=host.containers.internal:9092 prism/kafka-plugin:latest
# It runs as 65532 with a read-only root filesystem and no capabilities (it writes nothing to disk).

# Fully qualified names: podman refuses short names when no search registry is configured. Pin digests
# (name:tag@sha256:...) in a release pipeline that can reach the registries.
ARG BUILD_BASE=docker.io/library/node:24-trixie-slim
ARG DEBUG_BASE=gcr.io/distroless/nodejs24-debian13:debug-nonroot
ARG PRODUCTION_BASE=gcr.io/distroless/nodejs24-debian13:nonroot

FROM ${BUILD_BASE} AS build
WORKDIR /src
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
# Dependencies first: this layer is reused until package.json or the lockfile changes. The cache mount keeps
# npm's download cache across builds that do change them (BuildKit and podman/buildah both support it).
# Behind a TLS-inspecting proxy, pass the CA bundle the host trusts as a build secret (never stored in a
# layer): --secret id=extra_ca_certs,src=/etc/ssl/certs/ca-certificates.crt (scripts/image/build.sh does).
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    --mount=type=secret,id=extra_ca_certs \
    if [ -s /run/secrets/extra_ca_certs ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca_certs; fi; \
    npm ci
# Sources (.dockerignore keeps out node_modules, dist, tests, caches and anything secret-looking).
COPY . .
RUN npm run build

FROM ${DEBUG_BASE} AS debug
ARG DEBUG_BASE
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
# Owned by root and not writable by the process: the plugin cannot modify its own code.
COPY --from=build /src/dist/ /app/
WORKDIR /app
USER 65532:65532
EXPOSE 9091
STOPSIGNAL SIGTERM
# Exec form: node is PID 1 and receives SIGTERM itself (no shell in between to swallow it). A young generation of
# 8 MB semi-spaces: V8 would otherwise grow it to 64 MB each on a large host (peak RSS under publish load 318 → 229 MB,
# same throughput; see README "Memory").
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "/app/server.mjs"]
CMD []
LABEL org.opencontainers.image.title="prism-kafka-plugin (debug)" \
      org.opencontainers.image.description="Kafka backend plugin for the Prism data gateway; busybox at /busybox/sh; NODE_OPTIONS=--enable-source-maps maps stack traces" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${DEBUG_BASE}"

FROM ${PRODUCTION_BASE} AS production
ARG PRODUCTION_BASE
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
# The bundle, its third-party license notices and the files it reads at run time; the 7 MB source map stays
# in the debug image.
COPY --from=build /src/dist/server.mjs /src/dist/server.mjs.LEGAL.txt /app/
COPY --from=build /src/dist/proto/ /app/proto/
COPY --from=build /src/dist/descriptors.binpb /app/
COPY --from=build /src/dist/assets/ /app/assets/
WORKDIR /app
USER 65532:65532
EXPOSE 9091
STOPSIGNAL SIGTERM
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "/app/server.mjs"]
CMD []
LABEL org.opencontainers.image.title="prism-kafka-plugin" \
      org.opencontainers.image.description="Kafka backend plugin for the Prism data gateway" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${PRODUCTION_BASE}"
