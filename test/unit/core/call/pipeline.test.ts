import { describe, expect, it } from 'vitest';
import { openCall } from '../../../../core/call/pipeline.ts';
import { PluginError } from '../../../../core/errors.ts';
import { createLogger } from '../../../../core/logger.ts';
import { createMetrics } from '../../../../core/metrics/metrics.ts';
import { SecretScrubber } from '../../../../core/secrets/scrubber.ts';

function scope() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', service: 's', version: 'v', scrubber: new SecretScrubber(), write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const metrics = createMetrics({ namespace: 'test', defaultMetrics: false });
  const requests = async () => (await metrics.requests.get()).values.map((v) => [v.labels.operation, v.labels.status, v.value]);
  return { lines, log, metrics, requests };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the call pipeline', () => {
  it('gives the caller request id and trace id to every log line, or a new request id', () => {
    const s = scope();
    const call = openCall({ operation: 'publish', requestId: 'r-1', traceId: 'a'.repeat(32) }, s);
    call.ctx.log.info('hello');
    expect(s.lines[0]).toMatchObject({ operation: 'publish', request_id: 'r-1', trace_id: 'a'.repeat(32), msg: 'hello' });
    expect(openCall({ operation: 'publish' }, s).ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fires the signal at the deadline with a DEADLINE_EXCEEDED PluginError, which wins over what the cut-short work threw', async () => {
    const s = scope();
    const call = openCall({ operation: 'query', deadline: Date.now() + 20 }, s);
    expect(call.ctx.deadline).toBeGreaterThan(Date.now());
    expect(call.errorOf(new Error('fetch failed'))).toMatchObject({ code: 'INTERNAL', message: 'fetch failed' });
    await sleep(40);
    expect(call.ctx.signal.aborted).toBe(true);
    expect(call.errorOf(new PluginError('CANCELLED', 'read aborted'))).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: 'query: the call reached its deadline' });
  });

  it('ends with the runtime: a signal in endOn (drain) fires the call signal with its reason, without polling', () => {
    const drain = new AbortController();
    const call = openCall({ operation: 'tail', endOn: [drain.signal] }, scope());
    expect(call.ctx.signal.aborted).toBe(false);
    drain.abort(new PluginError('UNAVAILABLE', 'draining', { retryable: true }));
    expect(call.ctx.signal.aborted).toBe(true);
    expect(call.errorOf(undefined)).toMatchObject({ code: 'UNAVAILABLE', message: 'draining' });
  });

  it('keeps the first abort reason', () => {
    const call = openCall({ operation: 'tail' }, scope());
    call.abort(new PluginError('CANCELLED', 'cancelled by the caller'));
    call.abort(new PluginError('UNAVAILABLE', 'stopped'));
    expect(call.errorOf(new Error('x'))).toMatchObject({ code: 'CANCELLED' });
  });

  it('records the outcome exactly once, with the status the entry labels it with, and clears the deadline timer', async () => {
    const s = scope();
    const call = openCall({ operation: 'publish', deadline: Date.now() + 20 }, { ...s, statusOf: (e) => (e === undefined ? 'OK' : `grpc-${e.code}`) });
    const failed = new PluginError('UNAVAILABLE', 'brokers down', { retryable: true });
    expect(call.end(failed)).toBeGreaterThanOrEqual(0);
    call.end();
    expect(await s.requests()).toEqual([['publish', 'grpc-UNAVAILABLE', 1]]);
    expect(s.lines.map((l) => [l.level, l.msg, l.status])).toEqual([['WARN', 'request failed', 'grpc-UNAVAILABLE']]);
    await sleep(40);
    expect(call.ctx.signal.aborted).toBe(false);
  });

  it('maps thrown values with the entry mapper, and a status given at the end overrides the label', async () => {
    const s = scope();
    const call = openCall({ operation: 'tail' }, { ...s, toError: () => new PluginError('INTERNAL', 'misconfigured') });
    expect(call.errorOf(new Error('x'))).toMatchObject({ message: 'misconfigured' });
    call.end(undefined, { status: 'CANCELLED', fields: { messages: 4 } });
    expect(await s.requests()).toEqual([['tail', 'CANCELLED', 1]]);
    expect(s.lines[0]).toMatchObject({ status: 'CANCELLED', messages: 4 });
  });

  it('builds the child logger of a call only for a line it writes (a pino child with redaction costs more than a publish)', () => {
    const s = scope();
    s.log.level = 'info';
    let children = 0;
    const child = s.log.child.bind(s.log);
    s.log.child = ((...args: Parameters<typeof child>) => {
      children++;
      return child(...args);
    }) as typeof s.log.child;
    openCall({ operation: 'publish' }, s).end();
    expect(children).toBe(0);
    openCall({ operation: 'publish' }, s).end(new PluginError('UNAVAILABLE', 'brokers down'));
    expect(children).toBe(1);
    expect(s.lines.map((l) => l.msg)).toEqual(['request failed']);
  });
});
