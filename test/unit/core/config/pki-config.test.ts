import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../core/config/load.ts';
import { pkiEnabled, securityProtocol } from '../../../../core/kafka/client-options.ts';

const vault = { VAULT_ENABLED: 'true', VAULT_AUTH_METHOD: 'token', VAULT_TOKEN: 't' };

describe('PKI client-certificate configuration', () => {
  it('reads the VAULT_PKI_* keys, with the mount, fraction and protocol defaults', () => {
    const c = loadConfig({ env: { ...vault, VAULT_PKI_ROLE: 'kafka-client', VAULT_PKI_COMMON_NAME: 'prism-kafka-plugin', VAULT_PKI_TTL: '30s' } });
    expect(c.vault).toMatchObject({ pkiRole: 'kafka-client', pkiMount: 'pki', pkiCommonName: 'prism-kafka-plugin', pkiTtlMs: 30_000, pkiRenewFraction: 0.67 });
    expect(pkiEnabled(c)).toBe(true);
    expect(securityProtocol(c)).toBe('SSL');
    // No VAULT_PATH needed: the PKI role is the secret.
    expect(c.vault.path).toBeUndefined();
  });

  it('refuses a PKI role without a CN, a fraction outside (0, 1), a SASL protocol, or a certificate file as well', () => {
    expect(() => loadConfig({ env: { ...vault, VAULT_PKI_ROLE: 'r' } })).toThrow(/VAULT_PKI_COMMON_NAME/);
    expect(() => loadConfig({ env: { ...vault, VAULT_PKI_ROLE: 'r', VAULT_PKI_COMMON_NAME: 'cn', VAULT_PKI_RENEW_FRACTION: '1' } })).toThrow(/fraction between 0 and 1/);
    expect(() => loadConfig({ env: { ...vault, VAULT_PKI_ROLE: 'r', VAULT_PKI_COMMON_NAME: 'cn', KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' } })).toThrow(/expected SSL/);
  });

  it('still needs VAULT_PATH for SASL secrets when no PKI role is set', () => {
    expect(() => loadConfig({ env: vault })).toThrow(/VAULT_PATH/);
    expect(securityProtocol(loadConfig({ env: { ...vault, VAULT_PATH: 'kafka/creds/x' } }))).toBe('SASL_PLAINTEXT');
  });
});
