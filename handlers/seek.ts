import { z } from 'zod';
import { topicName } from '../core/config/schema.ts';
import { invalidArgument, showValue, type FieldViolation } from '../core/errors.ts';
import type { PartitionOffsets } from '../core/kafka/group-port.ts';
import { defineHandler } from './shared/define.ts';
import { groupName, type OffsetsDeps } from './get-offsets.ts';
import { maxTimeMs, timeMs } from './stream/schemas.ts';

const offsetString = z.string().regex(/^\d{1,19}$/, { error: 'expected a decimal offset' });

/** The largest partition number: map<int32, string> keys, and Kafka's partitions, are int32. */
const maxPartition = 2_147_483_647;
const partitionKey = /^\d{1,10}$/;

export const seekInput = z
  .object({
    topic: topicName,
    group: groupName,
    earliest_or_latest: z.enum(['earliest', 'latest'], { error: 'expected "earliest" or "latest"' }).optional(),
    timestamp: timeMs(`a timestamp: Unix epoch milliseconds from 0 to ${maxTimeMs}`).optional(),
    offsets: z.object({
      // Keys are checked by seek itself: a zod record's key issue names neither what a key must be nor the key.
      offsets: z.record(z.string(), offsetString)
        .refine((o) => Object.keys(o).length > 0, { error: 'expected at least one partition and its offset' }),
    }).optional(),
  })
  .refine((s) => [s.earliest_or_latest, s.timestamp, s.offsets].filter((v) => v !== undefined).length === 1, {
    error: 'expected exactly one of earliest_or_latest, timestamp, offsets',
    path: ['position'],
  });

/**
 * Moves a group's committed offsets to earliest, latest, the first record at or after a timestamp, or explicit
 * offsets. Kafka allows it only while the group has no active member: FAILED_PRECONDITION otherwise.
 */
export const seek = defineHandler({
  operation: 'seek',
  input: seekInput,
  async run(deps: OffsetsDeps, input) {
    const group = input.group ?? deps.config.kafka.consumerGroup;
    const to = input.earliest_or_latest === 'earliest' ? { earliest: true as const }
      : input.earliest_or_latest === 'latest' ? { latest: true as const }
      : input.timestamp !== undefined ? { timestamp: input.timestamp }
      : { offsets: partitionOffsets(input.offsets!.offsets) };
    if ('offsets' in to && to.offsets !== undefined) checkOffsets(to.offsets, await deps.groups.offsets(group, input.topic));
    const committed = await deps.groups.seek(group, input.topic, to);
    return { committed: Object.fromEntries(committed) };
  },
});

/**
 * The explicit offsets by partition. The map's keys arrive as text (map<int32, string>: gRPC sends "-1" for a negative
 * key), so each is refused by itself when it is no partition number: the field names the key, and so does `got`.
 */
function partitionOffsets(offsets: Record<string, string>): Map<number, string> {
  const violations: FieldViolation[] = [];
  for (const key of Object.keys(offsets)) {
    if (!partitionKey.test(key) || Number(key) > maxPartition) {
      violations.push({ field: `offsets.offsets${/^\w[\w-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`, expected: `a partition number from 0 to ${maxPartition} (the map key)`, got: showValue(key) });
    }
  }
  if (violations.length > 0) throw invalidArgument(violations);
  return new Map(Object.entries(offsets).map(([p, o]) => [Number(p), o]));
}

/** Explicit offsets must name partitions the topic has, at positions its log has (start to end, inclusive). */
function checkOffsets(offsets: Map<number, string>, partitions: PartitionOffsets[]): void {
  const byPartition = new Map(partitions.map((p) => [p.partition, p]));
  const violations: FieldViolation[] = [];
  for (const [partition, offset] of offsets) {
    const known = byPartition.get(partition);
    const field = `offsets.offsets.${partition}`;
    if (known === undefined) violations.push({ field, expected: `a partition of the topic (0–${partitions.length - 1})`, got: String(partition) });
    else if (BigInt(offset) < BigInt(known.start) || BigInt(offset) > BigInt(known.end)) {
      violations.push({ field, expected: `an offset within the partition's log, from ${known.start} to ${known.end}`, got: offset });
    }
  }
  if (violations.length > 0) throw invalidArgument(violations);
}
