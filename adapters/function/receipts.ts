/**
 * Receipts of function mode. The gRPC runtime's receipts name a live session of the process that delivered them;
 * an invocation has no such session, so a function receipt names the message itself: group, topic, partition and
 * offset. Group and topic names never contain ':' (both are [a-zA-Z0-9._-]), so the text splits unambiguously.
 */

/** What a function receipt names: one message of a group's topic partition. */
export interface FunctionReceipt {
  group: string;
  topic: string;
  partition: number;
  offset: bigint;
}

const prefix = 'fn1';
const pattern = /^fn1:([a-zA-Z0-9._-]{1,249}):([a-zA-Z0-9._-]{1,249}):(\d{1,7}):(\d{1,19})$/;

/** The receipt of one delivered message. */
export function encodeReceipt(r: FunctionReceipt): string {
  return `${prefix}:${r.group}:${r.topic}:${r.partition}:${r.offset}`;
}

/** Parses a receipt; undefined when it is not a function-mode receipt. */
export function parseReceipt(text: string): FunctionReceipt | undefined {
  const m = pattern.exec(text);
  if (m === null) return undefined;
  return { group: m[1]!, topic: m[2]!, partition: Number(m[3]), offset: BigInt(m[4]!) };
}
