import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimPorts } from './port-slot.ts';

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

/**
 * A port block and a state directory of one TLS service (see claimPorts). When the block's ports are busy, `onStale`
 * stops what a dead run left running from that directory.
 */
export async function claimSlot(service: string, base: number, width: number, slots: number, onStale?: (dir: string) => Promise<void>): Promise<Slot> {
  const dirOf = (index: number) => join(tlsStateDir, `${service}-${String(index)}`);
  const slot = await claimPorts(`tls-${service}`, {
    base,
    width,
    slots,
    ...(onStale === undefined ? {} : {
      onStale: async (index: number) => {
        await onStale(dirOf(index));
        // A process killed a moment ago releases its ports asynchronously.
        await new Promise((r) => setTimeout(r, 500));
      },
    }),
  });
  const dir = dirOf(slot.index);
  mkdirSync(dir, { recursive: true });
  return { ...slot, dir };
}
