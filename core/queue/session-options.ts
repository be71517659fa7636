import type { ConsumedRecord } from '../kafka/records.ts';

/** How a queue session behaves; built by the consume handler from the request and the configuration. */
export interface SessionOptions {
  id: string;
  topic: string;
  group: string;
  maxUnacked: number;
  /** Deliveries before a message goes to the dead-letter topic (1 + max retries). */
  maxAttempts: number;
  deadLetterTopic: string;
  backoff: { initialMs: number; maxMs: number; factor: number };
  /** Fetch size per partition. */
  fetchBytes?: number;
  /** Records fetched ahead of delivery, at most (memory bound); the default is one fetch per partition. */
  prefetch?: number;
  /** Observers for metrics and logs. */
  events?: SessionEvents;
}

export interface SessionEvents {
  delivered?(redelivery: boolean): void;
  deadLettered?(reason: string): void;
  commitFailed?(error: unknown): void;
  rebalanced?(partitions: number[]): void;
  fetchFailed?(error: unknown): void;
}

export interface Delivery {
  record: ConsumedRecord;
  attempt: number;
  receipt: string;
}

/** What a Nack did with each receipt. */
export type NackOutcome = 'requeued' | 'dead_lettered' | 'stale' | 'unknown' | 'failed';
