import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseLayers } from '../../../../core/config/load.ts';
import { readInitializeConfig } from '../../../../core/config/struct.ts';
import { readServerTls } from '../../../../core/config/tls.ts';
import { tlsFailure } from '../../../../core/tls-failure.ts';
import { issue, makeCa, type CertFiles } from '../../../faults/support/tls-certs.ts';

let dir: string;
let ca: CertFiles;
let server: CertFiles;
let other: CertFiles;
let notPem: string;

beforeAll(() => {
  // Real PEM files from openssl (local, no network): what operators mount.
  dir = mkdtempSync(join(tmpdir(), 'prism-tls-config-'));
  ca = makeCa(dir, 'ca');
  server = issue(dir, 'server', ca, 'server');
  other = issue(dir, 'other', ca, 'client');
  notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('control_plane.tls (TLS on the plugin port)', () => {
  it('is off by default', () => {
    const c = loadConfig({ env: {} });
    expect(c.controlPlane.tls).toBeUndefined();
    expect(readServerTls(c.controlPlane.tls)).toBeUndefined();
  });

  it('reads PRISM_TLS_CERT_FILE, PRISM_TLS_KEY_FILE, PRISM_TLS_CLIENT_CA_FILE and loads the PEM files', () => {
    const c = loadConfig({ env: { PRISM_TLS_CERT_FILE: server.cert, PRISM_TLS_KEY_FILE: server.key, PRISM_TLS_CLIENT_CA_FILE: ca.cert } });
    expect(c.controlPlane.tls).toEqual({ certFile: server.cert, keyFile: server.key, clientCaFile: ca.cert });
    const material = readServerTls(c.controlPlane.tls)!;
    expect(material.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(material.key.toString()).toContain('BEGIN PRIVATE KEY');
    expect(material.clientCa?.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('reads the YAML section, nested (tls: {cert_file…}) or flat (tls_cert_file), the environment winning', () => {
    const nested = join(dir, 'nested.yaml');
    writeFileSync(nested, `control_plane:\n  port: 0\n  tls:\n    cert_file: ${server.cert}\n    key_file: ${server.key}\n    client_ca_file: ${ca.cert}\n`);
    expect(loadConfig({ env: { PRISM_PLUGIN_CONFIG: nested } }).controlPlane.tls).toEqual({ certFile: server.cert, keyFile: server.key, clientCaFile: ca.cert });
    const flat = join(dir, 'flat.yaml');
    writeFileSync(flat, `control_plane:\n  tls_cert_file: ${join(dir, 'absent.pem')}\n  tls_key_file: ${server.key}\n`);
    expect(loadConfig({ env: { PRISM_PLUGIN_CONFIG: flat, PRISM_TLS_CERT_FILE: server.cert } }).controlPlane.tls).toEqual({ certFile: server.cert, keyFile: server.key });
  });

  it('names the YAML key of a missing file', () => {
    const file = join(dir, 'missing.yaml');
    writeFileSync(file, `control_plane:\n  tls:\n    cert_file: ${join(dir, 'absent.pem')}\n    key_file: ${server.key}\n`);
    expect(problems({ PRISM_PLUGIN_CONFIG: file })).toEqual([`file ${file}: control_plane.tls.cert_file: cannot read a certificate "${join(dir, 'absent.pem')}": no such file`]);
  });

  it('refuses half a pair, a client CA without a server certificate, and unreadable or non-PEM files, naming each setting', () => {
    expect(problems({ PRISM_TLS_CERT_FILE: server.cert })).toEqual(['env PRISM_TLS_CERT_FILE: expected both a certificate file and its key file (PRISM_TLS_CERT_FILE and PRISM_TLS_KEY_FILE), or neither']);
    expect(problems({ PRISM_TLS_KEY_FILE: server.key })).toEqual(['env PRISM_TLS_KEY_FILE: expected both a certificate file and its key file (PRISM_TLS_CERT_FILE and PRISM_TLS_KEY_FILE), or neither']);
    expect(problems({ PRISM_TLS_CLIENT_CA_FILE: ca.cert })[0]).toMatch(/^env PRISM_TLS_CLIENT_CA_FILE: expected a server certificate too/);
    expect(problems({ PRISM_TLS_CERT_FILE: notPem, PRISM_TLS_KEY_FILE: server.key })).toEqual([`env PRISM_TLS_CERT_FILE: expected a certificate in PEM (-----BEGIN CERTIFICATE-----) in "${notPem}"`]);
    expect(problems({ PRISM_TLS_CERT_FILE: server.cert, PRISM_TLS_KEY_FILE: notPem })[0]).toMatch(/^env PRISM_TLS_KEY_FILE: expected a PEM private key \(-----BEGIN PRIVATE KEY-----\) for the certificate in /);
    expect(problems({ PRISM_TLS_CERT_FILE: server.cert, PRISM_TLS_KEY_FILE: join(dir, 'absent.key') })).toEqual([`env PRISM_TLS_KEY_FILE: cannot read the private key "${join(dir, 'absent.key')}": no such file`]);
    expect(problems({ PRISM_TLS_CERT_FILE: server.cert, PRISM_TLS_KEY_FILE: server.key, PRISM_TLS_CLIENT_CA_FILE: notPem })).toEqual([`env PRISM_TLS_CLIENT_CA_FILE: expected CA certificates in PEM (-----BEGIN CERTIFICATE-----) in "${notPem}"`]);
    expect(problems({ PRISM_TLS_CERT_FILE: server.cert, PRISM_TLS_KEY_FILE: dir })).toEqual([`env PRISM_TLS_KEY_FILE: cannot read the private key "${dir}": is a directory`]);
  });

  it('refuses a key that belongs to another certificate', () => {
    expect(problems({ PRISM_TLS_CERT_FILE: server.cert, PRISM_TLS_KEY_FILE: other.key })).toEqual([
      `env PRISM_TLS_KEY_FILE: expected the private key of the certificate in "${server.cert}", got the key of another certificate`,
    ]);
  });
});

describe('Kafka and Vault TLS files are checked at load time too', () => {
  it('KAFKA_TLS_CA_FILE, the client pair, and VAULT_CACERT', () => {
    const absent = join(dir, 'absent.pem');
    expect(problems({ KAFKA_TLS_CA_FILE: absent })).toEqual([`env KAFKA_TLS_CA_FILE: cannot read CA certificates "${absent}": no such file`]);
    expect(problems({ KAFKA_TLS_CERT_FILE: server.cert, KAFKA_TLS_KEY_FILE: other.key })[0]).toMatch(/^env KAFKA_TLS_KEY_FILE: expected the private key of the certificate/);
    expect(problems({ VAULT_CACERT: notPem })).toEqual([`env VAULT_CACERT: expected CA certificates in PEM (-----BEGIN CERTIFICATE-----) in "${notPem}"`]);
    const c = loadConfig({ env: { KAFKA_TLS_CA_FILE: ca.cert, KAFKA_TLS_CERT_FILE: server.cert, KAFKA_TLS_KEY_FILE: server.key, VAULT_CACERT: ca.cert } });
    expect(c.kafka.tls).toMatchObject({ caFile: ca.cert, certFile: server.cert, keyFile: server.key });
    expect(c.vault.caCertFile).toBe(ca.cert);
  });

  it('accepts vault_cacert as a backend key (YAML, Initialize) and reports a bad one in-band', () => {
    const file = join(dir, 'vault.yaml');
    writeFileSync(file, `backend:\n  vault_cacert: ${ca.cert}\n`);
    expect(loadConfig({ env: { PRISM_PLUGIN_CONFIG: file } }).vault.caCertFile).toBe(ca.cert);
    expect(() => parseLayers([readInitializeConfig({ vault_ca_cert_file: join(dir, 'absent.pem') })])).toThrow(/Initialize config\.vault_ca_cert_file: cannot read CA certificates/);
  });
});

describe('tlsFailure', () => {
  it('finds the TLS reason inside the client errors that wrap it', () => {
    const cause = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    const wrapped = Object.assign(new AggregateError([Object.assign(new Error('Connection to b:9093 failed.'), { code: 'PLT_KFK_NETWORK', cause })], 'Cannot connect to any broker.'), { code: 'PLT_KFK_MULTIPLE' });
    expect(tlsFailure(wrapped)).toBe('self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)');
    expect(tlsFailure(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }))).toBe('x (ERR_TLS_CERT_ALTNAME_INVALID)');
    const hinted = new Error('unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca');
    expect(tlsFailure(Object.assign(hinted, { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }))).toBe('unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)');
  });

  it('is undefined for errors that are not about TLS', () => {
    expect(tlsFailure(Object.assign(new Error('Connection refused'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(tlsFailure(undefined)).toBeUndefined();
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(tlsFailure(loop)).toBeUndefined();
  });
});
