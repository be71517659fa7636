import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { topicName } from '../../core/config/schema.ts';
import type { RecordHeaders, RecordToProduce } from '../../core/kafka/records.ts';

/** Header carrying the message id on every record we write (Prism's envelope draft). */
export const messageIdHeader = 'prism-message-id';

/** Limits on what a caller may attach to a message; the payload limit comes from config. */
export const limits = { maxHeaders: 64, maxHeaderName: 256, maxHeaderValue: 16 * 1024, maxKey: 16 * 1024, maxMessageId: 128 };

const bytes = z.union([z.instanceof(Buffer), z.instanceof(Uint8Array)], { error: 'expected bytes' }).transform((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Metadata entries (Kafka headers): checked here rather than by zod's record keys, whose errors name no key. */
const headerMap = z
  .record(z.string(), z.string({ error: 'expected a string header value' }), { error: 'expected a map of strings' })
  .superRefine((m, ctx) => {
    const names = Object.keys(m);
    if (names.length > limits.maxHeaders) ctx.addIssue({ code: 'custom', message: `expected at most ${limits.maxHeaders} metadata entries` });
    for (const name of names) {
      if (name.length === 0) ctx.addIssue({ code: 'custom', path: [name], message: 'expected a non-empty header name' });
      else if (name.length > limits.maxHeaderName) ctx.addIssue({ code: 'custom', path: [name], message: `expected a header name of at most ${limits.maxHeaderName} characters` });
      if (m[name]!.length > limits.maxHeaderValue) ctx.addIssue({ code: 'custom', path: [name], message: `expected a header value of at most ${limits.maxHeaderValue} characters` });
    }
  });

/** One message as callers send it: gRPC (proto-loader) and function adapters give the same shape. */
export const messageSchema = (maxPayload: number) =>
  z.object({
    topic: topicName,
    payload: bytes.refine((b) => b.length <= maxPayload, { error: `expected a payload of at most ${maxPayload} bytes` }),
    key: bytes.refine((b) => b.length <= limits.maxKey, { error: `expected a key of at most ${limits.maxKey} bytes` }).optional(),
    metadata: headerMap.default({}),
    partition: z.number({ error: 'expected a partition number' }).int({ error: 'expected a whole partition number' }).min(0, { error: 'expected a partition number ≥ 0' }).optional(),
    message_id: z.string().max(limits.maxMessageId, { error: `expected a message id of at most ${limits.maxMessageId} characters` }).optional(),
  });

export type MessageInput = z.output<ReturnType<typeof messageSchema>>;

/**
 * Builds the record: metadata entries become headers; the message id is the caller's (field, or metadata
 * `prism-message-id`) or a new UUID, always carried in the `prism-message-id` header.
 */
export function toRecord(input: MessageInput, newId: () => string = randomUUID): { record: RecordToProduce; messageId: string } {
  const messageId = input.message_id || input.metadata[messageIdHeader] || newId();
  const headers: RecordHeaders = [[messageIdHeader, Buffer.from(messageId)]];
  for (const [name, value] of Object.entries(input.metadata)) if (name !== messageIdHeader) headers.push([name, Buffer.from(value)]);
  return {
    messageId,
    record: { topic: input.topic, value: input.payload, headers, ...(input.key === undefined || input.key.length === 0 ? {} : { key: input.key }), ...(input.partition === undefined ? {} : { partition: input.partition }) },
  };
}
