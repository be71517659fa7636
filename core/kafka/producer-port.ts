import type { ProduceOutcome, RecordToProduce } from './records.ts';

/**
 * Sends records and answers each caller only after the broker acknowledged its record (acks per config).
 * Concurrent calls may share one produce request (linger); each record still gets its own outcome.
 */
export interface ProducerPort {
  /**
   * Produces the records and resolves with one outcome per record, in input order. Never rejects for a broker
   * failure of some records: those carry `{ ok: false, error }` (a PluginError). Rejects only when nothing could be
   * attempted (closed, aborted before sending).
   */
  produce(records: RecordToProduce[], options: { signal?: AbortSignal }): Promise<ProduceOutcome[]>;
  /** Records handed over and not yet acknowledged. */
  pending(): number;
  /** Waits for every record handed over to be answered, then closes. Idempotent. */
  close(): Promise<void>;
}
