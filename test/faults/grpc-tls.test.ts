import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { credentials, loadPackageDefinition, Metadata, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { servedDefinitions } from '../../adapters/protos/services.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';
import { spawnNode } from '../support/process.ts';
import { issue, makeCa, type CertFiles } from './support/tls-certs.ts';
import { tlsStateDir } from './support/tls-slot.ts';

/**
 * Security, TLS and mTLS on the plugin's own port (issue #11 item 7). One port keeps serving gRPC and the HTTP
 * probes; with PRISM_TLS_CERT_FILE/KEY_FILE both are served over TLS only, and with PRISM_TLS_CLIENT_CA_FILE only
 * clients presenting a certificate that CA signed get a connection. Checked with grpc-js, Node's HTTPS client and
 * grpcurl; bad files stop the process at start with exit code 2 naming the setting.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
// Per worker process, so concurrent runs on one machine never overwrite each other's files.
const dir = join(tlsStateDir, `grpc-${String(process.pid)}`);
let ca: CertFiles;
let otherCa: CertFiles;
let server: CertFiles;
let clientCa: CertFiles;
let clientCert: CertFiles;
let strangerCert: CertFiles;
let tls: TestPlugin;
let mtls: TestPlugin;

const read = (f: string) => readFileSync(f);
const tlsEnv = () => ({ KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_TLS_CERT_FILE: server.cert, PRISM_TLS_KEY_FILE: server.key });

beforeAll(async () => {
  ca = makeCa(dir, 'server-ca');
  otherCa = makeCa(dir, 'other-ca');
  server = issue(dir, 'server', ca, 'server');
  clientCa = makeCa(dir, 'client-ca');
  clientCert = issue(dir, 'client', clientCa, 'client');
  strangerCert = issue(dir, 'stranger', otherCa, 'client');
  [tls, mtls] = await Promise.all([startPlugin(tlsEnv()), startPlugin({ ...tlsEnv(), PRISM_TLS_CLIENT_CA_FILE: clientCa.cert })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([tls?.close(), mtls?.close()]);
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

type Ctor = new (address: string, creds: ChannelCredentials, options: Record<string, string>) => Client;
function grpcClient(service: string, address: string, creds: ChannelCredentials): Client {
  let node: unknown = loadPackageDefinition(servedDefinitions());
  for (const part of service.split('.')) node = (node as Record<string, unknown>)[part];
  // The certificate names 127.0.0.1 and localhost; SNI with an IP address is deprecated (RFC 6066), so say localhost.
  return new (node as Ctor)(address, creds, { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' });
}

/** One HealthCheck over the given credentials: the answer's status, or the gRPC error code. */
async function healthOver(address: string, creds: ChannelCredentials): Promise<string | number> {
  const c = grpcClient('prism.interfaces.LifecycleInterface', address, creds);
  try {
    return await new Promise((resolve) => {
      (c as unknown as { HealthCheck: (...a: unknown[]) => void }).HealthCheck({}, new Metadata(), { deadline: Date.now() + 5_000 },
        (err: ServiceError | null, res: { status: string }) => resolve(err ? err.code : res.status));
    });
  } finally {
    c.close();
  }
}

/** GET over HTTPS (or plain HTTP): the status code, or the error's code when no answer came. */
function get(url: string, options: { ca?: Buffer; cert?: CertFiles } = {}): Promise<{ status: number; body: string } | string> {
  const secure = url.startsWith('https:');
  return new Promise((resolve) => {
    const req = (secure ? httpsRequest : httpRequest)(url, {
      timeout: 5_000,
      ...(secure ? { ca: options.ca, ...(options.cert === undefined ? {} : { cert: read(options.cert.cert), key: read(options.cert.key) }) } : {}),
    }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

// grpcurl dials blocking: a refused connection is retried until -connect-timeout, so keep that short.
const grpcurl = (args: string[]) => run(join(inject('toolsBin'), 'grpcurl'), ['-connect-timeout', '1', '-max-time', '5', ...args], { timeout: 15_000 })
  .then((r) => ({ ok: true, out: r.stdout }), (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }));

const HEALTHY = 'HEALTH_STATUS_HEALTHY';
const UNAVAILABLE = 14;

describe('TLS on the plugin port', () => {
  it('grpc-js with the CA gets answers (lifecycle and data); plaintext and untrusting clients get UNAVAILABLE', async () => {
    expect(tls.logs.join('\n')).toMatch(/"client_certificates":"not requested".*"msg":"main port serves TLS"/);
    expect(await healthOver(tls.address, credentials.createSsl(read(ca.cert)))).toBe(HEALTHY);
    expect(await healthOver(tls.address, credentials.createInsecure())).toBe(UNAVAILABLE);
    expect(await healthOver(tls.address, credentials.createSsl(read(otherCa.cert)))).toBe(UNAVAILABLE);

    const queue = grpcClient('prism.interfaces.queue.QueueBasicInterface', tls.address, credentials.createSsl(read(ca.cert)));
    try {
      const topic = `grpc-tls-${randomUUID().slice(0, 8)}`;
      const res = await new Promise<{ offset: string }>((resolve, reject) => (queue as unknown as { Publish: (...a: unknown[]) => void })
        .Publish({ topic, payload: Buffer.from('over tls') }, new Metadata(), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, r: { offset: string }) => (err ? reject(err) : resolve(r))));
      expect(res.offset).toBe('0');
    } finally {
      queue.close();
    }
  });

  it('serves the probes and /metrics over HTTPS on the same port, and nothing over plain HTTP', async () => {
    const port = tls.server.port;
    expect(await get(`https://127.0.0.1:${port}/ready`, { ca: read(ca.cert) })).toMatchObject({ status: 200 });
    const metrics = await get(`https://127.0.0.1:${port}/metrics`, { ca: read(ca.cert) });
    expect(typeof metrics === 'object' && metrics.body).toMatch(/kafka_plugin_health_status/);
    const plain = await get(`http://127.0.0.1:${port}/ready`);
    expect(typeof plain === 'string' || plain.status >= 400, `plain HTTP got ${JSON.stringify(plain)}`).toBe(true);
    expect(await get(`https://127.0.0.1:${port}/ready`, { ca: read(otherCa.cert) })).toMatch(/CERT|UNABLE|SELF_SIGNED/);
    // curl offers h2 and http/1.1 by ALPN: the listener picks HTTP/1.1 for it, the protocol of the probes.
    const curl = await run('curl', ['-sS', '--max-time', '5', '--cacert', ca.cert, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `https://localhost:${port}/ready`]);
    expect(curl.stdout).toBe('1.1 200');
  });

  it('grpcurl with -cacert lists the services; grpcurl -plaintext fails', async () => {
    const listed = await grpcurl(['-cacert', ca.cert, tls.address, 'list']);
    expect(listed.ok, listed.out).toBe(true);
    expect(listed.out).toContain('prism.interfaces.LifecycleInterface');
    expect(listed.out).toContain('grpc.health.v1.Health');
    const check = await grpcurl(['-cacert', ca.cert, tls.address, 'grpc.health.v1.Health/Check']);
    expect(check.out).toContain('"status": "SERVING"');
    const plaintext = await grpcurl(['-plaintext', tls.address, 'list']);
    expect(plaintext.ok).toBe(false);
    // The server refused it (a TLS record was expected), rather than the dial merely timing out.
    expect(tls.logs.join('\n')).toMatch(/"code":"ERR_SSL_WRONG_VERSION_NUMBER".*"msg":"TLS handshake with a client failed"/);
    const untrusted = await grpcurl(['-cacert', otherCa.cert, tls.address, 'list']);
    expect(untrusted.ok).toBe(false);
    expect(untrusted.out).toMatch(/certificate signed by unknown authority/);
  });
});

describe('mTLS on the plugin port (PRISM_TLS_CLIENT_CA_FILE)', () => {
  it('refuses clients without a certificate or with one the client CA did not sign; accepts a signed one', async () => {
    expect(mtls.logs.join('\n')).toMatch(/"client_certificates":"required".*"msg":"main port serves TLS"/);
    const withCert = (c: CertFiles) => credentials.createSsl(read(ca.cert), read(c.key), read(c.cert));
    expect(await healthOver(mtls.address, credentials.createSsl(read(ca.cert)))).toBe(UNAVAILABLE);
    expect(await healthOver(mtls.address, withCert(strangerCert))).toBe(UNAVAILABLE);
    expect(await healthOver(mtls.address, credentials.createInsecure())).toBe(UNAVAILABLE);
    expect(await healthOver(mtls.address, withCert(clientCert))).toBe(HEALTHY);
  });

  it('HTTPS probes need the client certificate too', async () => {
    const url = `https://127.0.0.1:${mtls.server.port}/ready`;
    expect(await get(url, { ca: read(ca.cert) })).toBeTypeOf('string');
    expect(await get(url, { ca: read(ca.cert), cert: clientCert })).toMatchObject({ status: 200 });
  });

  it('grpcurl with -cacert -cert -key works; without the client certificate it fails', async () => {
    const ok = await grpcurl(['-cacert', ca.cert, '-cert', clientCert.cert, '-key', clientCert.key, mtls.address, 'grpc.health.v1.Health/Check']);
    expect(ok.ok, ok.out).toBe(true);
    expect(ok.out).toContain('"status": "SERVING"');
    const refused = await grpcurl(['-cacert', ca.cert, mtls.address, 'list']);
    expect(refused.ok).toBe(false);
    expect(mtls.logs.join('\n')).toMatch(/"error":"peer did not return a certificate".*"msg":"TLS handshake with a client failed"/);
  });
});

describe('bad TLS files stop the process at start: exit code 2, the setting named', () => {
  const start = async (env: Record<string, string>) => {
    const p = spawnNode(['adapters/grpc/main.ts'], { cwd: root, env: { KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_CONTROL_PLANE_PORT: '0', PRISM_LISTEN_HOST: '127.0.0.1', ...env } });
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
    const { code } = await p.exited;
    clearTimeout(timer);
    return { code, stderr: p.stderr() };
  };

  // The other cases (key without certificate, a client CA that is not PEM, YAML spellings) are the same loadConfig
  // path, covered by test/unit/core/config/tls-config.test.ts without a process start each.
  it('a missing certificate file; a key of another certificate', async () => {
    const [missing, mismatch] = await Promise.all([
      start({ PRISM_TLS_CERT_FILE: join(dir, 'nope.pem'), PRISM_TLS_KEY_FILE: server.key }),
      start({ PRISM_TLS_CERT_FILE: server.cert, PRISM_TLS_KEY_FILE: clientCert.key }),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/invalid configuration \(1 problem\):\n {2}- env PRISM_TLS_CERT_FILE: cannot read a certificate ".*nope\.pem": no such file/);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/env PRISM_TLS_KEY_FILE: expected the private key of the certificate in ".*server\.pem", got the key of another certificate/);
  });
});
