import { fileURLToPath } from 'node:url';
import { spawnNode, type Spawned } from './process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface PluginProcess extends Spawned {
  address: string;
  pid: number;
}

/** Runs the plugin as its own process (the gRPC entry, from source) on a free port and waits until it serves. */
export async function startPluginProcess(env: Record<string, string>): Promise<PluginProcess> {
  const p = spawnNode(['adapters/grpc/main.ts'], { cwd: root, env: { PRISM_CONTROL_PLANE_PORT: '0', PRISM_LISTEN_HOST: '127.0.0.1', ...env } });
  const line = await p.waitForLog('kafka plugin initialized', 20_000).catch((err: unknown) => {
    // A process that never came up must not outlive the test.
    p.child.kill('SIGKILL');
    throw err;
  });
  return Object.assign(p, { address: `127.0.0.1:${String(line.port)}`, pid: p.child.pid! });
}
