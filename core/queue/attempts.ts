/**
 * Delivery attempts that survive restarts (ADR 0005). Before a member delivers the first record of a partition it
 * was just assigned, it commits the partition's unchanged offset with this metadata, counting that delivery. A
 * message that crashes every consumer it reaches is therefore counted across processes, and dead-lettered once the
 * count reaches the attempt limit — instead of crashing the next consumer for ever.
 */

const prefix = 'prism-attempts:';

export interface StoredAttempts {
  offset: string;
  attempts: number;
}

/** The metadata string committed for `attempts` deliveries of the record at `offset`. */
export function encodeAttempts(offset: string, attempts: number): string {
  return `${prefix}${offset}:${attempts}`;
}

/** Reads committed metadata; anything else (another client's metadata, or none) counts as no earlier attempt. */
export function decodeAttempts(metadata: string): StoredAttempts | undefined {
  if (!metadata.startsWith(prefix)) return undefined;
  const m = /^(\d{1,19}):(\d{1,9})$/.exec(metadata.slice(prefix.length));
  return m === null ? undefined : { offset: m[1]!, attempts: Number(m[2]) };
}
