import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { SecretScrubber } from './scrubber.ts';
import { staticCredentials, type CredentialSource } from './credentials.ts';
import type { CredentialMetrics } from '../metrics/credentials.ts';
import { PkiCredentialSource } from './pki-source.ts';
import { VaultClient } from './vault-client.ts';
import { VaultCredentialSource } from './vault-source.ts';

/**
 * The credential source the configuration asks for: Vault/OpenBao when `vault_enabled` (PKI client certificates
 * when `VAULT_PKI_ROLE` is set, else the SASL secret at `VAULT_PATH`), otherwise the static SASL user of the
 * configuration (or none). Every secret it handles is registered with the log scrubber.
 */
export function createCredentialSource(config: Config, log: Logger, scrubber: SecretScrubber, metrics?: Pick<CredentialMetrics, 'renewals' | 'rotations'>): CredentialSource {
  scrubber.add(config.vault.token);
  scrubber.add(config.vault.secretId);
  if (!config.vault.enabled) return staticCredentials(config.kafka.sasl.username, config.kafka.sasl.password);
  const events = metrics === undefined ? {} : {
    events: {
      renewal: (kind: 'token' | 'lease', ok: boolean) => metrics.renewals.inc({ kind, result: ok ? 'ok' : 'failed' }),
      rotation: () => metrics.rotations.inc(),
    },
  };
  const onSecret = (secret: string) => scrubber.add(secret);
  const client = new VaultClient(config.vault, onSecret);
  if (config.vault.pkiRole !== undefined) {
    return new PkiCredentialSource({
      client,
      onSecret,
      mount: config.vault.pkiMount,
      role: config.vault.pkiRole,
      commonName: config.vault.pkiCommonName!,
      ...(config.vault.pkiTtlMs === undefined ? {} : { ttlMs: config.vault.pkiTtlMs }),
      renewFraction: config.vault.pkiRenewFraction,
      marginMs: config.vault.renewMarginMs,
      log: log.child({ component: 'vault-pki' }),
      ...events,
    });
  }
  return new VaultCredentialSource({
    client,
    onSecret,
    path: config.vault.path!,
    kvRefreshMs: config.vault.kvRefreshMs,
    marginMs: config.vault.renewMarginMs,
    log: log.child({ component: 'vault' }),
    ...events,
  });
}
