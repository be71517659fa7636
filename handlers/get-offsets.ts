import { z } from 'zod';
import { topicName, type Config } from '../core/config/schema.ts';
import type { GroupPort } from '../core/kafka/group-port.ts';
import { defineHandler } from './shared/define.ts';

export interface OffsetsDeps {
  config: Pick<Config, 'kafka'>;
  groups: GroupPort;
}

export const groupName = z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^[a-zA-Z0-9._-]{1,200}$/, { error: 'expected 1–200 characters from a-z A-Z 0-9 . _ -' }).optional());

/** Committed offset, end offset and lag of every partition of a topic for a group. */
export const offsets = defineHandler({
  operation: 'get_offsets',
  input: z.object({ topic: topicName, group: groupName }),
  async run(deps: OffsetsDeps, input) {
    const group = input.group ?? deps.config.kafka.consumerGroup;
    const partitions = await deps.groups.offsets(group, input.topic);
    return {
      partitions: partitions.map((p) => ({
        partition: p.partition,
        committed: p.committed ?? '',
        end: p.end,
        // Nothing committed yet: everything still in the log is lag.
        lag: String(BigInt(p.end) - BigInt(p.committed ?? p.start)),
      })),
    };
  },
});
