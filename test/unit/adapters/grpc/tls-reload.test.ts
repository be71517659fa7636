import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { Server as GrpcServer } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServerTls, type ServerTlsFiles } from '../../../../core/config/tls.ts';
import { createLogger } from '../../../../core/logger.ts';
import { createMetrics } from '../../../../core/metrics/metrics.ts';
import { SecretScrubber } from '../../../../core/secrets/scrubber.ts';
import { listenShared } from '../../../../adapters/grpc/listener.ts';
import { watchServerTls, type TlsReloader } from '../../../../adapters/grpc/tls-reload.ts';
import { issue, makeCa, type CertFiles } from '../../../faults/support/tls-certs.ts';

let dir: string;
let ca: CertFiles;
let otherCa: CertFiles;
let one: CertFiles;
let two: CertFiles;
let three: CertFiles;

beforeAll(() => {
  // Real PEM files from openssl (local, no network), as the faults tests generate them.
  dir = mkdtempSync(join(tmpdir(), 'prism-tls-reload-'));
  ca = makeCa(dir, 'ca');
  otherCa = makeCa(dir, 'other-ca');
  one = issue(dir, 'one', ca, 'server');
  two = issue(dir, 'two', ca, 'server');
  three = issue(dir, 'three', ca, 'server');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;
let n = 0;

/** Replaces `target` with `source`'s bytes in one rename, as `kubectl cp`-free tools and cert-manager's writers do. */
function replace(target: string, source: string | Buffer) {
  const tmp = `${target}.tmp-${String(++n)}`;
  if (typeof source === 'string') copyFileSync(source, tmp);
  else writeFileSync(tmp, source);
  renameSync(tmp, target);
}

/** A watched directory holding tls.crt, tls.key and ca.crt, copied from the given files. */
function liveDir(cert: CertFiles, clientCa?: string): ServerTlsFiles {
  const live = join(dir, `live-${String(++n)}`);
  mkdirSync(live);
  const files = { certFile: join(live, 'tls.crt'), keyFile: join(live, 'tls.key'), ...(clientCa === undefined ? {} : { clientCaFile: join(live, 'ca.crt') }) };
  copyFileSync(cert.cert, files.certFile);
  copyFileSync(cert.key, files.keyFile);
  if (clientCa !== undefined) copyFileSync(clientCa, files.clientCaFile!);
  return files;
}

function setup(files: ServerTlsFiles, intervalMs = 60_000) {
  const logs: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const log = createLogger({ level: 'debug', service: 'test', version: 'test', scrubber: new SecretScrubber(), write: (line) => {
    raw.push(line);
    logs.push(JSON.parse(line) as Record<string, unknown>);
  } });
  const metrics = createMetrics({ namespace: 'test', defaultMetrics: false });
  const applied: { cert: string; clientCa?: string }[] = [];
  const serving = readServerTls(files)!;
  metrics.tls.serving(new X509Certificate(serving.cert).validToDate.getTime());
  const reloader = watchServerTls({
    files,
    intervalMs,
    serving,
    apply: (m) => applied.push({ cert: new X509Certificate(m.cert).fingerprint256, ...(m.clientCa === undefined ? {} : { clientCa: new X509Certificate(m.clientCa).fingerprint256 }) }),
    log,
    metrics: metrics.tls,
  });
  const count = async (result: 'ok' | 'failed') => {
    const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`prism_tls_reloads_total{result="${result}"`));
    return Number(line?.split(' ').at(-1));
  };
  const expiry = async () => Number((await metrics.registry.metrics()).split('\n').find((l) => l.startsWith('prism_tls_certificate_expiry_timestamp_seconds{'))?.split(' ').at(-1));
  return { reloader, logs, raw, applied, count, expiry };
}

