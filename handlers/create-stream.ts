import { z } from 'zod';
import { isPluginError, PluginError } from '../core/errors.ts';
import type { ReaderPort, TopicDescription } from '../core/kafka/reader-port.ts';
import { defineHandler } from './shared/define.ts';
import { int64, topicName } from './stream/schemas.ts';

export const createStreamInput = z.object({
  topic: topicName,
  partitions: int64('partitions: a count from 1 to 10000 (0 for the broker default)', 0, 10_000).default(0),
  replication_factor: int64('replication_factor: a count from 1 to 32767 (0 for the broker default)', 0, 32_767).default(0),
  retention_ms: int64('retention_ms: milliseconds, -1 to keep forever, 0 for the broker default', -1, Number.MAX_SAFE_INTEGER).default(0),
});

export interface CreateStreamDeps {
  reader: ReaderPort;
}

export interface CreateStreamResponse {
  topic: string;
  created: boolean;
  partitions: number;
  replication_factor: number;
  /** Kafka retention.ms as the broker reports it; "-1" keeps forever. */
  retention_ms: string;
}

const retentionKey = 'retention.ms';

function answer(topic: TopicDescription, created: boolean): CreateStreamResponse {
  return {
    topic: topic.topic,
    created,
    partitions: topic.partitions,
    replication_factor: topic.replicationFactor,
    retention_ms: topic.configs[retentionKey] ?? '0',
  };
}

/** An existing stream satisfies the request when every setting the caller named matches; otherwise it is a conflict. */
function compare(existing: TopicDescription, input: z.output<typeof createStreamInput>): CreateStreamResponse {
  const differences: string[] = [];
  if (input.partitions > 0 && existing.partitions !== input.partitions) differences.push(`partitions ${existing.partitions} (requested ${input.partitions})`);
  if (input.replication_factor > 0 && existing.replicationFactor !== input.replication_factor) {
    differences.push(`replication_factor ${existing.replicationFactor} (requested ${input.replication_factor})`);
  }
  const retention = existing.configs[retentionKey];
  if (input.retention_ms !== 0 && retention !== String(input.retention_ms)) differences.push(`retention_ms ${retention ?? 'unknown'} (requested ${input.retention_ms})`);
  if (differences.length > 0) {
    throw new PluginError('FAILED_PRECONDITION', `stream ${input.topic} already exists with different settings: ${differences.join(', ')}`);
  }
  return answer(existing, false);
}

/**
 * Creates a stream: a topic with the given partitions, replication factor and retention. Idempotent: an existing
 * topic with the same settings is a success (created=false); with different settings, FAILED_PRECONDITION.
 */
export const createStream = defineHandler({
  operation: 'create_stream',
  input: createStreamInput,
  async run(deps: CreateStreamDeps, input): Promise<CreateStreamResponse> {
    const existing = await deps.reader.describeTopic(input.topic, [retentionKey]);
    if (existing !== undefined) return compare(existing, input);
    try {
      const created = await deps.reader.createTopic({
        topic: input.topic,
        ...(input.partitions > 0 ? { partitions: input.partitions } : {}),
        ...(input.replication_factor > 0 ? { replicationFactor: input.replication_factor } : {}),
        configs: input.retention_ms === 0 ? {} : { [retentionKey]: String(input.retention_ms) },
      });
      return answer(created, true);
    } catch (err) {
      // Another caller created it between our look and our create: judge what is there now.
      if (!isPluginError(err) || err.code !== 'ALREADY_EXISTS') throw err;
      const now = await deps.reader.describeTopic(input.topic, [retentionKey]);
      if (now === undefined) throw err;
      return compare(now, input);
    }
  },
});
