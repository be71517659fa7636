import { randomUUID } from 'node:crypto';
import { PluginError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { FunctionError, toFunctionError } from './errors.ts';
import { invocationStart, type FunctionContext } from './invocation.ts';
import { failureOf, parseKafkaEvent, toRecord, type KafkaBatchResponse, type KafkaEventRecord } from './kafka-event.ts';
import type { FunctionRuntime } from './runtime.ts';

/** What a record handler gets besides the record. */
export interface KafkaRecordContext {
  /** The invocation's request id (Lambda's awsRequestId). */
  requestId: string;
  /** A child of the plugin's logger with the record's coordinates. */
  log: Logger;
  /** Epoch ms by which the whole batch must be answered; undefined when the platform gave no time limit. */
  deadline: number | undefined;
  /** Fires at the deadline: stop early, the record will be delivered again. */
  signal: AbortSignal;
  /**
   * Runs one of the plugin's operations (publish, append, query…) over the cached connections, with a proto3 JSON
   * request; resolves with its proto3 JSON answer, rejects with the operation's error (code, message).
   */
  call(operation: string, request: unknown): Promise<Record<string, unknown>>;
}

/** Your code for one record; a throw (or rejection) marks the record as failed. */
export type KafkaRecordHandler = (record: KafkaEventRecord, ctx: KafkaRecordContext) => unknown;

/**
 * Processes a Kafka event's records with `fn`: partitions concurrently, records of one partition one after another
 * in offset order. When a record fails, it and every later record of its partition are reported as failed and not
 * processed, so a retry sees them again in order whatever Lambda checkpoints. Records left when the deadline comes
 * are reported as failed too, rather than letting the platform time the whole batch out.
 */
export async function processKafkaEvent(runtime: FunctionRuntime, fn: KafkaRecordHandler, event: unknown, context?: FunctionContext): Promise<KafkaBatchResponse> {
  const requestId = context?.awsRequestId || randomUUID();
  const log = runtime.log.child({ operation: 'kafka_event', request_id: requestId });
  let parsed;
  try {
    parsed = parseKafkaEvent(event);
  } catch (err) {
    const error = toFunctionError(err);
    log.error({ error: error.message }, 'not a Kafka event batch');
    throw new FunctionError(error, requestId);
  }
  const { deadline } = invocationStart(context, 'kafka_event', { requestId });
  const abort = new AbortController();
  const timer = deadline === undefined ? undefined : setTimeout(() => abort.abort(new PluginError('DEADLINE_EXCEEDED', 'the call reached its deadline')), Math.max(0, deadline - Date.now()));
  timer?.unref();

  const call = async (operation: string, request: unknown) => {
    const outcome = await runtime.invoke(operation, request, context, requestId);
    if (outcome.ok) return outcome.body;
    throw new FunctionError(outcome.error, requestId);
  };
  const failures: ReturnType<typeof failureOf>[] = [];
  let processed = 0;
  const partition = async (topicPartition: string, records: KafkaEventRecord[]) => {
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const recordLog = log.child({ topic: record.topic, partition: record.partition, offset: record.offset });
      try {
        if (abort.signal.aborted) throw new PluginError('DEADLINE_EXCEEDED', 'the invocation reached its deadline before this record');
        const ctx: KafkaRecordContext = { requestId, log: recordLog, deadline, signal: abort.signal, call };
        await raceDeadline(Promise.resolve(fn(record, ctx)), abort.signal);
        processed++;
      } catch (err) {
        recordLog.warn({ err, topic_partition: topicPartition, later_records: records.length - i - 1 }, 'record failed; it and the later records of its partition are reported for retry');
        for (const r of records.slice(i)) failures.push(failureOf(r));
        return;
      }
    }
  };
  try {
    const batches = Object.entries(parsed.records).map(([tp, records]) => [tp, records.map((r) => toRecord(tp, r))] as const);
    await Promise.all(batches.map(([tp, records]) => partition(tp, records)));
  } finally {
    clearTimeout(timer);
    abort.abort(new Error('the batch is answered'));
  }
  log.info({ processed, failed: failures.length }, 'kafka event batch processed');
  return { batchItemFailures: failures };
}

/** Waits for a record handler; one still running at the deadline counts as failed (it may finish later, unseen). */
function raceDeadline(work: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new PluginError('DEADLINE_EXCEEDED', 'the record was still being processed at the deadline'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
