import { describe, expect, it } from 'vitest';
import type { PartitionOffsets } from '../../../../core/kafka/group-port.ts';
import { LagMonitor } from '../../../../core/lag/monitor.ts';
import type { GroupTopic } from '../../../../core/lag/subscriptions.ts';

/** GroupPort.offsets answered from a table; `hang` makes a pair never answer; counts calls. */
function fakeGroups(table: Record<string, PartitionOffsets[]>) {
  const state = { calls: 0, hang: new Set<string>(), fail: new Set<string>() };
  return {
    state,
    offsets(group: string, topic: string): Promise<PartitionOffsets[]> {
      state.calls++;
      const key = `${group}/${topic}`;
      if (state.hang.has(key)) return new Promise(() => undefined);
      if (state.fail.has(key)) return Promise.reject(new Error('UNAVAILABLE'));
      return Promise.resolve(table[key] ?? []);
    },
  };
}

const p = (partition: number, committed: string | undefined, end: string, start = '0'): PartitionOffsets => ({ partition, committed, end, start });

function setup(pairs: GroupTopic[], table: Record<string, PartitionOffsets[]>, options: { maxPairs?: number; timeoutMs?: number } = {}) {
  const groups = fakeGroups(table);
  const open = { pairs };
  const monitor = new LagMonitor({ groups, pairs: () => open.pairs, intervalMs: 60_000, maxPairs: options.maxPairs ?? 10, timeoutMs: options.timeoutMs ?? 1_000 });
  return { groups, open, monitor };
}

describe('LagMonitor', () => {
  it('reads lag per partition as GetOffsets computes it (end − committed, or end − start when nothing is committed)', async () => {
    const { monitor } = setup([{ group: 'g', topic: 't' }], { 'g/t': [p(0, '3', '20'), p(1, undefined, '15', '5'), p(2, '5', '5')] });
    await monitor.refresh();
    expect(monitor.samples()).toEqual([
      { group: 'g', topic: 't', partition: 0, lag: 17 },
      { group: 'g', topic: 't', partition: 1, lag: 10 },
      { group: 'g', topic: 't', partition: 2, lag: 0 },
    ]);
    expect(monitor.total()).toBe(27);
  });

  it('knows nothing when no subscription is open, and asks Kafka nothing', async () => {
    const { monitor, groups } = setup([], {});
    await monitor.refresh();
    expect(monitor.total()).toBeUndefined();
    expect(groups.state.calls).toBe(0);
  });

  it('drops the samples of a pair that closed, without waiting for the next refresh', async () => {
    const { monitor, open } = setup([{ group: 'a', topic: 't' }, { group: 'b', topic: 't' }], { 'a/t': [p(0, '0', '4')], 'b/t': [p(0, '1', '4')] });
    await monitor.refresh();
    expect(monitor.total()).toBe(7);
    open.pairs = [{ group: 'b', topic: 't' }];
    expect(monitor.samples().map((s) => s.group)).toEqual(['b']);
    expect(monitor.total()).toBe(3);
  });

  it('leaves a pair whose read fails absent (unknown, not stale)', async () => {
    const { monitor, groups } = setup([{ group: 'a', topic: 't' }, { group: 'b', topic: 't' }], { 'a/t': [p(0, '0', '4')], 'b/t': [p(0, '1', '4')] });
    await monitor.refresh();
    groups.state.fail.add('a/t');
    await monitor.refresh();
    expect(monitor.samples().map((s) => s.group)).toEqual(['b']);
  });

  it('bounds a refresh by its timeout and starts no new reads while one hangs', async () => {
    const { monitor, groups } = setup([{ group: 'a', topic: 't' }], { 'a/t': [p(0, '0', '4')] }, { timeoutMs: 50 });
    groups.state.hang.add('a/t');
    const t0 = Date.now();
    await monitor.refresh();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(monitor.total()).toBeUndefined();
    await monitor.refresh();
    await monitor.refresh();
    expect(groups.state.calls).toBe(1);
  });

  it('reads at most maxPairs pairs per refresh', async () => {
    const pairs = Array.from({ length: 5 }, (_, i) => ({ group: `g${i}`, topic: 't' }));
    const { monitor, groups } = setup(pairs, Object.fromEntries(pairs.map((x) => [`${x.group}/t`, [p(0, '0', '1')]])), { maxPairs: 2 });
    await monitor.refresh();
    expect(groups.state.calls).toBe(2);
    expect(monitor.samples().map((s) => s.group)).toEqual(['g0', 'g1']);
  });

  it('refreshes from start() until stop(), and stays stopped', async () => {
    const { monitor, groups } = setup([{ group: 'a', topic: 't' }], { 'a/t': [p(0, '0', '4')] });
    monitor.start();
    monitor.start();
    await monitor.refresh();
    expect(groups.state.calls).toBe(1);
    monitor.stop();
    monitor.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(groups.state.calls).toBe(1);
  });
});
