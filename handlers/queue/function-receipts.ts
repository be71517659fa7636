/**
 * Receipts of function mode. The gRPC runtime's receipts name a live session of the process that delivered them;
 * an invocation has no such session, and the ack arrives in another invocation that remembers nothing, so a
 * function receipt describes itself: group, topic, partition, offset, and `from` — the position the delivering
 * member stood at before this record. Every offset in [from, offset) was either delivered earlier in the same
 * answer or is no message at all (a compacted record, a transaction marker), so an acknowledged receipt lets the
 * group's commit move from any position in [from, offset] to offset + 1 without skipping a message. Group and
 * topic names never contain ':' (both are [a-zA-Z0-9._-]), so the text splits unambiguously.
 */

/** What a function receipt names: one message of a group's topic partition, and where its member stood before it. */
export interface FunctionReceipt {
  group: string;
  topic: string;
  partition: number;
  offset: bigint;
  /** The member's position before this record (≤ offset). */
  from: bigint;
}

const names = '([a-zA-Z0-9._-]{1,249}):([a-zA-Z0-9._-]{1,249})';
const current = new RegExp(`^fn2:${names}:(\\d{1,7}):(\\d{1,19}):(\\d{1,19})$`);
// Version 1 (no `from`) came from consume_batch before version 2; still accepted, but it vouches for its own
// message only (from = offset), so it commits only when it is exactly at the group's position.
const legacy = new RegExp(`^fn1:${names}:(\\d{1,7}):(\\d{1,19})$`);

/** The receipt of one delivered message. */
export function encodeReceipt(r: FunctionReceipt): string {
  return `fn2:${r.group}:${r.topic}:${r.partition}:${r.from}:${r.offset}`;
}

/** Parses a receipt; undefined when it is not a function-mode receipt (or its `from` lies past its offset). */
export function parseReceipt(text: string): FunctionReceipt | undefined {
  const m = current.exec(text);
  if (m !== null) {
    const from = BigInt(m[4]!);
    const offset = BigInt(m[5]!);
    return from > offset ? undefined : { group: m[1]!, topic: m[2]!, partition: Number(m[3]), offset, from };
  }
  const old = legacy.exec(text);
  if (old === null) return undefined;
  const offset = BigInt(old[4]!);
  return { group: old[1]!, topic: old[2]!, partition: Number(old[3]), offset, from: offset };
}
