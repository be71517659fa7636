import { mkdirSync, openSync, readFileSync, closeSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
/** Everything the TLS fault tests start or generate lives here (git-ignored). */
export const tlsStateDir = join(root, '.cache', 'faults', 'tls');

export interface Slot {
  /** Index of the claimed slot; its state directory is `<tlsStateDir>/<service>-<index>`. */
  index: number;
  dir: string;
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

const portFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

/**
 * Claims one of `slots` port blocks (`base + index * width`, `width` ports each) so that two test runs on one
 * machine (engineers and CI share it) never start a server on each other's ports. A claim is a lock file holding the
 * claimer's pid; a claim whose process died is stale, and `onStale` gets to clean up what that run left behind.
 */
export async function claimSlot(service: string, base: number, width: number, slots: number, onStale?: (dir: string) => void): Promise<Slot> {
  mkdirSync(tlsStateDir, { recursive: true });
  for (let index = 0; index < slots; index++) {
    const dir = join(tlsStateDir, `${service}-${index}`);
    const lock = join(tlsStateDir, `${service}-${index}.lock`);
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      const owner = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) continue;
      onStale?.(dir);
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
    const ports = Array.from({ length: width }, (_, i) => base + index * width + i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) {
      mkdirSync(dir, { recursive: true });
      return { index, dir, ports, release };
    }
    release();
  }
  throw new Error(`no free ${service} slot among ${slots} (ports ${base}–${base + slots * width - 1}): other runs hold them`);
}
