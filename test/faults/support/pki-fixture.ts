import { join } from 'node:path';
import { startPkiBroker, type PkiBroker } from './pki-broker.ts';
import { issueCert, setUpPki, writeCert, type PkiEngine } from './pki-openbao.ts';
import { baoBinary, PersistentOpenBao } from './vault-openbao.ts';

/** The private OpenBao of the PKI tests (raft storage: it survives its own restart, which the outage test needs). */
export const PKI_BAO_PORT = 29330;

export interface PkiFixture {
  bao: PersistentOpenBao;
  pki: PkiEngine;
  broker: PkiBroker;
  stop(): Promise<void>;
}

/**
 * What every PKI test stands on: a private OpenBao whose PKI engine issues 30 s client certificates (2 min max TTL,
 * with leases) for the `allowed` CNs, and a private broker whose mTLS listener trusts only that CA (its own
 * certificate from the same engine), with ACLs granting `granted` (a CN) topic, group and cluster access.
 */
export async function startPkiFixture(o: { allowed: string[]; granted: string }): Promise<PkiFixture> {
  const bao = new PersistentOpenBao(PKI_BAO_PORT, await baoBinary());
  await bao.start();
  const pki = await setUpPki(bao.admin, { mount: 'pki', role: 'kafka-client', allowed: o.allowed, ttl: '30s', maxTtl: '2m', dir: join(bao.dir, 'pki') });
  const broker = await startPkiBroker({
    truststore: pki.caFile,
    keystore: async (dir) => writeCert(join(dir, 'certs'), 'broker', await issueCert(bao.admin, pki.mount, `${pki.role}-broker`, 'localhost', { ip_sans: '127.0.0.1', ttl: '24h' })).keystore,
  });
  await broker.allow(`User:${o.granted}`);
  return {
    bao, pki, broker,
    async stop() {
      await broker.stop();
      if (bao.running) await bao.stop();
    },
  };
}
