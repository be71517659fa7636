/**
 * The Kafka port: what handlers may ask of Kafka, in our own types. No client-library type crosses it; the real
 * adapter (platformatic.ts) and the in-memory fake used by handler unit tests implement it, and one contract
 * suite runs against both.
 */

export interface BrokerInfo {
  id: number;
  host: string;
  port: number;
}

export interface ClusterInfo {
  clusterId: string;
  controllerId: number;
  brokers: BrokerInfo[];
}

export interface PingOptions {
  /** Upper bound for the round trip; the promise rejects with UNAVAILABLE after it. */
  timeoutMs: number;
}

export interface KafkaPort {
  /** One metadata round trip to the cluster (never served from cache). Rejects with a PluginError. */
  ping(options: PingOptions): Promise<ClusterInfo>;
  /** Closes every client; idempotent. */
  close(): Promise<void>;
}
