import { execFile } from 'node:child_process';
import { randomUUID, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { credentials, loadPackageDefinition, type Client } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { servedDefinitions } from '../../adapters/protos/services.ts';
import { startPluginProcess, type PluginProcess } from '../support/plugin-process.ts';
import { openTail, unaryCall, type OpenTail } from '../support/stream-client.ts';
import { issue, makeCa, type CertFiles } from './support/tls-certs.ts';
import { tlsStateDir } from './support/tls-slot.ts';

/**
 * The plugin's own certificate is reloaded without a restart (issue #20): the real plugin process serves mTLS from
 * files laid out as a Kubernetes Secret volume (`tls.crt -> ..data/tls.crt`, `..data -> ..v1`), the volume is
 * updated the way kubelet does it (a new directory, the `..data` link renamed over the old one), and from outside:
 * new connections (grpcurl, node's TLS client) get the new certificate and client CA, a Tail stream opened before
 * keeps delivering, and a broken update (a key that is not the certificate's) is refused while the last good
 * certificate stays served and the failure is counted.
 */
const run = promisify(execFile);
const dir = join(tlsStateDir, `reload-${String(process.pid)}`);
const mount = join(dir, 'secret');
let serverCa: CertFiles;
let cert1: CertFiles;
let cert2: CertFiles;
let cert3: CertFiles;
let clientCa1: CertFiles;
let clientCa2: CertFiles;
let client1: CertFiles;
let client2: CertFiles;
let plugin: PluginProcess;
const clients: Client[] = [];

const read = (f: string) => readFileSync(f);
const fingerprint = (c: CertFiles) => new X509Certificate(read(c.cert)).fingerprint256;

/** One version of the Secret: a new ..<name> directory, then ..data swapped to it in one rename (as kubelet does). */
function publishVersion(name: string, files: { cert: string; key: string; clientCa: string }) {
  mkdirSync(join(mount, name));
  copyFileSync(files.cert, join(mount, name, 'tls.crt'));
  copyFileSync(files.key, join(mount, name, 'tls.key'));
  copyFileSync(files.clientCa, join(mount, name, 'ca.crt'));
  symlinkSync(name, join(mount, '..data_tmp'));
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
}

beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  serverCa = makeCa(dir, 'server-ca');
  cert1 = issue(dir, 'server-1', serverCa, 'server');
  cert2 = issue(dir, 'server-2', serverCa, 'server');
  cert3 = issue(dir, 'server-3', serverCa, 'server');
  clientCa1 = makeCa(dir, 'client-ca-1');
  clientCa2 = makeCa(dir, 'client-ca-2');
  client1 = issue(dir, 'client-1', clientCa1, 'client');
  client2 = issue(dir, 'client-2', clientCa2, 'client');
  mkdirSync(mount);
  publishVersion('..v1', { cert: cert1.cert, key: cert1.key, clientCa: clientCa1.cert });
  for (const f of ['tls.crt', 'tls.key', 'ca.crt']) symlinkSync(join('..data', f), join(mount, f));
  plugin = await startPluginProcess({
    KAFKA_BROKERS: inject('kafkaBrokers'),
    PRISM_TLS_CERT_FILE: join(mount, 'tls.crt'),
    PRISM_TLS_KEY_FILE: join(mount, 'tls.key'),
    PRISM_TLS_CLIENT_CA_FILE: join(mount, 'ca.crt'),
    PRISM_TLS_RELOAD_INTERVAL: '200ms',
  });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  if (plugin !== undefined) {
    plugin.child.kill('SIGTERM');
    const timer = setTimeout(() => plugin.child.kill('SIGKILL'), 10_000);
    await plugin.exited;
    clearTimeout(timer);
  }
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

type Ctor = new (address: string, creds: ReturnType<typeof credentials.createSsl>, options: Record<string, string | number>) => Client;
/** A grpc-js client with its own connection (no shared subchannel), presenting `client`'s certificate. */
function grpcClient(service: string, client: CertFiles): Client {
  let node: unknown = loadPackageDefinition(servedDefinitions());
  for (const part of service.split('.')) node = (node as Record<string, unknown>)[part];
  const c = new (node as Ctor)(plugin.address, credentials.createSsl(read(serverCa.cert), read(client.key), read(client.cert)), {
    'grpc.ssl_target_name_override': 'localhost',
    'grpc.default_authority': 'localhost',
    'grpc.use_local_subchannel_pool': 1,
  });
  clients.push(c);
  return c;
}
const streams = (client: CertFiles) => grpcClient('prism.interfaces.stream.StreamBasicInterface', client);

/** A new TLS connection with `client`'s certificate: the served certificate's SHA-256 fingerprint, or the error code. */
function servedFingerprint(client: CertFiles): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(plugin.address.split(':')[1]), servername: 'localhost', ca: read(serverCa.cert), cert: read(client.cert), key: read(client.key), ALPNProtocols: ['h2'] });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(e.code ?? e.message);
    });
  });
}

