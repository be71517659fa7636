import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** The TLS file settings checked here: a slice of Config, declared here so that this module needs no schema import. */
export interface TlsFileSettings {
  controlPlane: { tls?: { certFile?: string | undefined; keyFile?: string | undefined; clientCaFile?: string | undefined } | undefined };
  kafka: { tls: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined } };
  vault: { caCertFile?: string | undefined };
}

/** A problem with one setting, named by its canonical path (the loader turns the path into its source). */
export interface Problem {
  path: string;
  message: string;
}

/** The PEM material of the plugin's own TLS listener, read from the files of `control_plane.tls`. */
export interface ServerTlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** Client certificates must chain to these CAs (mTLS); none when undefined. */
  clientCa?: Buffer;
}

/** Why a file could not be read, in words (ENOENT → "no such file"). */
export function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code);
}

function read(path: string): Buffer | string {
  try {
    return readFileSync(path);
  } catch (err) {
    return readProblem(err);
  }
}

/** Checks PEM read from `path` that must hold at least one certificate; returns a problem text instead when it does not. */
function certificatesIn(pem: Buffer | string, path: string, what: string): Buffer | string {
  if (typeof pem === 'string') return `cannot read ${what} ${JSON.stringify(path)}: ${pem}`;
  try {
    new X509Certificate(pem);
    return pem;
  } catch {
    return `expected ${what} in PEM (-----BEGIN CERTIFICATE-----) in ${JSON.stringify(path)}`;
  }
}

/** Reads a PEM file that must hold at least one certificate; returns a problem text instead when it does not. */
const readCertificates = (path: string, what: string): Buffer | string => certificatesIn(read(path), path, what);

/** Why OpenSSL refused a certificate and key pair, in words an operator can act on. */
function pairMessage(err: unknown, certFile: string): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') return `expected the private key of the certificate in ${JSON.stringify(certFile)}, got the key of another certificate`;
  if (/PEM|DECODER|UNSUPPORTED/.test(code)) return `expected a PEM private key (-----BEGIN PRIVATE KEY-----) for the certificate in ${JSON.stringify(certFile)} (${(err as Error).message})`;
  return `cannot use this key with the certificate in ${JSON.stringify(certFile)}: ${(err as Error).message}`;
}

/**
 * Reads and checks the files of a certificate and its key: both readable, PEM, and belonging together. `paths` are
 * the canonical config paths, so each problem names the setting to fix.
 */
function certificatePair(certFile: string, keyFile: string, paths: { cert: string; key: string }, out: Problem[]): { cert: Buffer; key: Buffer } | undefined {
  return pairOf({ file: certFile, pem: read(certFile) }, { file: keyFile, pem: read(keyFile) }, paths, out);
}

/** The checks of certificatePair on contents already read (a string is why the file could not be read). */
function pairOf(certIn: { file: string; pem: Buffer | string }, keyIn: { file: string; pem: Buffer | string }, paths: { cert: string; key: string }, out: Problem[]): { cert: Buffer; key: Buffer } | undefined {
  const certFile = certIn.file;
  const cert = certificatesIn(certIn.pem, certFile, 'a certificate');
  if (typeof cert === 'string') out.push({ path: paths.cert, message: cert });
  const key = keyIn.pem;
  if (typeof key === 'string') out.push({ path: paths.key, message: `cannot read the private key ${JSON.stringify(keyIn.file)}: ${key}` });
  if (typeof cert === 'string' || typeof key === 'string') return undefined;
  try {
    createSecureContext({ cert, key });
    return { cert, key };
  } catch (err) {
    out.push({ path: paths.key, message: pairMessage(err, certFile) });
    return undefined;
  }
}

/**
 * Every TLS file setting checked at load time, so that a missing or unusable file stops the process with exit code 2
 * naming the setting, instead of failing at the first connection: the plugin's own listener (`control_plane.tls`),
 * the Kafka client (`backend.tls_*`) and the Vault CA (`VAULT_CACERT`).
 */
