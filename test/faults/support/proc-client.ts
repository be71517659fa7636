import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition, type Client } from '@grpc/grpc-js';
import { servedDefinitions } from '../../../adapters/protos/services.ts';
import { spawnNode, type Spawned } from '../../support/process.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One stream a client process opens. */
export interface StreamSpec {
  kind: 'tail' | 'consume' | 'subscribe';
  topic: string;
  /** consume: the group; subscribe: options.group. */
  group?: string;
  subscriber_id?: string;
  max_unacked?: number;
  /** tail: latest (default) or earliest; subscribe: earliest (default) or latest. */
  start?: 'earliest' | 'latest';
  /** tail: resume from this cursor. */
  cursor?: string;
}

export interface ClientSpec {
  address: string;
  /** Separate HTTP/2 connections the streams are spread over (per service). */
  channels: number;
  streams: StreamSpec[];
  /** Print every delivery (id, and the cursor of tail events). */
  report?: boolean;
  /** consume: acknowledge the first this many deliveries of each stream (one Ack), then none. */
  ackFirst?: number;
}

export type Line = Record<string, unknown> & { msg: string };

/** A client process (proc-client-main.ts) and what it reported. */
export interface ClientProcess extends Spawned {
  /** The JSON lines it printed with this `msg`, in order. */
  lines(msg: string): Line[];
  /** Resolves once every stream is live (headers received) or failed; with the counts. */
  ready(timeoutMs: number): Promise<{ ready: number; failed: number; codes: Record<string, number> }>;
  /** Waits until `ok()` or the timeout; returns `ok()`. */
  until(ok: () => boolean, timeoutMs: number): Promise<boolean>;
  /** Vanishes: SIGKILL, connections dropped without a goodbye. */
  kill(): Promise<void>;
  /** Freezes (SIGSTOP): connections stay open, nothing is read any more, no flow-control window is granted. */
  freeze(): void;
  /** Cancels every call, then exits. */
  cancel(): Promise<void>;
}

/** Starts a client process with this spec. */
export function startClientProcess(spec: ClientSpec): ClientProcess {
  const p = spawnNode(['test/faults/support/proc-client-main.ts'], { cwd: root, env: { PRISM_FAULT_CLIENT: JSON.stringify(spec) } });
  const parse = (line: string): Line | undefined => {
    try {
      const v = JSON.parse(line) as Line;
      return typeof v.msg === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  };
  const lines = (msg: string) => p.stdout.map(parse).filter((l): l is Line => l?.msg === msg);
  const until = async (ok: () => boolean, timeoutMs: number) => {
    const end = Date.now() + timeoutMs;
    while (!ok() && Date.now() < end) await sleep(50);
    return ok();
  };
  let exitCode: number | null | undefined;
  void p.exited.then((e) => (exitCode = e.code));
  return Object.assign(p, {
    lines,
    until,
    async ready(timeoutMs: number) {
      const line = await p.waitForLog('ready', timeoutMs);
      return line as unknown as { ready: number; failed: number; codes: Record<string, number> };
    },
    async kill() {
      if (exitCode === undefined) p.child.kill('SIGKILL');
      await p.exited;
    },
    freeze() {
      if (exitCode === undefined) p.child.kill('SIGSTOP');
    },
    async cancel() {
      if (exitCode !== undefined) return;
      p.child.stdin.write('cancel\n');
      const exited = await Promise.race([p.exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!exited) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    },
  });
}

type Ctor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options: Record<string, unknown>) => Client;

/**
 * A grpc-js client of one of our services on its own TCP connection (grpc-js otherwise shares one connection per
 * address): a stalled stream of one client must not hold up another's through HTTP/2 connection flow control.
 */
export function separateClient(address: string, service: string): Client {
  let node: unknown = loadPackageDefinition(servedDefinitions());
  for (const part of service.split('.')) node = (node as Record<string, unknown>)[part];
  return new (node as Ctor)(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}
