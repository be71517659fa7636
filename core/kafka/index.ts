import type { PluginError } from '../errors.ts';
import type { Config } from '../config/schema.ts';
import type { SaslAuth } from './client-options.ts';
import type { GroupPort } from './group-port.ts';
import { createPlatformaticKafka } from './platformatic.ts';
import { createPlatformaticGroups } from './platformatic-groups.ts';
import { createPlatformaticProducer } from './platformatic-producer.ts';
import { createPlatformaticReader } from './platformatic-reader.ts';
import type { KafkaPort } from './port.ts';
import type { ProducerPort } from './producer-port.ts';
import type { ReaderPort } from './reader-port.ts';

/**
 * The Kafka side as the composition roots see it: the ports, and the one place that builds them on today's client
 * library (@platformatic/kafka, ADR 0001). Swapping the library means a new set of adapters behind these ports and
 * a change here, nowhere else.
 */
export type { SaslAuth } from './client-options.ts';
export type { GroupPort } from './group-port.ts';
export type { KafkaPort } from './port.ts';
export type { ProducerPort } from './producer-port.ts';
export type { ReaderPort } from './reader-port.ts';
export { saslEnabled, weakAcksWarning } from './client-options.ts';
export { probeCredentials } from './probe.ts';
export { RotatingProducer } from './rotating-producer.ts';
export { RotatingCluster, RotatingReader } from './rotating-clients.ts';
/** Prefix of the group id the reader's client carries but never joins; tests check no such group ever shows up on the brokers. */
export { readerGroupIdPrefix } from './platformatic-reader.ts';

export interface KafkaClientOptions {
  /** Where SASL credentials come from at each new connection (static config when absent). */
  auth?: SaslAuth;
  /** Membership trouble the group members retry by themselves, for a log line. */
  report?: (error: PluginError, doing: string) => void;
}

/** Factories of the real clients; each builds lazily and touches no network until first used. */
export interface KafkaClients {
  cluster(): KafkaPort;
  producer(purpose?: 'publish' | 'dead-letters'): ProducerPort;
  groups(): GroupPort;
  reader(): ReaderPort;
}

export function kafkaClients(config: Config, options: KafkaClientOptions = {}): KafkaClients {
  const { auth, report } = options;
  return {
    cluster: () => createPlatformaticKafka(config, auth),
    producer: (purpose = 'publish') => createPlatformaticProducer(config, { ...(auth === undefined ? {} : { auth }), purpose }),
    groups: () => createPlatformaticGroups(config, auth, report),
    reader: () => createPlatformaticReader(config, auth),
  };
}
