import { invalidArgument } from '../../core/errors.ts';
import type { ReaderPort } from '../../core/kafka/reader-port.ts';
import type { Positions, TailCursor } from './cursor.ts';

export interface TailStart {
  topic: string;
  start?: 'latest' | 'earliest' | undefined;
  start_time?: number | undefined;
  start_offsets: Record<string, string>;
}

/**
 * Where a tail begins in every partition. A cursor names every partition its tail knew; partitions created since
 * then start at their beginning, so resuming misses nothing. Explicit offsets start the partitions not listed at
 * their end.
 */
export async function startPositions(reader: ReaderPort, input: TailStart, count: number, cursor: TailCursor | undefined): Promise<Positions> {
  if (cursor !== undefined) {
    const outside = [...cursor.positions.keys()].filter((p) => p >= count);
    if (outside.length > 0) {
      throw invalidArgument([{ field: 'cursor', expected: `a cursor of this topic's ${count} partitions`, got: `a cursor naming partition ${outside[0]}` }]);
    }
    const positions = new Map(cursor.positions);
    // A cursor only ever names positions the log had; one beyond the end would wait for offsets that may never come.
    const ends = await reader.offsets(input.topic, 'latest', [...positions.keys()]);
    const ahead = [...positions].find(([p, o]) => BigInt(o) > BigInt(ends.get(p) ?? o));
    if (ahead !== undefined) {
      throw invalidArgument([{ field: 'cursor', expected: `a cursor returned by an earlier Tail call (partition ${ahead[0]} ends at offset ${ends.get(ahead[0])})`, got: `a cursor at offset ${ahead[1]}` }]);
    }
    const unknown = [...Array(count).keys()].filter((p) => !positions.has(p));
    if (unknown.length > 0) for (const [p, o] of await reader.offsets(input.topic, 'earliest', unknown)) positions.set(p, o);
    return positions;
  }
  const listed = Object.entries(input.start_offsets).map(([p, o]) => [Number(p), o] as const);
  if (listed.length > 0) {
    const outside = listed.find(([p]) => p >= count);
    if (outside !== undefined) {
      throw invalidArgument([{ field: `start_offsets.${outside[0]}`, expected: `a partition of this topic (0–${count - 1})`, got: String(outside[0]) }]);
    }
    const positions = await reader.offsets(input.topic, 'latest');
    const ahead = listed.find(([p, o]) => BigInt(o) > BigInt(positions.get(p) ?? o));
    if (ahead !== undefined) {
      throw invalidArgument([{ field: `start_offsets.${ahead[0]}`, expected: `an offset up to the end of the partition (${positions.get(ahead[0])})`, got: ahead[1] }]);
    }
    for (const [p, o] of listed) positions.set(p, o);
    return positions;
  }
  if (input.start_time !== undefined) return reader.offsets(input.topic, { timestamp: input.start_time });
  return reader.offsets(input.topic, input.start ?? 'latest');
}
