import { describe, expect, it } from 'vitest';
import { parseFlags, usage } from '../../../../adapters/grpc/flags.ts';

const values = (argv: string[]) => Object.fromEntries([...parseFlags(argv).layer.entries].map(([k, v]) => [k, v.value]));

describe('parseFlags', () => {
  it.each([
    [['--grpc-port', '9300']], [['-grpc-port', '9300']], [['--grpc-port=9300']], [['-grpc-port=9300']], [['--port', '9300']],
  ])('reads the port from %j', (argv) => {
    expect(values(argv)).toEqual({ 'controlPlane.port': '9300' });
  });

  it('reads -config, -log-level and -debug', () => {
    const f = parseFlags(['-config', '/etc/p.yaml', '-log-level', 'warn']);
    expect(f.configFile).toBe('/etc/p.yaml');
    expect(values(['-debug'])).toEqual({ 'log.level': 'debug' });
    expect(f.layer.entries.get('log.level')?.value).toBe('warn');
  });

  it('reports unknown flags and missing values instead of ignoring them', () => {
    expect(parseFlags(['--bogus', '--grpc-port']).layer.problems).toEqual([
      expect.stringMatching(/^flag --bogus: unknown; known flags: --grpc-port/),
      'flag --grpc-port: expected a value after it',
    ]);
  });

  it.each([
    [['-proxy-addr', 'localhost:9090'], { 'controlPlane.proxyAddr': 'localhost:9090' }],
    [['--proxy-addr=localhost:9090'], { 'controlPlane.proxyAddr': 'localhost:9090' }],
    [['-metrics-port', '9102'], { 'controlPlane.metricsPort': '9102' }],
    [['-v'], { 'log.level': 'debug' }],
    [['-debug=true'], { 'log.level': 'debug' }],
    [['-debug=false'], {}],
  ])('reads %j (Go style)', (argv, expected) => {
    expect(values(argv)).toEqual(expected);
  });

  it('lists every flag in the help text', () => {
    for (const flag of ['--grpc-port', '--port', '--proxy-addr', '--metrics-port', '--config', '--log-level', '--debug', '-v ', '--help', '--version']) expect(usage()).toContain(flag);
    expect(parseFlags(['-help']).help).toBe(true);
  });
});
