import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProducerPort } from '../../../../core/kafka/producer-port.ts';
import { fakeRuntime } from '../../../support/fake-runtime.ts';

/** A data call that finishes after `ms`, or fails when its call is aborted first. */
function call(ms: number) {
  const abort = new AbortController();
  const work = () => new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => resolve('done'), ms);
    abort.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(abort.signal.reason as Error);
    });
  });
  return { abort, work };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Runtime.drain', () => {
  it('counts exactly the calls in flight: finished ones as drained, the rest as aborted when the timeout passes', async () => {
    const { runtime } = fakeRuntime();
    const quick = Array.from({ length: 3 }, () => call(20));
    const stuck = Array.from({ length: 2 }, () => call(60_000));
    const results = [...quick, ...stuck].map((c) => runtime.track(c.abort, c.work).then(() => 'ok', (e: Error) => e.message));
    const finishedBefore = call(0);
    await runtime.track(finishedBefore.abort, finishedBefore.work);

    expect(await runtime.drain(300, 'test')).toEqual({ drained: 3, aborted: 2 });
    const aborted = 'the plugin stopped before this call finished (test); retry';
    expect(await Promise.all(results)).toEqual(['ok', 'ok', 'ok', aborted, aborted]);
    expect(runtime.draining).toBe(true);
    expect(runtime.deps.health.report()).toMatchObject({ status: 'DEGRADED', ready: false, message: 'draining: test' });
  });

  it('answers at once with nothing in flight, and counts nothing twice when Stop follows Drain', async () => {
    const { runtime, logs } = fakeRuntime();
    const one = call(10);
    const pending = runtime.track(one.abort, one.work);
    const t0 = performance.now();
    expect(await runtime.drain(5_000, 'first')).toEqual({ drained: 1, aborted: 0 });
    expect(performance.now() - t0).toBeLessThan(1_000);
    await pending;
    await runtime.stop(5_000, 'then stop');
    expect(logs.find((l) => l.msg === 'kafka plugin stopped')).toMatchObject({ drained: 0, aborted: 0 });
  });
});

describe('Runtime.stop', () => {
  it('honours its timeout even when closing the clients hangs', async () => {
    const producer: ProducerPort = { produce: () => Promise.resolve([]), pending: () => 0, close: () => new Promise<void>(() => undefined) };
    const { runtime, logs } = fakeRuntime({}, { producer });
    const stuck = call(60_000);
    void runtime.track(stuck.abort, stuck.work).catch(() => undefined);
    const t0 = performance.now();
    await runtime.stop(500, 'timeout test');
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1_000);
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['the Kafka clients did not close within the stop timeout', 'kafka plugin stopped']));
    expect(logs.find((l) => l.msg === 'kafka plugin stopped')).toMatchObject({ drained: 0, aborted: 1 });
  });

  it('is idempotent: a second caller shares the first stop', async () => {
    const { runtime, logs } = fakeRuntime();
    await Promise.all([runtime.stop(1_000, 'a'), runtime.stop(1_000, 'b')]);
    expect(logs.filter((l) => l.msg === 'kafka plugin stopped')).toHaveLength(1);
  });
});

describe('Runtime.reconfigure', () => {
  it('closes the old clients, and a plugin reconfigured while draining stays not ready', async () => {
    const { runtime } = fakeRuntime();
    const old = runtime.deps;
    const close = vi.spyOn(old, 'close');
    await runtime.drain(100, 'maintenance');
    await runtime.reconfigure({ ...old.config, kafka: { ...old.config.kafka, topic: 'other' } });
    expect(close).toHaveBeenCalledTimes(1);
    expect(runtime.deps).not.toBe(old);
    expect(runtime.deps.health.report()).toMatchObject({ ready: false, message: 'draining: maintenance' });
  });
});
