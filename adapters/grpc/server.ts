import type { Server as HttpServer } from 'node:http';
import { Server, type ServiceDefinition } from '@grpc/grpc-js';
import type { ConfigSources } from '../../core/config/load.ts';
import { defaultTlsReloadMs, readServerTls } from '../../core/config/tls.ts';
import { probeHandler } from './probes.ts';
import { readDescriptorSet } from './descriptor-set.ts';
import { indexDescriptorSet } from './descriptors.ts';
import { lenientDecoding } from './strict-decode.ts';
import { withHotCodecs } from './wire/hot-codecs.ts';
import { addHealthService, healthServiceNames } from './health-service.ts';
import { dataServiceNames } from './interfaces.ts';
import { pubsubService } from './pubsub-service.ts';
import { queueService } from './queue-service.ts';
import { streamService } from './stream-service.ts';
import { lifecycleService } from './lifecycle-service.ts';
import { createHttpServer, listenShared } from './listener.ts';
import { certificateFields, validToMs, watchServerTls, type TlsReloader } from './tls-reload.ts';
import { addReflectionService } from './reflection-service.ts';
import { servedDefinitions, type ServiceDefinitions } from '../protos/services.ts';
import type { Runtime } from './runtime.ts';

export interface ServerOptions {
  runtime: Runtime;
  sources: ConfigSources;
  port: number;
  host: string;
  onStopped: () => void;
  /** Grace period for Drain/Stop when the caller gives none. */
  graceMs: number;
  /** The gRPC receive limit, kept consistent with the largest record we accept (plus envelope). */
  maxReceiveBytes: number;
  /** A second, HTTP-only port with the same probes and /metrics (HEALTH_PORT, --metrics-port); none when undefined. */
  metricsPort?: number;
}

export interface RunningServer {
  port: number;
  /** The HTTP-only probe port actually bound, when one was asked for. */
  metricsPort?: number;
  /** Stops accepting connections, lets calls finish up to `graceMs`, then cuts the rest. Idempotent. */
  close(graceMs: number): Promise<void>;
}

function service(definitions: ServiceDefinitions, name: string): ServiceDefinition {
  return lenientDecoding(definitions[name]!);
}

/** The services registered below, as reflection lists them (with its own two). */
const reflectedServices = [
  'prism.interfaces.LifecycleInterface',
  'prism.interfaces.pubsub.PubSubBasicInterface',
  'prism.interfaces.queue.QueueBasicInterface',
  'prism.interfaces.stream.StreamBasicInterface',
  'grpc.health.v1.Health',
];

/** Builds the gRPC server (lifecycle, health, reflection) and serves it with HTTP probes on one port. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { runtime } = options;
  const definitions = servedDefinitions();
  const grpc = new Server({
    'grpc.max_receive_message_length': options.maxReceiveBytes,
    'grpc.keepalive_permit_without_calls': 1,
  });
  grpc.addService(service(definitions, 'prism.interfaces.LifecycleInterface'), lifecycleService({
    runtime,
    sources: options.sources,
    onStopped: options.onStopped,
    defaultTimeoutMs: options.graceMs,
  }));
  grpc.addService(service(definitions, 'prism.interfaces.pubsub.PubSubBasicInterface'), pubsubService(runtime));
  grpc.addService(withHotCodecs(service(definitions, 'prism.interfaces.queue.QueueBasicInterface'), () => runtime.deps.limits), queueService(runtime));
  grpc.addService(service(definitions, 'prism.interfaces.stream.StreamBasicInterface'), streamService(runtime));
  const health = addHealthService(grpc, runtime, [...healthServiceNames, ...dataServiceNames]);
  // Reflection describes what buf compiled at build time (not what protobufjs parsed for the codecs above), and
  // lists the services registered here: proto/ also declares ProxyControlPlane, which the proxy serves, not us.
  addReflectionService(grpc, indexDescriptorSet(readDescriptorSet()), reflectedServices);

  const probes = probeHandler({
    metrics: () => runtime.scope.metrics,
    report: () => runtime.deps.health.report(),
    stopping: () => runtime.stopping,
  });
  const http = createHttpServer(probes);
  // TLS comes from the start-up configuration (control_plane.tls); Initialize changes backend keys only, never this.
  // The files themselves are watched: a new certificate is served to new connections without a restart.
  const controlPlane = runtime.deps.config.controlPlane;
  const tls = readServerTls(controlPlane.tls);
  const log = runtime.scope.log;
  const listener = await listenShared(grpc, http, options.port, options.host, tls === undefined ? undefined : {
    ...tls,
    // Port scanners and TCP probes end handshakes all the time: worth a debug line, not a warning.
    onClientError: (err, remote) => log.debug({ remote, code: (err as NodeJS.ErrnoException).code, error: (err as Error & { reason?: string }).reason ?? err.message }, 'TLS handshake with a client failed'),
  });
  let tlsReload: TlsReloader | undefined;
  if (tls !== undefined) {
    const { subject, serial, fingerprint256, valid_to } = certificateFields(tls.cert);
    const reloadMs = controlPlane.tlsReloadInterval ?? defaultTlsReloadMs;
    log.info({
      port: listener.port, subject, serial, fingerprint256, valid_to,
      client_certificates: tls.clientCa === undefined ? 'not requested' : 'required',
      reload_interval_ms: reloadMs,
    }, 'main port serves TLS');
    runtime.scope.metrics.tls.serving(validToMs(tls.cert));
    const { certFile, keyFile, clientCaFile } = controlPlane.tls ?? {};
    if (reloadMs > 0 && certFile !== undefined && keyFile !== undefined && listener.setTls !== undefined) {
      tlsReload = watchServerTls({ files: { certFile, keyFile, clientCaFile }, intervalMs: reloadMs, serving: tls, apply: listener.setTls, log, metrics: runtime.scope.metrics.tls });
    }
  }
  // The pattern launcher polls HEALTH_PORT, a port of its own: the same probes, plain HTTP only (even with TLS on the
  // main port: kubelet and launcher probes carry no client certificate).
  let probeServer: HttpServer | undefined;
  let metricsPort: number | undefined;
  if (options.metricsPort !== undefined) {
    probeServer = createHttpServer(probes);
    metricsPort = await listenHttp(probeServer, options.metricsPort, options.host);
  }
  let closing: Promise<void> | undefined;
  return {
    port: listener.port,
    ...(metricsPort === undefined ? {} : { metricsPort }),
    close(graceMs: number) {
      closing ??= (async () => {
        tlsReload?.stop();
        health.refresh();
        const closed = listener.close();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            grpc.forceShutdown();
            resolve();
          }, graceMs);
          grpc.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        listener.destroyHttpConnections();
        probeServer?.closeAllConnections();
        await Promise.all([closed, new Promise((resolve) => (probeServer === undefined ? resolve(undefined) : probeServer.close(resolve)))]);
      })();
      return closing;
    },
  };
}

/** Listens with a plain HTTP server; resolves with the bound port (port 0 picks a free one). */
function listenHttp(server: HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
