import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../../core/config/load.ts';
import { checkServerTls, defaultTlsReloadMs } from '../../../../core/config/tls.ts';
import { issue, makeCa, type CertFiles } from '../../../faults/support/tls-certs.ts';

let dir: string;
let ca: CertFiles;
let server: CertFiles;
let other: CertFiles;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'prism-tls-check-'));
  ca = makeCa(dir, 'ca');
  server = issue(dir, 'server', ca, 'server');
  other = issue(dir, 'other', ca, 'server');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files = { certFile: '/run/tls/tls.crt', keyFile: '/run/tls/tls.key', clientCaFile: '/run/tls/ca.crt' };
const read = (f: string) => readFileSync(f);

describe('checkServerTls (the load-time checks on contents read at a reload)', () => {
  it('gives the material of a matching pair and a PEM client CA', () => {
    const checked = checkServerTls(files, { cert: read(server.cert), key: read(server.key), clientCa: read(ca.cert) });
    expect(checked).toEqual({ material: { cert: read(server.cert), key: read(server.key), clientCa: read(ca.cert) } });
    expect(checkServerTls({ certFile: files.certFile, keyFile: files.keyFile }, { cert: read(server.cert), key: read(server.key) })).toEqual({ material: { cert: read(server.cert), key: read(server.key) } });
  });

  it('names the setting and the file of each problem', () => {
    expect(checkServerTls(files, { cert: read(server.cert), key: read(other.key), clientCa: read(ca.cert) })).toEqual({ problems: [
      { path: 'controlPlane.tls.keyFile', message: 'expected the private key of the certificate in "/run/tls/tls.crt", got the key of another certificate' },
    ] });
    expect(checkServerTls(files, { cert: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB'), key: 'no such file', clientCa: Buffer.from('hello') })).toEqual({ problems: [
      { path: 'controlPlane.tls.certFile', message: 'expected a certificate in PEM (-----BEGIN CERTIFICATE-----) in "/run/tls/tls.crt"' },
      { path: 'controlPlane.tls.keyFile', message: 'cannot read the private key "/run/tls/tls.key": no such file' },
      { path: 'controlPlane.tls.clientCaFile', message: 'expected CA certificates in PEM (-----BEGIN CERTIFICATE-----) in "/run/tls/ca.crt"' },
    ] });
    expect(checkServerTls(files, { cert: read(server.cert), key: read(server.key), clientCa: 'permission denied' })).toEqual({ problems: [
      { path: 'controlPlane.tls.clientCaFile', message: 'cannot read CA certificates "/run/tls/ca.crt": permission denied' },
    ] });
  });
});

describe('PRISM_TLS_RELOAD_INTERVAL', () => {
  const interval = (env: Record<string, string>) => loadConfig({ env }).controlPlane.tlsReloadInterval;

  it('is unset by default (the listener uses 10 s); a bare number is seconds; 0 turns the reload off; the YAML keys are control_plane.tls.reload_interval and tls_reload_interval', () => {
    expect(interval({})).toBeUndefined();
    expect(defaultTlsReloadMs).toBe(10_000);
    expect(interval({ PRISM_TLS_RELOAD_INTERVAL: '30' })).toBe(30_000);
    expect(interval({ PRISM_TLS_RELOAD_INTERVAL: '250ms' })).toBe(250);
    expect(interval({ PRISM_TLS_RELOAD_INTERVAL: '0' })).toBe(0);
    const nested = join(dir, 'nested.yaml');
    writeFileSync(nested, 'control_plane:\n  tls:\n    reload_interval: 1m\n');
    expect(interval({ PRISM_PLUGIN_CONFIG: nested })).toBe(60_000);
    // Setting only the interval turns no TLS on.
    expect(loadConfig({ env: { PRISM_PLUGIN_CONFIG: nested } }).controlPlane.tls).toBeUndefined();
    const flat = join(dir, 'flat.yaml');
    writeFileSync(flat, 'control_plane:\n  tls_reload_interval: 5s\n');
    expect(interval({ PRISM_PLUGIN_CONFIG: flat })).toBe(5_000);
    expect(interval({ PRISM_PLUGIN_CONFIG: flat, PRISM_TLS_RELOAD_INTERVAL: '2s' })).toBe(2_000);
  });

  it('refuses what is not a duration, and intervals below 100 ms other than 0, naming the variable', () => {
    const problems = (value: string) => {
      try {
        loadConfig({ env: { PRISM_TLS_RELOAD_INTERVAL: value } });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
      }
      throw new Error('expected a ConfigError');
    };
    expect(problems('often')).toEqual(['env PRISM_TLS_RELOAD_INTERVAL: expected a duration (seconds, or 500ms, 25s, 1m), got "often"']);
    expect(problems('10ms')).toEqual(['env PRISM_TLS_RELOAD_INTERVAL: expected 0 (no reload) or at least 100ms, got "10ms"']);
  });
});
