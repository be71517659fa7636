import type { Ledger } from './ledger.ts';
import type { Seeded } from './seeded.ts';
import type { StormFleet } from './storm-fleet.ts';
import { StormStream, type Verdict } from './storm-consumer.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The storm's consumers: every Consume stream of the one group, over all topics and plugins. A supervisor keeps at
 * least `minPerTopic` streams alive on each topic: a stream that died with its plugin comes back under its own
 * subscriber id (a client reconnecting), one that vanished may come back under a new one. Chaos adds and removes
 * streams on top; in drain mode every stream, old or new, acks everything.
 */
export class StormCrowd {
  readonly streams: StormStream[] = [];
  readonly counts = { opened: 0, joins: 0, leaves: 0, vanishes: 0 };
  #nextId = 0;
  #draining = false;
  #stopped = false;
  #supervising: Promise<void> | undefined;

  constructor(readonly o: {
    fleet: StormFleet; topics: string[]; group: string; ledger: Ledger; rnd: Seeded;
    decide: (m: { id: string; attempt: number }) => Verdict; minPerTopic: number; maxPerTopic: number; maxUnacked: number;
  }) {}

  live(topic?: string): StormStream[] {
    return this.streams.filter((s) => s.alive && (topic === undefined || s.options.topic === topic));
  }

  /** A stream on `topic`, on a random running plugin (a plugin restarting right now is skipped). */
  open(topic: string, subscriberId = `storm-sub-${String(this.#nextId++)}`): StormStream {
    const { fleet, rnd, group, ledger, decide, maxUnacked } = this.o;
    const plugin = rnd.int(0, fleet.plugins.length - 1);
    const address = fleet.liveAddress(plugin);
    const s = new StormStream({ address, plugin, topic, group, subscriberId, maxUnacked, ledger, decide });
    if (this.#draining) s.drain();
    this.streams.push(s);
    this.counts.opened++;
    return s;
  }

  /** Chaos: a new member joins the group on a random topic (below the cap). */
  join(): void {
    const open = this.o.topics.filter((t) => this.live(t).length < this.o.maxPerTopic);
    if (open.length === 0) return;
    this.open(this.o.rnd.pick(open));
    this.counts.joins++;
  }

  /** Chaos: a random stream leaves gracefully, or vanishes with what it holds unacknowledged. */
  async remove(how: 'leave' | 'vanish'): Promise<void> {
    const live = this.live();
    if (live.length === 0) return;
    const s = this.o.rnd.pick(live);
    if (how === 'leave') await s.leave();
    else s.vanish();
    this.counts[how === 'leave' ? 'leaves' : 'vanishes']++;
  }

  /** Tops every topic up to `minPerTopic` live streams every 500 ms until stopped. */
  supervise(): void {
    this.#supervising ??= (async () => {
      while (!this.#stopped) {
        for (const topic of this.o.topics) {
          const dead = this.streams.filter((s) => s.options.topic === topic && !s.alive && !s.replaced);
          for (let n = this.live(topic).length; n < this.o.minPerTopic; n++) {
            const again = dead.shift();
            if (again !== undefined) again.replaced = true;
            // Reconnect under the old subscriber id (static membership: no rebalance) or as a new member.
            const reuse = again !== undefined && this.o.rnd.next() < 0.5;
            this.open(topic, reuse ? again.options.subscriberId : undefined);
          }
        }
        await sleep(500);
      }
    })();
  }

  /** Every stream acks everything from now on, those opened later too. */
  drain(): void {
    this.#draining = true;
    for (const s of this.live()) s.drain();
  }

  /** Stops supervising and ends every stream gracefully. */
  async close(): Promise<void> {
    this.#stopped = true;
    await this.#supervising;
    await Promise.all(this.live().map((s) => s.leave()));
  }
}
