import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { SecretScrubber } from './scrubber.ts';
import { staticCredentials, type CredentialSource } from './credentials.ts';
import type { CredentialMetrics } from '../metrics/credentials.ts';
import { VaultClient } from './vault-client.ts';
import { VaultCredentialSource } from './vault-source.ts';

/**
 * The credential source the configuration asks for: Vault/OpenBao when `vault_enabled`, otherwise the static SASL
 * user of the configuration (or none). Every secret it handles is registered with the log scrubber.
 */
export function createCredentialSource(config: Config, log: Logger, scrubber: SecretScrubber, metrics?: Pick<CredentialMetrics, 'renewals' | 'rotations'>): CredentialSource {
  scrubber.add(config.vault.token);
  scrubber.add(config.vault.secretId);
  if (!config.vault.enabled) return staticCredentials(config.kafka.sasl.username, config.kafka.sasl.password);
  const source = new VaultCredentialSource({
    client: new VaultClient(config.vault, (secret) => scrubber.add(secret)),
    onSecret: (secret) => scrubber.add(secret),
    path: config.vault.path!,
    kvRefreshMs: config.vault.kvRefreshMs,
    marginMs: config.vault.renewMarginMs,
    log: log.child({ component: 'vault' }),
    ...(metrics === undefined ? {} : {
      events: {
        renewal: (kind, ok) => metrics.renewals.inc({ kind, result: ok ? 'ok' : 'failed' }),
        rotation: () => metrics.rotations.inc(),
      },
    }),
  });
  return source;
}
