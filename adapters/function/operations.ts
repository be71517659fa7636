import { PluginError } from '../../core/errors.ts';
import { append, appendBatch } from '../../handlers/append.ts';
import { createStream } from '../../handlers/create-stream.ts';
import type { CallContext } from '../../core/call/context.ts';
import { health } from '../../handlers/health.ts';
import { offsets } from '../../handlers/get-offsets.ts';
import { publish } from '../../handlers/publish.ts';
import { publishBatch } from '../../handlers/publish-batch.ts';
import { query } from '../../handlers/query.ts';
import { seek } from '../../handlers/seek.ts';
import { ackOffsets } from '../../handlers/ack-offsets.ts';
import type { FunctionDeps } from './compose.ts';
import { consumeBatch } from '../../handlers/consume-batch.ts';
import { tailBatch } from '../../handlers/tail-batch.ts';

/** One operation of the function adapter: its gRPC request and response messages and the handler behind it. */
export interface Operation {
  /** Canonical name, as in logs and metrics (the gRPC adapter's operation names). */
  name: string;
  request: string;
  response: string;
  run(deps: FunctionDeps, request: Record<string, unknown>, ctx: CallContext): Promise<unknown>;
}

const queue = 'prism.interfaces.queue';
const stream = 'prism.interfaces.stream';

/**
 * The operations, each over the same messages as its gRPC method. Tail and Consume cannot stream here: they are
 * bounded batches (prism.function.* messages, supersets of TailRequest and ConsumeRequest), and Ack commits offsets
 * directly (see ack-offsets.ts). Nack has no function form: without a session there is nothing to redeliver from.
 */
export const operations: Operation[] = [
  { name: 'publish', request: `${queue}.PublishRequest`, response: `${queue}.PublishResponse`, run: (d, r, c) => publish(d, r, c) },
  { name: 'publish_batch', request: `${queue}.PublishBatchRequest`, response: `${queue}.PublishBatchResponse`, run: (d, r, c) => publishBatch(d, r, c) },
  { name: 'consume_batch', request: 'prism.function.ConsumeBatchRequest', response: 'prism.function.ConsumeBatchResponse', run: (d, r, c) => consumeBatch(d, r, c) },
  { name: 'ack', request: `${queue}.AckRequest`, response: `${queue}.AckResponse`, run: (d, r, c) => ackOffsets(d, r, c) },
  { name: 'get_offsets', request: `${queue}.GetOffsetsRequest`, response: `${queue}.GetOffsetsResponse`, run: (d, r, c) => offsets(d, r, c) },
  { name: 'seek', request: `${queue}.SeekRequest`, response: `${queue}.SeekResponse`, run: (d, r, c) => seek(d, r, c) },
  { name: 'append', request: `${stream}.AppendRequest`, response: `${stream}.AppendResponse`, run: (d, r, c) => append(d, r, c) },
  { name: 'append_batch', request: `${stream}.AppendBatchRequest`, response: `${stream}.AppendBatchResponse`, run: (d, r, c) => appendBatch(d, r, c) },
  { name: 'query', request: `${stream}.QueryRequest`, response: `${stream}.QueryResponse`, run: (d, r, c) => query(d, r, c) },
  { name: 'tail', request: 'prism.function.TailBatchRequest', response: 'prism.function.TailBatchResponse', run: (d, r, c) => tailBatch(d, r, c) },
  { name: 'create_stream', request: `${stream}.CreateStreamRequest`, response: `${stream}.CreateStreamResponse`, run: (d, r, c) => createStream(d, r, c) },
  {
    name: 'health',
    request: 'prism.interfaces.HealthCheckRequest',
    response: 'prism.interfaces.HealthCheckResponse',
    // As LifecycleInterface.HealthCheck answers it: a fresh broker round trip, the proto's enum names. A function
    // has no background probing, so the probe just made decides: the monitor alone would still count a success
    // from the last few seconds (its staleness window) as reachable.
    run: async (d, _r, c) => {
      const report = await health(d, {}, c);
      const failed = report.details.last_error;
      return { status: `HEALTH_STATUS_${failed === undefined ? report.status : 'UNHEALTHY'}`, message: failed ?? report.message, details: report.details };
    },
  },
];

/** Spellings are compared without case, '-' and '_': publish_batch, publish-batch and PublishBatch are one. */
const normal = (name: string) => name.toLowerCase().replace(/[-_]/g, '');

/** Other names callers use: the gRPC method names where they differ, and the streaming names. */
const aliases: Record<string, string> = { consume: 'consume_batch', tailbatch: 'tail', healthcheck: 'health', offsets: 'get_offsets' };

const byName = new Map(operations.map((op) => [normal(op.name), op]));
for (const [alias, name] of Object.entries(aliases)) byName.set(alias, byName.get(normal(name))!);

/** The operation a name refers to, if any. */
export function findOperation(name: string): Operation | undefined {
  return byName.get(normal(name));
}

/** The operation a name refers to; NOT_FOUND naming the known ones otherwise. */
export function operationNamed(name: unknown): Operation {
  const op = typeof name === 'string' ? findOperation(name) : undefined;
  if (op === undefined) {
    throw new PluginError('NOT_FOUND', `unknown operation ${JSON.stringify(name)}; expected one of ${operations.map((o) => o.name).join(', ')}`);
  }
  return op;
}
