import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isPluginError } from '../../core/errors.ts';
import type { AssignedPartition, GroupPort, GroupSubscription, SubscribeOptions } from '../../core/kafka/group-port.ts';
import type { ProducerPort } from '../../core/kafka/producer-port.ts';
import type { PartitionRecords, ReaderPort } from '../../core/kafka/reader-port.ts';

export interface GroupFixture {
  groups: GroupPort;
  /** Creates the topics the members subscribe to (the same cluster the groups run on). */
  reader: ReaderPort;
  /** Writes the records the members read. */
  producer: ProducerPort;
  close(): Promise<void>;
}

const codeOf = (err: unknown) => (isPluginError(err) ? err.code : String(err));
const base = Date.UTC(2026, 0, 1);
const fetchOptions = { maxWaitMs: 500, maxBytesPerPartition: 1 << 20 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A subscription with its listener: what it owns now, and every ownership change with when it happened. */
interface Member {
  sub: GroupSubscription;
  owned: Map<number, AssignedPartition>;
  /** When each partition was last assigned, and when each revocation settled (ms since epoch). */
  assignedAt: Map<number, number>;
  revokeSettledAt: Map<number, number>;
}

async function until(what: string, done: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/**
 * What every GroupPort owes the queue session, its fetch loop and the function-mode handlers (consume_batch, ack,
 * seek, offsets): membership that reports every ownership change and where each partition starts, commits only by
 * the owner, and the group's offsets. The fake runs it in the unit project, the real adapter against the
 * real broker in the integration project.
 */
export function groupPortContract(name: string, make: () => GroupFixture) {
  describe(`GroupPort contract: ${name}`, () => {
    let f: GroupFixture;
    const open: GroupSubscription[] = [];
    const ids = () => ({ topic: `contract-group-${randomUUID()}`, group: `contract-group-${randomUUID()}` });

    /** A topic with two records per partition, stamped base + 10 × their offset. */
    async function topicWithRecords(topic: string, partitions = 3): Promise<void> {
      await f.reader.createTopic({ topic, partitions, replicationFactor: 1, configs: {} });
      const records = Array.from({ length: partitions }, (_, partition) => [0, 1].map((i) => ({
        topic, partition, value: Buffer.from(`v${partition}-${i}`), headers: [] as [string, Buffer][], timestamp: base + i * 10,
      }))).flat();
      expect((await f.producer.produce(records, {})).every((o) => o.ok)).toBe(true);
    }

    async function join(o: Pick<SubscribeOptions, 'topic' | 'group'> & Partial<SubscribeOptions>, revokeDelayMs = 0): Promise<Member> {
      const sub = await f.groups.subscribe({ instanceId: `member-${randomUUID()}`, autoOffsetReset: 'earliest', ...o });
      open.push(sub);
      const m: Member = { sub, owned: new Map(), assignedAt: new Map(), revokeSettledAt: new Map() };
      sub.listen({
        assigned: (partitions) => {
          for (const p of partitions) {
            m.owned.set(p.partition, p);
            m.assignedAt.set(p.partition, Date.now());
          }
        },
        revoked: async (partitions) => {
          for (const p of partitions) m.owned.delete(p);
          await sleep(revokeDelayMs);
          for (const p of partitions) m.revokeSettledAt.set(p, Date.now());
        },
      });
      return m;
    }

    const owns = (m: Member, n: number) => until(`the member owns ${n} partitions`, () => m.owned.size === n);
    const sorted = (m: Member) => [...m.owned.values()].sort((a, b) => a.partition - b.partition);
    const committedOf = async (group: string, topic: string) => (await f.groups.offsets(group, topic)).map((p) => p.committed);

    beforeAll(() => {
      f = make();
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close({ leave: true })));
    });
    afterAll(() => f.close());

    it('assigns an empty group\'s member every partition, uncommitted, at the reset position', async () => {
      const { topic, group } = ids();
      await topicWithRecords(topic);
      const earliest = await join({ topic, group: `${group}-earliest`, autoOffsetReset: 'earliest' });
      const latest = await join({ topic, group: `${group}-latest`, autoOffsetReset: 'latest' });
      await Promise.all([owns(earliest, 3), owns(latest, 3)]);
      const at = (start: string) => [0, 1, 2].map((partition) => ({ partition, start, committed: false, metadata: '' }));
      expect(sorted(earliest)).toEqual(at('0'));
      expect(sorted(latest)).toEqual(at('2'));
      // A listener registered later hears of the partitions already owned at once.
      const heard: number[] = [];
      earliest.sub.listen({ assigned: (ps) => heard.push(...ps.map((p) => p.partition)), revoked: () => Promise.resolve() });
      expect(heard.sort()).toEqual([0, 1, 2]);
    });

    it('fetches owned partitions from the given positions, with the offset to fetch next', async () => {
      const { topic, group } = ids();
      await topicWithRecords(topic);
      const m = await join({ topic, group });
      await owns(m, 3);
      const positions = new Map([[0, '0'], [1, '1']]);
      const got: PartitionRecords[] = [];
      for (let round = 0; round < 10 && [...positions.values()].some((o) => o !== '2'); round++) {
        for (const answer of await m.sub.fetch(new Map([...positions].filter(([, o]) => o !== '2')), fetchOptions)) {
          if (answer.records.length > 0) got.push(answer);
          positions.set(answer.partition, answer.nextOffset);
        }
      }
      const byPartition = new Map(got.map((a) => [a.partition, a]));
      expect(byPartition.get(0)?.records.map((r) => [r.partition, r.offset, r.value.toString(), r.timestamp])).toEqual([[0, '0', 'v0-0', base], [0, '1', 'v0-1', base + 10]]);
      expect(byPartition.get(0)?.nextOffset).toBe('2');
      expect(byPartition.get(1)?.records.map((r) => r.value.toString())).toEqual(['v1-1']);
      expect(byPartition.get(1)?.nextOffset).toBe('2');
      expect(byPartition.has(2)).toBe(false);
    });

    // The port's doc says other partitions are "refused": the real member answers nothing for them, without error.
    it('answers nothing, at once, for positions of partitions it does not own', async () => {
      const { topic, group } = ids();
      await topicWithRecords(topic);
      const m = await join({ topic, group });
      await owns(m, 3);
      const started = Date.now();
      const answer = await m.sub.fetch(new Map([[7, '0']]), { maxWaitMs: 5_000, maxBytesPerPartition: 1 << 20 });
      expect(answer.flatMap((a) => a.records)).toEqual([]);
      expect(Date.now() - started).toBeLessThan(2_500);
    });

    it('commits with metadata; a new member starts at the committed offsets, and offsets() reports them with the ends', async () => {
      const { topic, group } = ids();
      await topicWithRecords(topic);
      expect(await f.groups.offsets(group, topic)).toEqual([0, 1, 2].map((partition) => ({ partition, committed: undefined, end: '2', start: '0' })));
      const first = await join({ topic, group });
      await owns(first, 3);
      await first.sub.commit(new Map([[0, { offset: '1', metadata: 'attempts-1' }], [1, { offset: '2', metadata: '' }]]));
      expect(await f.groups.offsets(group, topic)).toEqual([
        { partition: 0, committed: '1', end: '2', start: '0' },
        { partition: 1, committed: '2', end: '2', start: '0' },
        { partition: 2, committed: undefined, end: '2', start: '0' },
      ]);
      await first.sub.close({ leave: true });
      const next = await join({ topic, group, autoOffsetReset: 'latest' });
      await owns(next, 3);
      expect(sorted(next)).toEqual([
        { partition: 0, start: '1', committed: true, metadata: 'attempts-1' },
        { partition: 1, start: '2', committed: true, metadata: '' },
        { partition: 2, start: '2', committed: false, metadata: '' },
      ]);
    });

    it('refuses a commit naming a partition it does not own with FAILED_PRECONDITION, committing none of it', async () => {
      const { topic, group } = ids();
      await topicWithRecords(topic);
      const m = await join({ topic, group });
      await owns(m, 3);
      const err: unknown = await m.sub.commit(new Map([[0, { offset: '1', metadata: '' }], [7, { offset: '1', metadata: '' }]])).catch((e: unknown) => e);
      expect(codeOf(err)).toBe('FAILED_PRECONDITION');
      expect(await committedOf(group, topic)).toEqual([undefined, undefined, undefined]);
    });

    it('splits the partitions between two members with no overlap, moving each only after its revocation settled', async () => {
      const { topic, group } = ids();
      await topicWithRecords(topic);
      const first = await join({ topic, group }, 1_000);
      await owns(first, 3);
      const second = await join({ topic, group });
      const split = () => first.owned.size + second.owned.size === 3 && first.owned.size > 0 && second.owned.size > 0;
      await until('the partitions are split between both members', split);
      const [mine, theirs] = [[...first.owned.keys()], [...second.owned.keys()]];
      expect([...mine, ...theirs].sort()).toEqual([0, 1, 2]);
      for (const p of theirs) {
        expect(first.revokeSettledAt.get(p)).toBeDefined();
        expect(second.assignedAt.get(p)!).toBeGreaterThanOrEqual(first.revokeSettledAt.get(p)!);
      }
      // The old owner may neither commit nor read a partition that moved.
      const moved = theirs[0]!;
      expect(codeOf(await first.sub.commit(new Map([[moved, { offset: '1', metadata: '' }]])).catch((e: unknown) => e))).toBe('FAILED_PRECONDITION');
      expect((await first.sub.fetch(new Map([[moved, '0']]), fetchOptions)).flatMap((a) => a.records)).toEqual([]);
      await second.sub.commit(new Map([[moved, { offset: '1', metadata: '' }]]));
      // Leaving hands the partitions back to the member that stays.
      await second.sub.close({ leave: true });
      await owns(first, 3);
      expect(first.owned.get(moved)).toEqual({ partition: moved, start: '1', committed: true, metadata: '' });
    });

    it('keeps a member that closed without leaving: its partitions wait for its instance id, and its group cannot be sought', async () => {
      const { topic, group } = ids();
      await topicWithRecords(topic);
      const instanceId = `static-${randomUUID()}`;
      const m = await join({ topic, group, instanceId });
      await owns(m, 3);
      await m.sub.commit(new Map([0, 1, 2].map((p) => [p, { offset: '1', metadata: `kept-${p}` }])));
      await m.sub.close({ leave: false });
      expect(codeOf(await f.groups.seek(group, topic, { earliest: true }).catch((e: unknown) => e))).toBe('FAILED_PRECONDITION');
      const other = await join({ topic, group });
      await sleep(2_000);
      expect(other.owned.size).toBe(0);
      const again = await join({ topic, group, instanceId });
      await until('both members own partitions', () => again.owned.size > 0 && other.owned.size > 0 && again.owned.size + other.owned.size === 3);
      expect([...again.owned.keys(), ...other.owned.keys()].sort()).toEqual([0, 1, 2]);
      for (const p of again.owned.values()) expect(p).toEqual({ partition: p.partition, start: '1', committed: true, metadata: `kept-${p.partition}` });
    });

    it('seeks a group without members to earliest, latest, a timestamp or given offsets, and refuses while it has one', async () => {
      const { topic, group } = ids();
      await topicWithRecords(topic);
      const m = await join({ topic, group });
      await owns(m, 3);
      expect(codeOf(await f.groups.seek(group, topic, { latest: true }).catch((e: unknown) => e))).toBe('FAILED_PRECONDITION');
      expect(await committedOf(group, topic)).toEqual([undefined, undefined, undefined]);
      await m.sub.close({ leave: true });
      const all = (o: string) => new Map([[0, o], [1, o], [2, o]]);
      expect(await f.groups.seek(group, topic, { latest: true })).toEqual(all('2'));
      expect(await committedOf(group, topic)).toEqual(['2', '2', '2']);
      expect(await f.groups.seek(group, topic, { earliest: true })).toEqual(all('0'));
      expect(await f.groups.seek(group, topic, { timestamp: base + 5 })).toEqual(all('1'));
      expect(await f.groups.seek(group, topic, { timestamp: base + 1_000 })).toEqual(all('2'));
      expect(await f.groups.seek(group, topic, { offsets: new Map([[1, '0']]) })).toEqual(new Map([[1, '0']]));
      expect(await committedOf(group, topic)).toEqual(['2', '0', '2']);
      const next = await join({ topic, group, autoOffsetReset: 'latest' });
      await owns(next, 3);
      expect(sorted(next).map((p) => [p.start, p.committed])).toEqual([['2', true], ['0', true], ['2', true]]);
    });

    it('reports a missing topic\'s offsets as NOT_FOUND', async () => {
      const { topic, group } = ids();
      expect(codeOf(await f.groups.offsets(group, topic).catch((e: unknown) => e))).toBe('NOT_FOUND');
    });

    it('keeps membership and ownership across reconnect()', async () => {
      const { topic, group } = ids();
      await topicWithRecords(topic);
      const m = await join({ topic, group });
      await owns(m, 3);
      await m.sub.reconnect();
      expect([...m.owned.keys()].sort()).toEqual([0, 1, 2]);
      await m.sub.commit(new Map([[0, { offset: '1', metadata: '' }]]));
      expect(await committedOf(group, topic)).toEqual(['1', undefined, undefined]);
      expect((await m.sub.fetch(new Map([[0, '1']]), fetchOptions)).flatMap((a) => a.records).map((r) => r.value.toString())).toEqual(['v0-1']);
    });

    it('closes a subscription idempotently, refusing work afterwards with UNAVAILABLE; closes the port idempotently', async () => {
      const { topic, group } = ids();
      await topicWithRecords(topic);
      const m = await join({ topic, group });
      await owns(m, 3);
      await Promise.all([m.sub.close({ leave: true }), m.sub.close({ leave: true })]);
      await m.sub.close({ leave: true });
      expect(codeOf(await m.sub.fetch(new Map([[0, '0']]), fetchOptions).catch((e: unknown) => e))).toBe('UNAVAILABLE');
      expect(codeOf(await m.sub.commit(new Map([[0, { offset: '1', metadata: '' }]])).catch((e: unknown) => e))).toBe('UNAVAILABLE');
      const own = make();
      await own.groups.offsets(group, topic);
      await Promise.all([own.groups.close(), own.groups.close()]);
      await own.groups.close();
      await own.close();
    });
  });
}
