import { Admin } from '@platformatic/kafka';
import type { Config } from '../config/schema.ts';
import { tlsFailure } from '../tls-failure.ts';
import { PluginError } from '../errors.ts';
import { classifyKafkaError } from './classify.ts';
import { baseClientOptions, type SaslAuth } from './client-options.ts';
import type { ClusterInfo, KafkaPort, PingOptions } from './port.ts';

/**
 * The real Kafka port on @platformatic/kafka. Clients are created lazily: constructing the port never touches the
 * network, so a plugin with an unreachable broker still starts and reports the truth through health.
 */
export function createPlatformaticKafka(config: Config, auth?: SaslAuth): KafkaPort {
  let admin: Admin | undefined;
  let closing: Promise<void> | undefined;
  const getAdmin = () => {
    if (closing !== undefined) throw new PluginError('UNAVAILABLE', 'the Kafka connection is closing');
    // Health pings must answer within their own timeout, so the admin client does not retry on its own.
    admin ??= new Admin({ ...baseClientOptions(config, 'admin', auth), retries: 0 });
    return admin;
  };

  return {
    async ping({ timeoutMs }: PingOptions): Promise<ClusterInfo> {
      const client = getAdmin();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PluginError('UNAVAILABLE', `no answer from brokers ${config.kafka.brokers.join(',')} within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const md = await Promise.race([client.metadata({ topics: [], forceUpdate: true, retries: 0 }), timeout]);
        return {
          clusterId: md.id,
          controllerId: md.controllerId,
          brokers: [...md.brokers.entries()].map(([id, b]) => ({ id, host: b.host, port: b.port })),
        };
      } catch (err) {
        const error = classifyKafkaError(err, `metadata request to ${config.kafka.brokers.join(',')}`);
        // The client reports a refused certificate as "Connection to … failed": say it was TLS, and which setting to check.
        const tls = tlsFailure(err);
        if (tls !== undefined) {
          throw new PluginError('UNAVAILABLE', `metadata request to ${config.kafka.brokers.join(',')} failed: TLS handshake failed: ${tls}; check KAFKA_TLS_CA_FILE${config.kafka.tls.caFile === undefined ? ' (not set: the system CAs are used)' : ` (${config.kafka.tls.caFile})`} and KAFKA_SECURITY_PROTOCOL`, { cause: err });
        }
        if (error.code === 'UNAUTHENTICATED') {
          // Operators search logs for this sentence; name the user and mechanism, never the password.
          const user = auth?.current()?.username ?? config.kafka.sasl.username ?? '(none)';
          throw new PluginError('UNAUTHENTICATED', `SASL authentication failed for user ${user} (${config.kafka.sasl.mechanism}) at ${config.kafka.brokers.join(',')}`, { cause: err });
        }
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      closing ??= (async () => {
        await admin?.close().catch(() => undefined);
      })();
      return closing;
    },
  };
}
