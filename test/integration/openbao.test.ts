import vault from 'node-vault';
import { describe, expect, inject, it } from 'vitest';

/**
 * The OpenBao server the project's scripts start is real and speaks the Vault API that node-vault (our secrets
 * client) expects: health, token lookup, and a KV v2 write/read round trip.
 */
describe('OpenBao dev server', () => {
  const client = () => vault({ apiVersion: 'v1', endpoint: inject('openbaoAddr'), token: inject('openbaoToken') });

  it('is initialised, unsealed and answers health', async () => {
    const health = (await client().health()) as { initialized: boolean; sealed: boolean };
    expect(health).toMatchObject({ initialized: true, sealed: false });
  });

  it('accepts the dev token and round-trips a KV v2 secret', async () => {
    const c = client();
    const self = (await c.tokenLookupSelf()) as { data: { policies: string[] } };
    expect(self.data.policies).toContain('root');
    const path = `secret/data/prism-test/${Date.now()}`;
    await c.write(path, { data: { username: 'svc-test', password: 'kv-test-value' } });
    const read = (await c.read(path)) as { data: { data: Record<string, string> } };
    expect(read.data.data).toEqual({ username: 'svc-test', password: 'kv-test-value' });
  });

  it('rejects a wrong token with 403', async () => {
    const bad = vault({ apiVersion: 'v1', endpoint: inject('openbaoAddr'), token: 'not-a-token' });
    const err = (await bad.tokenLookupSelf().catch((e: unknown) => e)) as { response?: { statusCode: number } };
    expect(err.response?.statusCode).toBe(403);
  });
});
