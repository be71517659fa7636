import { describe, expect, it } from 'vitest';
import { fakeFunctionRuntime, lambdaContext } from '../../../support/fake-runtime.ts';

describe('closing the function runtime', () => {
  it('ends a waiting batch at once through its signal: it answers with what arrived and a cursor to resume from', async () => {
    const f = fakeFunctionRuntime();
    // A tail that would wait a minute for events that never come.
    const waiting = f.runtime.invoke('tail', { topic: 'orders', start: 'latest', max_wait_ms: 60_000 }, lambdaContext(120_000));
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await f.runtime.close();
    const outcome = await waiting;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(outcome).toMatchObject({ ok: true, body: { events: [] } });
    expect(outcome.ok && typeof outcome.body.cursor === 'string' && outcome.body.cursor.length > 0).toBe(true);
    // Nothing new starts on a closed runtime.
    expect(await f.runtime.invoke('health', {})).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
  });
});
