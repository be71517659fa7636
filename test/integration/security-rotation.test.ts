import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { OpenBao } from '../support/openbao.ts';
import { startPlugin } from '../support/plugin.ts';
import { ScramUsers } from '../support/scram.ts';

interface QueueMessage { message_id: string; receipt: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (ok: () => boolean | Promise<boolean>, ms: number) => {
  const end = Date.now() + ms;
  while (!(await ok()) && Date.now() < end) await sleep(100);
};

describe('credential rotation under load', () => {
  it('rotates three times while 16 callers publish and a consumer acks: publishes answered across every rotation, no failed publish, nothing lost', async () => {
    const id = randomUUID().slice(0, 8);
    const bao = new OpenBao(inject('openbaoAddr'), inject('openbaoToken'));
    await bao.enableAppRole();
    const role = await bao.appRole(`prism-rot-${id}`, `prism-rot-${id}/`, { token_ttl: '120s', token_max_ttl: '300s' });
    const users = new ScramUsers(inject('kafkaSaslBrokers'), inject('kafkaAdminClientConfig'));
    const secrets: string[] = [role.secretId];
    const newUser = async (n: number) => {
      const user = { username: `prism-rot-${id}-${n}`, password: randomUUID() };
      secrets.push(user.password);
      await users.create(user.username, user.password);
      return user;
    };
    let current = await newUser(0);
    await bao.kvPut(`prism-rot-${id}/kafka`, current);

    const p = await startPlugin({
      KAFKA_BROKERS: inject('kafkaSaslBrokers'), VAULT_ENABLED: 'true', VAULT_ADDR: inject('openbaoAddr'), VAULT_AUTH_METHOD: 'approle',
      VAULT_ROLE_ID: role.roleId, VAULT_SECRET_ID: role.secretId, VAULT_PATH: `secret/data/prism-rot-${id}/kafka`, VAULT_KV_REFRESH: '1s',
    });
    p.runtime.start();
    const queue = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    const health = client(p.address, 'grpc.health.v1.Health');
    const topic = `rotation-${id}`;
    const published = new Set<string>();
    const consumed = new Set<string>();
    let failures = 0;
    let stop = false;
    try {
      await until(() => p.runtime.deps.credentials.current() !== undefined, 15_000);
      await call<{ message_id: string }>(queue, 'Publish', { topic, payload: Buffer.from('warm-up') }).then((r) => published.add(r.message_id));

      let pendingAcks: string[] = [];
      const stream = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group: `g-${topic}`, subscriber_id: `rot-${id}`, max_unacked: 2_000 }, (m) => {
        consumed.add(m.message_id);
        pendingAcks.push(m.receipt);
      });
      await stream.ready;
      const acker = (async () => {
        while (!stop || pendingAcks.length > 0) {
          const batch = pendingAcks;
          pendingAcks = [];
          if (batch.length > 0) await call(queue, 'Ack', { receipts: batch }).catch(() => undefined);
          await sleep(50);
        }
      })();

      const started = Date.now();
      const publishers = Array.from({ length: 16 }, async () => {
        while (!stop) {
          await call<{ message_id: string }>(queue, 'Publish', { topic, payload: Buffer.alloc(100, 7) }, { deadlineMs: 20_000 })
            .then((r) => published.add(r.message_id), () => failures++);
        }
      });

      const rotations = () => p.runtime.scope.metrics.credentials.rotations.get().then((m) => m.values[0]?.value ?? 0);
      for (let n = 1; n <= 3; n++) {
        await sleep(1_500);
        const next = await newUser(n);
        const before = await rotations();
        const publishedBefore = published.size;
        await bao.kvPut(`prism-rot-${id}/kafka`, next);
        await until(async () => (await rotations()) > before, 30_000);
        expect(await rotations()).toBe(before + 1);
        // Under load through the rotation: publishes were answered between the new secret and a second after the switch.
        await sleep(1_000);
        expect(published.size - publishedBefore, `publishes answered across rotation ${String(n)}`).toBeGreaterThan(0);
        // The harness deletes the old user only after the plugin switched.
        await users.remove(current.username);
        current = next;
      }
      await sleep(1_500);
      stop = true;
      await Promise.all(publishers);
      const seconds = (Date.now() - started) / 1000;
      await until(() => [...published].every((m) => consumed.has(m)), 30_000);
      await acker;
      stream.cancel();

      const lost = [...published].filter((m) => !consumed.has(m)).length;
      const rate = Math.round(published.size / seconds);
      if (process.env.ROTATION_DEBUG) console.log(p.logs.filter((l) => /assigned|moved|rotat|WARN|ERROR/.test(l)).map((l) => l.slice(0, 400)).join('\n'));
      console.log(`rotation test: rotations=3 published=${published.size} rate=${rate}/s failed_publishes=${failures} consumed=${consumed.size} lost=${lost}`);
      expect(failures).toBe(0);
      expect(lost).toBe(0);
      expect(await call(health, 'Check', { service: 'kafka' })).toMatchObject({ status: 'SERVING' });
      const logs = p.logs.join('');
      for (const secret of secrets) expect(logs).not.toContain(secret);
    } finally {
      stop = true;
      queue.close();
      health.close();
      await p.close();
      await users.remove(current.username).catch(() => undefined);
    }
  }, 150_000);
});
