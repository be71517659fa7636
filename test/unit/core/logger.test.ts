import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger.ts';
import { SecretScrubber } from '../../../core/secrets/scrubber.ts';

function capture(level = 'info') {
  const lines: string[] = [];
  const scrubber = new SecretScrubber();
  const log = createLogger({ level, service: 'prism-kafka-plugin', version: '9.9.9', scrubber, write: (l) => lines.push(l) });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, scrubber, lines, records };
}

describe('logger', () => {
  it('writes one JSON line per event in the seed shape', () => {
    const { log, lines, records } = capture();
    log.info({ brokers: ['a:1'], topic: 'events', sasl_enabled: false }, 'kafka plugin initialized');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const [r] = records();
    expect(r).toMatchObject({ level: 'INFO', msg: 'kafka plugin initialized', service: 'prism-kafka-plugin', version: '9.9.9', topic: 'events', sasl_enabled: false });
    expect(new Date(r!.time as string).toISOString()).toBe(r!.time);
  });

  it('labels levels in upper case and honours the configured level', () => {
    const { log, records } = capture('warn');
    log.info('hidden');
    log.warn('shown');
    log.error('also shown');
    expect(records().map((r) => r.level)).toEqual(['WARN', 'ERROR']);
  });

  it('redacts password and token fields at any depth we log', () => {
    const { log, lines } = capture();
    log.info({ password: 'pw-top-1', sasl: { password: 'pw-nested-2' }, vault: { auth: { token: 'tok-3' } }, req: { headers: { authorization: 'Bearer abc' } } }, 'x');
    const text = lines.join('');
    for (const secret of ['pw-top-1', 'pw-nested-2', 'tok-3', 'Bearer abc']) expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED]');
  });

  it('scrubs a registered secret wherever it appears, even inside messages and errors', () => {
    const { log, scrubber, lines } = capture();
    scrubber.add('s3cr3t"value');
    log.error({ err: new Error('auth failed with s3cr3t"value'), note: 'contains s3cr3t"value too' }, 'failed: s3cr3t"value');
    const text = lines.join('');
    expect(text).not.toContain('s3cr3t');
    expect(text.match(/\[REDACTED\]/g)?.length).toBeGreaterThanOrEqual(3);
  });
});
