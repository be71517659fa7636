import type { Config } from './config/schema.ts';
import type { HealthMonitor } from './health-monitor.ts';
import type { GroupPort, KafkaPort, ProducerPort, ReaderPort } from './kafka/index.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { SessionRegistry } from './queue/registry.ts';

/** The long-lived collaborators every runtime hands its handlers; each composition root builds one set per config. */
export interface Collaborators {
  config: Config;
  log: Logger;
  metrics: Metrics;
  kafka: KafkaPort;
  producer: ProducerPort;
  /** Writes dead letters: always acks=all and idempotent (whatever `acks` says), connected on the first one. */
  deadLetters: ProducerPort;
  /** Consumer groups (queue consume, offsets, seek). */
  groups: GroupPort;
  /** Open queue sessions, so Ack/Nack reach the stream that delivered a message. */
  sessions: SessionRegistry;
  /** Group-less reads for tail and query, and topic creation for CreateStream. */
  reader: ReaderPort;
  health: HealthMonitor;
  /** Request limits from config, one object per config (handlers cache schemas per deps). */
  limits: { maxMessageBytes: number };
  /** Prefix of generated subscriber ids. */
  memberPrefix: string;
  /** Closes every client, the producer only after its last acknowledgment. Idempotent. */
  close(): Promise<void>;
}