describe('watchServerTls', () => {
  it('does nothing while the files stay as they were, or are touched without a change of content', async () => {
    const files = liveDir(one);
    const w = setup(files);
    await w.reloader.poll();
    await w.reloader.poll();
    utimesSync(files.certFile, new Date(), new Date(Date.now() + 5_000));
    replace(files.keyFile, one.key);
    await w.reloader.poll();
    w.reloader.stop();
    expect(w.applied).toEqual([]);
    expect([await w.count('ok'), await w.count('failed')]).toEqual([0, 0]);
    expect(w.logs).toEqual([]);
  });

  it('serves a replaced certificate and key, counts it, sets the expiry gauge and logs its identity but no key bytes', async () => {
    const files = liveDir(one);
    const w = setup(files);
    replace(files.keyFile, two.key);
    replace(files.certFile, two.cert);
    await w.reloader.poll();
    w.reloader.stop();
    expect(w.applied).toEqual([{ cert: fingerprint(two.cert) }]);
    expect(await w.count('ok')).toBe(1);
    expect(await w.count('failed')).toBe(0);
    const cert2 = new X509Certificate(readFileSync(two.cert));
    expect(await w.expiry()).toBe(Math.floor(cert2.validToDate.getTime() / 1000));
    expect(w.logs).toHaveLength(1);
    expect(w.logs[0]).toMatchObject({ level: 'INFO', msg: 'main port TLS certificate reloaded', subject: 'CN=localhost', serial: cert2.serialNumber, fingerprint256: cert2.fingerprint256, valid_to: cert2.validTo });
    const keyBody = readFileSync(two.key, 'utf8').split('\n')[1]!;
    expect(w.raw.join('')).not.toContain(keyBody);
    expect(w.raw.join('')).not.toContain('PRIVATE KEY');
  });

  it('keeps the served certificate while the key does not match (certificate replaced first), then takes the pair when the key lands', async () => {
    const files = liveDir(one);
    const w = setup(files);
    replace(files.certFile, two.cert);
    await w.reloader.poll();
    expect(w.applied).toEqual([]);
    expect(await w.count('failed')).toBe(1);
    expect(w.logs).toEqual([expect.objectContaining({
      level: 'WARN',
      setting: 'controlPlane.tls.keyFile',
      problem: `expected the private key of the certificate in ${JSON.stringify(files.certFile)}, got the key of another certificate`,
      msg: 'main port TLS files changed but cannot be used: the previous certificate is still served',
    })]);
    // Nothing changed since: no second warning, no second count, at every later poll.
    await w.reloader.poll();
    await w.reloader.poll();
    expect(await w.count('failed')).toBe(1);
    replace(files.keyFile, two.key);
    await w.reloader.poll();
    w.reloader.stop();
    expect(w.applied).toEqual([{ cert: fingerprint(two.cert) }]);
    expect([await w.count('ok'), await w.count('failed')]).toEqual([1, 1]);
  });

  it('survives a half-written certificate, an unparsable key and a missing file, and recovers at the next change', async () => {
    const files = liveDir(one);
    const w = setup(files);
    const pem = readFileSync(two.cert);
    writeFileSync(files.certFile, pem.subarray(0, Math.floor(pem.length / 2)));
    await w.reloader.poll();
    expect(w.logs.at(-1)).toMatchObject({ setting: 'controlPlane.tls.certFile', problem: `expected a certificate in PEM (-----BEGIN CERTIFICATE-----) in ${JSON.stringify(files.certFile)}` });
    writeFileSync(files.certFile, pem);
    writeFileSync(files.keyFile, '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n');
    await w.reloader.poll();
    expect(w.logs.at(-1)).toMatchObject({ setting: 'controlPlane.tls.keyFile', problem: expect.stringMatching(/^expected a PEM private key \(-----BEGIN PRIVATE KEY-----\) for the certificate in /) });
    unlinkSync(files.keyFile);
    await w.reloader.poll();
    expect(w.logs.at(-1)).toMatchObject({ setting: 'controlPlane.tls.keyFile', problem: `cannot read the private key ${JSON.stringify(files.keyFile)}: no such file` });
    expect(w.applied).toEqual([]);
    expect(await w.count('failed')).toBe(3);
    copyFileSync(two.key, files.keyFile);
    await w.reloader.poll();
    w.reloader.stop();
    expect(w.applied).toEqual([{ cert: fingerprint(two.cert) }]);
    expect(await w.count('ok')).toBe(1);
  });

  it('notices a Kubernetes Secret volume update: the ..data symlink swapped to a new directory', async () => {
    // kubelet's layout: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/; an update writes a new directory and
    // renames a new ..data link over the old one. Same names, same sizes: only the target changes.
    const mount = join(dir, `secret-${String(++n)}`);
    mkdirSync(mount);
    const version = (name: string, cert: CertFiles, clientCa: string) => {
      mkdirSync(join(mount, name));
      copyFileSync(cert.cert, join(mount, name, 'tls.crt'));
      copyFileSync(cert.key, join(mount, name, 'tls.key'));
      copyFileSync(clientCa, join(mount, name, 'ca.crt'));
      symlinkSync(name, join(mount, '..data_tmp'));
      renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    };
    version('..v1', one, ca.cert);
    for (const f of ['tls.crt', 'tls.key', 'ca.crt']) symlinkSync(join('..data', f), join(mount, f));
    const files = { certFile: join(mount, 'tls.crt'), keyFile: join(mount, 'tls.key'), clientCaFile: join(mount, 'ca.crt') };
    const w = setup(files);
    await w.reloader.poll();
    version('..v2', two, otherCa.cert);
    await w.reloader.poll();
    w.reloader.stop();
    expect(w.applied).toEqual([{ cert: fingerprint(two.cert), clientCa: fingerprint(otherCa.cert) }]);
    expect(w.logs.at(-1)).toMatchObject({ msg: 'main port TLS certificate reloaded', client_certificates: 'required' });
  });

  it('polls by itself every interval, and not after stop()', async () => {
    const files = liveDir(one);
    const w = setup(files, 100);
    replace(files.keyFile, two.key);
    replace(files.certFile, two.cert);
    const deadline = Date.now() + 5_000;
    while (w.applied.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(w.applied).toHaveLength(1);
    w.reloader.stop();
    replace(files.keyFile, three.key);
    replace(files.certFile, three.cert);
    await new Promise((r) => setTimeout(r, 400));
    await w.reloader.poll();
    expect(w.applied).toHaveLength(1);
  });
});

describe('the shared listener with a reloader', () => {
  /** One TLS connection: the certificate the server presented, and the socket (left open). */
  const handshake = (port: number) => new Promise<{ socket: TLSSocket; fingerprint: string }>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(ca.cert), ALPNProtocols: ['http/1.1'] }, () => resolve({ socket, fingerprint: socket.getPeerCertificate().fingerprint256 }));
    socket.once('error', reject);
  });
  const get = (socket: TLSSocket) => new Promise<string>((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer) => {
      text += c.toString();
      if (text.includes('\r\n\r\n') && text.includes('ok')) {
        socket.off('data', onData);
        resolve(text.split('\r\n')[0]!);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write('GET /ready HTTP/1.1\r\nHost: localhost\r\n\r\n');
  });

  it('serves the new certificate to new connections, while a connection opened before keeps working', async () => {
    const files = liveDir(one);
    const http = createHttpServer((_req, res) => res.end('ok'));
    const grpc = new GrpcServer();
    const listener = await listenShared(grpc, http, 0, '127.0.0.1', readServerTls(files));
    const metrics = createMetrics({ namespace: 'test', defaultMetrics: false });
    const log = createLogger({ level: 'silent', service: 'test', version: 'test', scrubber: new SecretScrubber() });
    let reloader: TlsReloader | undefined;
    const opened: TLSSocket[] = [];
    try {
      reloader = watchServerTls({ files, intervalMs: 60_000, serving: readServerTls(files)!, apply: listener.setTls!, log, metrics: metrics.tls });
      const before = await handshake(listener.port);
      opened.push(before.socket);
      expect(before.fingerprint).toBe(fingerprint(one.cert));
      expect(await get(before.socket)).toBe('HTTP/1.1 200 OK');

      replace(files.keyFile, two.key);
      replace(files.certFile, two.cert);
      await reloader.poll();
      const after = await handshake(listener.port);
      opened.push(after.socket);
      expect(after.fingerprint).toBe(fingerprint(two.cert));
      expect(await get(after.socket)).toBe('HTTP/1.1 200 OK');
      // The connection accepted with certificate one still answers on its own session.
      expect(await get(before.socket)).toBe('HTTP/1.1 200 OK');
      expect(before.socket.getPeerCertificate().fingerprint256).toBe(fingerprint(one.cert));

      // A key that does not match: refused, certificate two still served.
      replace(files.certFile, three.cert);
      await reloader.poll();
      const still = await handshake(listener.port);
      opened.push(still.socket);
      expect(still.fingerprint).toBe(fingerprint(two.cert));
    } finally {
      reloader?.stop();
      for (const s of opened) s.destroy();
      listener.destroyHttpConnections();
      grpc.forceShutdown();
      await listener.close();
    }
  });
});
