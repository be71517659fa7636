import { z } from 'zod';
import { topicName } from '../core/config/schema.ts';
import { defineHandler } from './define.ts';
import { groupName, type OffsetsDeps } from './offsets.ts';

const offsetString = z.string().regex(/^\d{1,19}$/, { error: 'expected a decimal offset' });

export const seekInput = z
  .object({
    topic: topicName,
    group: groupName,
    earliest_or_latest: z.enum(['earliest', 'latest'], { error: 'expected "earliest" or "latest"' }).optional(),
    timestamp: z.union([z.number(), z.string().regex(/^\d+$/)], { error: 'expected a timestamp in ms' }).transform(Number).optional(),
    offsets: z.object({ offsets: z.record(z.string().regex(/^\d+$/, { error: 'expected partition numbers' }), offsetString) }).optional(),
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
      : { offsets: new Map(Object.entries(input.offsets!.offsets).map(([p, o]) => [Number(p), o])) };
    const committed = await deps.groups.seek(group, input.topic, to);
    return { committed: Object.fromEntries(committed) };
  },
});
