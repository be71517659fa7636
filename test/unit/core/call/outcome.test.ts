import { describe, expect, it } from 'vitest';
import { callerMessage, recordOutcome, toPluginError } from '../../../../core/call/outcome.ts';
import { PluginError } from '../../../../core/errors.ts';
import { createLogger } from '../../../../core/logger.ts';
import { createMetrics } from '../../../../core/metrics/metrics.ts';
import { SecretScrubber } from '../../../../core/secrets/scrubber.ts';

function setup() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', service: 's', version: 'v', scrubber: new SecretScrubber(), write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const metrics = createMetrics({ namespace: 'test', defaultMetrics: false });
  return { lines, log, metrics };
}

describe('the outcome of a call, recorded once for every entry', () => {
  it('counts the call by operation and status and logs one line at the level its outcome deserves', async () => {
    const { lines, log, metrics } = setup();
    const started = process.hrtime.bigint();
    recordOutcome(metrics, log, { operation: 'publish', status: 'OK', started });
    recordOutcome(metrics, log, { operation: 'publish', status: 'INVALID_ARGUMENT', started, error: new PluginError('INVALID_ARGUMENT', 'topic: bad') });
    recordOutcome(metrics, log, { operation: 'tail', status: 'INTERNAL', started, error: new PluginError('INTERNAL', 'boom'), fields: { messages: 3 } });
    expect(lines.map((l) => [l.level, l.msg, l.status])).toEqual([
      ['DEBUG', 'request finished', 'OK'],
      ['WARN', 'request failed', 'INVALID_ARGUMENT'],
      ['ERROR', 'request failed: boom', 'INTERNAL'],
    ]);
    expect(lines[2]!.messages).toBe(3);
    const requests = (await metrics.requests.get()).values.map((v) => [v.labels.operation, v.labels.status, v.value]);
    expect(requests).toEqual([['publish', 'OK', 1], ['publish', 'INVALID_ARGUMENT', 1], ['tail', 'INTERNAL', 1]]);
  });

  it('keeps plugin errors, wraps anything else as INTERNAL, and hides internal messages from callers', () => {
    const known = new PluginError('UNAVAILABLE', 'brokers down');
    expect(toPluginError(known)).toBe(known);
    const wrapped = toPluginError(new TypeError('x is undefined'));
    expect([wrapped.code, wrapped.message]).toEqual(['INTERNAL', 'x is undefined']);
    expect(callerMessage(known, 'r1')).toBe('brokers down');
    expect(callerMessage(wrapped, 'r1')).toBe('internal error (request r1)');
  });
});
