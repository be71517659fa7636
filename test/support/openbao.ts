import { registerSecret, registerSecretsIn } from './test-logs.ts';

/**
 * The test harness's own OpenBao calls, over plain HTTP (independent of the plugin's Vault client). Every token,
 * secret id and password it sends or receives is registered for the log scan (test/support/test-logs.ts).
 */
export class OpenBao {
  constructor(readonly addr: string, readonly token: string) {
    registerSecret(token);
  }

  async request(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    registerSecretsIn(body);
    const res = await fetch(`${this.addr}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': this.token, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`OpenBao ${method} ${path}: HTTP ${res.status} ${text}`);
    const answer = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    registerSecretsIn(answer);
    return answer;
  }

  /** Enables AppRole once (an already enabled mount answers 400, which is fine). */
  async enableAppRole(): Promise<void> {
    await this.request('POST', 'sys/auth/approle', { type: 'approle' }).catch((e: Error) => {
      if (!/path is already in use/.test(e.message)) throw e;
    });
  }

  /** A role whose tokens may read `secret/data/<prefix>*`; returns its role id and a fresh secret id. */
  async appRole(name: string, prefix: string, ttl: { token_ttl: string; token_max_ttl: string }): Promise<{ roleId: string; secretId: string }> {
    await this.request('PUT', `sys/policies/acl/${name}`, { policy: `path "secret/data/${prefix}*" { capabilities = ["read"] }` });
    await this.request('POST', `auth/approle/role/${name}`, { token_policies: [name], ...ttl });
    const roleId = ((await this.request('GET', `auth/approle/role/${name}/role-id`)).data as { role_id: string }).role_id;
    const secretId = ((await this.request('POST', `auth/approle/role/${name}/secret-id`)).data as { secret_id: string }).secret_id;
    return { roleId, secretId };
  }

  async kvPut(path: string, data: Record<string, string>): Promise<void> {
    await this.request('POST', `secret/data/${path}`, { data });
  }
}
