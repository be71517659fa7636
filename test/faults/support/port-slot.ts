import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const host = '127.0.0.1';

export interface PortSlot {
  index: number;
  /** `width` consecutive ports starting at `base + index * width`. */
  ports: number[];
  release(): void;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether a lock file belongs to a live run (an empty one may be being written right now: only an old one is dead). */
function held(lock: string): boolean {
  try {
    const owner = Number(readFileSync(lock, 'utf8'));
    if (Number.isInteger(owner) && owner > 0) return alive(owner);
    return Date.now() - statSync(lock).mtimeMs < 10_000;
  } catch {
    return false; // gone meanwhile
  }
}

const portFree = (port: number) => new Promise<boolean>((done) => {
  const server = createServer();
  server.once('error', () => done(false));
  server.listen(port, host, () => server.close(() => done(true)));
});

/**
 * Claims one of `slots` blocks of `width` ports for a fault test, so that two runs of the same file on one machine
 * (engineers and CI share it) never start brokers on each other's ports or wipe each other's state. A claim is a lock
 * file (`.cache/faults/locks/<name>-<index>.lock`) holding the claimer's pid; a claim whose process died is stale and
 * is taken over. When the ports of a slot just claimed are busy, `onStale` stops whatever a dead run left running
 * there (found through the slot's state dir); a slot still busy after that is left alone.
 */
export async function claimPorts(name: string, options: { base: number; width: number; slots: number; onStale?: (index: number) => Promise<void> }): Promise<PortSlot> {
  const locks = join(root, '.cache/faults/locks');
  mkdirSync(locks, { recursive: true });
  for (let index = 0; index < options.slots; index++) {
    const lock = join(locks, `${name}-${String(index)}.lock`);
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      if (held(lock)) continue;
      rmSync(lock, { force: true });
      try {
        fd = openSync(lock, 'wx');
      } catch {
        continue; // another run took it meanwhile
      }
    }
    writeSync(fd, String(process.pid));
    closeSync(fd);
    const release = () => rmSync(lock, { force: true });
    const ports = Array.from({ length: options.width }, (_, i) => options.base + index * options.width + i);
    const free = async () => (await Promise.all(ports.map(portFree))).every(Boolean);
    if (await free()) return { index, ports, release };
    // Ours now, yet its ports are taken: a run that died may have left its servers running. Stop those, look again.
    if (options.onStale !== undefined) {
      await options.onStale(index).catch(() => undefined);
      if (await free()) return { index, ports, release };
    }
    release();
  }
  throw new Error(`no free ${name} slot among ${String(options.slots)} (ports ${String(options.base)}–${String(options.base + options.slots * options.width - 1)}): other runs hold them`);
}

