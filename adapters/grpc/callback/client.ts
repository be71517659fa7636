import { randomUUID } from 'node:crypto';
import { credentials, type Client, type ClientDuplexStream } from '@grpc/grpc-js';
import type { HealthStatus } from '../../../core/health-monitor.ts';
import type { Logger } from '../../../core/logger.ts';
import type { LifecycleOperations } from '../lifecycle-operations.ts';
import { Backoff } from './backoff.ts';
import { answerCommand } from './commands.ts';
import { controlPlaneService, managePattern, type PatternMessage, type ProxyCommand, type RegisterRequest } from './proto.ts';

export interface CallbackOptions {
  /** The proxy's ProxyControlPlane, host:port. */
  address: string;
  ops: LifecycleOperations;
  log: Logger;
  heartbeatMs: number;
  /** The last known health, for heartbeats (no broker round trip: a heartbeat must be cheap). */
  status: () => HealthStatus;
  registration: () => RegisterRequest;
  dataEndpoint: string;
  /** Called once the proxy's `shutdown` has been answered: the process should end. */
  onShutdown: () => void;
}

export interface CallbackConnection {
  /** Ends the stream (the proxy sees it close) and stops reconnecting. Idempotent. */
  close(): Promise<void>;
}

type Outcome = { registered: boolean; error?: string } | 'shutdown' | 'closed';

/** Time to let the stop_response reach the proxy after a shutdown, before the process goes. */
const shutdownFlushMs = 500;
/** A proxy that accepted the stream but never acknowledges the registration is dialled again. */
const registerTimeoutMs = 10_000;

/**
 * Callback mode: dials the proxy, registers (correlation id `register-1`), answers every command with its
 * correlation id, sends heartbeats with the current health, and reconnects with backoff whenever the stream ends —
 * the proxy restarting is routine, and a plugin that gave up would be orphaned.
 */
export function connectToProxy(o: CallbackOptions): CallbackConnection {
  const { Client } = controlPlaneService();
  const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
  let closed = false;
  let current: { client: Client; call: ClientDuplexStream<PatternMessage, ProxyCommand> } | undefined;
  let wake: (() => void) | undefined;
  /** Set when the proxy asked for shutdown: whatever happens to the stream afterwards, the process ends. */
  let shutdown: Promise<void> | undefined;

  const session = () => new Promise<Outcome>((resolve) => {
    // A fresh channel per attempt: grpc-js's own reconnect backoff grows to minutes while the proxy is away.
    const client = new Client(o.address, credentials.createInsecure(), { 'grpc.max_reconnect_backoff_ms': 5_000 });
    const call = managePattern(client);
    current = { client, call };
    let registered = false;
    let heartbeats: NodeJS.Timeout | undefined;
    let sent = 0;
    let ended = false;
    const unacknowledged = setTimeout(() => call.cancel(), registerTimeoutMs);
    const finish = (outcome: Outcome) => {
      if (ended) return;
      ended = true;
      clearTimeout(unacknowledged);
      clearInterval(heartbeats);
      client.close();
      current = undefined;
      resolve(outcome);
    };
    const send = (message: PatternMessage, then?: () => void) => {
      if (!ended) call.write(message, then);
    };
    const beat = () => send({ correlation_id: `heartbeat-${++sent}`, heartbeat: { timestamp: Date.now(), status: `HEALTH_STATUS_${o.status()}` } });
    const handle = async (cmd: ProxyCommand) => {
      const requestId = cmd.correlation_id || randomUUID();
      const ctx = { signal: new AbortController().signal, requestId, log: o.log.child({ operation: `proxy_${cmd.command ?? 'unknown'}`, request_id: requestId }) };
      ctx.log.info('command from the proxy');
      const answering = answerCommand(cmd, ctx, { ops: o.ops, dataEndpoint: o.dataEndpoint });
      if (cmd.command === 'shutdown') shutdown ??= answering.then(() => undefined);
      const reply = await answering;
      if (reply === undefined) return;
      if (ended) return ctx.log.warn('the proxy stream ended before the answer could be sent');
      if (cmd.command !== 'shutdown') return send(reply);
      send(reply, () => call.end());
      setTimeout(() => finish('shutdown'), shutdownFlushMs).unref();
    };

    call.on('data', (cmd: ProxyCommand) => {
      if (registered) {
        handle(cmd).catch((err: unknown) => o.log.error({ err, correlation_id: cmd.correlation_id }, 'a proxy command failed'));
        return;
      }
      const ack = cmd.command === 'register_ack' ? cmd.register_ack : undefined;
      if (ack?.success !== true) {
        o.log.error({ proxy: o.address, error: ack?.error ?? `expected register_ack, got ${cmd.command ?? 'nothing'}` }, 'the proxy refused the registration');
        call.cancel();
        return;
      }
      registered = true;
      clearTimeout(unacknowledged);
      backoff.reset();
      o.log.info({ proxy: o.address, instance_id: ack.instance_id }, 'registered with the proxy');
      beat();
      heartbeats = setInterval(beat, o.heartbeatMs);
    });
    // grpc-js reports a non-OK end as 'error' and every end as 'status'; either one ends this session.
    call.on('error', (err: Error) => finish(closed ? 'closed' : { registered, error: err.message }));
    call.on('status', () => finish(closed ? 'closed' : { registered }));
    send({ correlation_id: 'register-1', register: o.registration() });
  });

  const loop = async () => {
    while (!closed) {
      const outcome = await session();
      if (shutdown !== undefined) {
        await shutdown;
        return o.onShutdown();
      }
      if (outcome === 'closed' || outcome === 'shutdown' || closed) return;
      const delay = backoff.next();
      o.log.warn({ proxy: o.address, retry_in_ms: delay, error: outcome.error }, 'proxy control stream ended; reconnecting');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  const running = loop();

  return {
    async close() {
      closed = true;
      wake?.();
      if (current !== undefined) {
        const { call } = current;
        call.end();
        // A proxy that does not end its side promptly is cut off.
        setTimeout(() => call.cancel(), shutdownFlushMs).unref();
      }
      await running;
    },
  };
}