const grpcurl = (args: string[]) => run(join(inject('toolsBin'), 'grpcurl'), ['-connect-timeout', '2', '-max-time', '5', ...args], { timeout: 15_000 })
  .then((r) => ({ ok: true, out: r.stdout }), (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }));

/** GET /metrics over HTTPS with `client`'s certificate: the prism_tls_* lines. */
function tlsMetrics(client: CertFiles): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`https://127.0.0.1:${plugin.address.split(':')[1]!}/metrics`, { ca: read(serverCa.cert), cert: read(client.cert), key: read(client.key), servername: 'localhost', timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body.split('\n').filter((l) => l.startsWith('prism_tls_'))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits for the `count`-th log line with this msg (the plugin keeps logging the same messages). */
async function nthLog(msg: string, count: number, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = plugin.stdout.flatMap((l) => {
      try {
        const rec = JSON.parse(l) as Record<string, unknown>;
        return rec.msg === msg ? [rec] : [];
      } catch {
        return [];
      }
    });
    if (lines.length >= count) return lines[count - 1]!;
    if (Date.now() > deadline) throw new Error(`no log line #${String(count)} "${msg}" within ${String(timeoutMs)} ms; stdout:\n${plugin.stdout.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const RELOADED = 'main port TLS certificate reloaded';
const REFUSED = 'main port TLS files changed but cannot be used: the previous certificate is still served';

describe('reloading the plugin port\'s certificate without a restart', () => {
  it('serves a replaced certificate and client CA to new connections while a stream opened before keeps delivering; refuses a broken update', async () => {
    const started = await plugin.waitForLog('main port serves TLS');
    expect(started).toMatchObject({ fingerprint256: fingerprint(cert1), client_certificates: 'required', reload_interval_ms: 200 });
    expect(await servedFingerprint(client1)).toBe(fingerprint(cert1));

    // A Tail stream over mTLS with certificate one and client CA one, delivering.
    const topic = `tls-reload-${randomUUID().slice(0, 8)}`;
    const before = streams(client1);
    await unaryCall(before, 'CreateStream', { topic, partitions: 1, replication_factor: 1 });
    const tail: OpenTail = openTail(streams(client1), { topic });
    await tail.positioned;
    await unaryCall(before, 'Append', { topic, payload: Buffer.from('before the swap') });
    expect((await tail.take(1, 15_000)).map((e) => e.payload.toString())).toEqual(['before the swap']);

    // The Secret is updated: certificate two (same server CA, another key and serial), and client CA two.
    publishVersion('..v2', { cert: cert2.cert, key: cert2.key, clientCa: clientCa2.cert });
    const reloaded = await nthLog(RELOADED, 1);
    const x2 = new X509Certificate(read(cert2.cert));
    expect(reloaded).toMatchObject({ fingerprint256: x2.fingerprint256, serial: x2.serialNumber, valid_to: x2.validTo, subject: 'CN=localhost' });
    expect(plugin.stdout.join('\n')).not.toContain('PRIVATE KEY');

    // (a) A new grpcurl connection with a client certificate of the new CA works, by reflection; node's TLS client
    // sees certificate two; a new connection with the old client certificate is refused.
    const listed = await grpcurl(['-cacert', serverCa.cert, '-cert', client2.cert, '-key', client2.key, plugin.address, 'list']);
    expect(listed.ok, listed.out).toBe(true);
    expect(listed.out).toContain('prism.interfaces.stream.StreamBasicInterface');
    const check = await grpcurl(['-cacert', serverCa.cert, '-cert', client2.cert, '-key', client2.key, plugin.address, 'grpc.health.v1.Health/Check']);
    expect(check.out).toContain('"status": "SERVING"');
    expect(await servedFingerprint(client2)).toBe(fingerprint(cert2));
    const stale = await grpcurl(['-cacert', serverCa.cert, '-cert', client1.cert, '-key', client1.key, plugin.address, 'list']);
    expect(stale.ok, stale.out).toBe(false);

    // (b) The stream opened before the swap (certificate one, client CA one) keeps delivering.
    const after = streams(client2);
    await unaryCall(after, 'Append', { topic, payload: Buffer.from('after the swap') });
    expect((await tail.take(1, 15_000)).map((e) => e.payload.toString())).toEqual(['after the swap']);

    // (c) A broken update: certificate three with certificate two's key. Refused, counted; two stays served.
    publishVersion('..v3', { cert: cert3.cert, key: cert2.key, clientCa: clientCa2.cert });
    const refused = await nthLog(REFUSED, 1);
    expect(refused).toMatchObject({ level: 'WARN', setting: 'controlPlane.tls.keyFile', problem: `expected the private key of the certificate in ${JSON.stringify(join(mount, 'tls.crt'))}, got the key of another certificate` });
    expect(await servedFingerprint(client2)).toBe(fingerprint(cert2));
    const ok = await grpcurl(['-cacert', serverCa.cert, '-cert', client2.cert, '-key', client2.key, plugin.address, 'grpc.health.v1.Health/Check']);
    expect(ok.out).toContain('"status": "SERVING"');
    expect(await tlsMetrics(client2)).toEqual([
      'prism_tls_reloads_total{result="ok",namespace="default"} 1',
      'prism_tls_reloads_total{result="failed",namespace="default"} 1',
      `prism_tls_certificate_expiry_timestamp_seconds{namespace="default"} ${String(Math.floor(x2.validToDate.getTime() / 1000))}`,
    ]);
    await unaryCall(after, 'Append', { topic, payload: Buffer.from('after the broken update') });
    expect((await tail.take(1, 15_000)).map((e) => e.payload.toString())).toEqual(['after the broken update']);

    // The fix lands: certificate three with its own key is served at the next poll.
    publishVersion('..v4', { cert: cert3.cert, key: cert3.key, clientCa: clientCa2.cert });
    expect(await nthLog(RELOADED, 2)).toMatchObject({ fingerprint256: fingerprint(cert3) });
    expect(await servedFingerprint(client2)).toBe(fingerprint(cert3));
    expect((await tlsMetrics(client2)).slice(0, 2)).toEqual([
      'prism_tls_reloads_total{result="ok",namespace="default"} 2',
      'prism_tls_reloads_total{result="failed",namespace="default"} 1',
    ]);

    // Still the same process, and the first stream is still open.
    expect(plugin.child.exitCode).toBeNull();
    await unaryCall(after, 'Append', { topic, payload: Buffer.from('last') });
    expect((await tail.take(1, 15_000)).map((e) => e.payload.toString())).toEqual(['last']);
    tail.call.cancel();
  });
});