export function tlsProblems(c: TlsFileSettings): Problem[] {
  const out: Problem[] = [];
  const server = c.controlPlane.tls ?? {};
  if ((server.certFile === undefined) !== (server.keyFile === undefined)) {
    out.push({ path: server.certFile === undefined ? 'controlPlane.tls.keyFile' : 'controlPlane.tls.certFile', message: 'expected both a certificate file and its key file (PRISM_TLS_CERT_FILE and PRISM_TLS_KEY_FILE), or neither' });
  } else if (server.certFile !== undefined && server.keyFile !== undefined) {
    certificatePair(server.certFile, server.keyFile, { cert: 'controlPlane.tls.certFile', key: 'controlPlane.tls.keyFile' }, out);
  }
  if (server.clientCaFile !== undefined) {
    if (server.certFile === undefined) out.push({ path: 'controlPlane.tls.clientCaFile', message: 'expected a server certificate too (PRISM_TLS_CERT_FILE, PRISM_TLS_KEY_FILE): client certificates are checked only over TLS' });
    const ca = readCertificates(server.clientCaFile, 'CA certificates');
    if (typeof ca === 'string') out.push({ path: 'controlPlane.tls.clientCaFile', message: ca });
  }
  const kafka = c.kafka.tls;
  if (kafka.caFile !== undefined) {
    const ca = readCertificates(kafka.caFile, 'CA certificates');
    if (typeof ca === 'string') out.push({ path: 'kafka.tls.caFile', message: ca });
  }
  if (kafka.certFile !== undefined && kafka.keyFile !== undefined) {
    certificatePair(kafka.certFile, kafka.keyFile, { cert: 'kafka.tls.certFile', key: 'kafka.tls.keyFile' }, out);
  }
  if (c.vault.caCertFile !== undefined) {
    const ca = readCertificates(c.vault.caCertFile, 'CA certificates');
    if (typeof ca === 'string') out.push({ path: 'vault.caCertFile', message: ca });
  }
  return out;
}

/** The listener's PEM material, or undefined when `control_plane.tls` is not set (plaintext). Checked by tlsProblems. */
export function readServerTls(tls: TlsFileSettings['controlPlane']['tls']): ServerTlsMaterial | undefined {
  if (tls?.certFile === undefined || tls.keyFile === undefined) return undefined;
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.clientCaFile === undefined ? {} : { clientCa: readFileSync(tls.clientCaFile) }),
  };
}

/** How often the listener's files are checked for a new certificate when PRISM_TLS_RELOAD_INTERVAL is not set. */
export const defaultTlsReloadMs = 10_000;

/** The files of the plugin's own TLS listener (`control_plane.tls` with both a certificate and a key). */
export interface ServerTlsFiles {
  certFile: string;
  keyFile: string;
  clientCaFile?: string | undefined;
}

/** The contents of ServerTlsFiles as read at one moment; a string is why that file could not be read. */
export interface ServerTlsContents {
  cert: Buffer | string;
  key: Buffer | string;
  clientCa?: Buffer | string | undefined;
}

/** The TLS context options of the listener for this material (the same at start and at every reload). */
export function serverContextOptions(m: ServerTlsMaterial) {
  return { cert: m.cert, key: m.key, minVersion: 'TLSv1.2' as const, ...(m.clientCa === undefined ? {} : { ca: m.clientCa }) };
}

/**
 * The checks of load time on contents read later (a reload): certificate and CA in PEM, the key belonging to the
 * certificate, and a TLS context OpenSSL accepts. Either the material to serve, or every problem, each naming its
 * setting (canonical path) and its file.
 */
export function checkServerTls(files: ServerTlsFiles, contents: ServerTlsContents): { material: ServerTlsMaterial } | { problems: Problem[] } {
  const problems: Problem[] = [];
  const pair = pairOf({ file: files.certFile, pem: contents.cert }, { file: files.keyFile, pem: contents.key }, { cert: 'controlPlane.tls.certFile', key: 'controlPlane.tls.keyFile' }, problems);
  let clientCa: Buffer | undefined;
  if (files.clientCaFile !== undefined) {
    const ca = certificatesIn(contents.clientCa ?? 'not read', files.clientCaFile, 'CA certificates');
    if (typeof ca === 'string') problems.push({ path: 'controlPlane.tls.clientCaFile', message: ca });
    else clientCa = ca;
  }
  if (pair === undefined || problems.length > 0) return { problems };
  const material: ServerTlsMaterial = { ...pair, ...(clientCa === undefined ? {} : { clientCa }) };
  try {
    createSecureContext(serverContextOptions(material));
  } catch (err) {
    // The pair passed alone, so what OpenSSL refuses now is most likely in the CA bundle (a later certificate in it).
    const message = (err as Error).message;
    return { problems: [files.clientCaFile === undefined
      ? { path: 'controlPlane.tls.keyFile', message: `cannot use this key with the certificate in ${JSON.stringify(files.certFile)}: ${message}` }
      : { path: 'controlPlane.tls.clientCaFile', message: `cannot use the CA certificates in ${JSON.stringify(files.clientCaFile)}: ${message}` }] };
  }
  return { material };
}
