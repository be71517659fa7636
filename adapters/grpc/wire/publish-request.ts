import { isUtf8 } from 'node:buffer';
import { limits, type MessageInput } from '../../../handlers/queue/message-input.ts';
import { maxBatch } from '../../../handlers/publish-batch.ts';
import { WireReader } from './reader.ts';

/**
 * One pass over the bytes of a PublishRequest or PublishBatchRequest that decodes and validates at once: it accepts
 * exactly what the general path (wire check, protobufjs, the handler's zod schema) accepts and yields the same
 * values, with payloads and keys as views of the request bytes. It never explains a refusal: on anything it does not
 * accept it answers `undefined`, and the general path decodes the request again and names the field — so error
 * messages stay the general path's, by construction. Pinned by a property test against the general path.
 */

const empty: Buffer = Buffer.alloc(0);
/** Bytes allowed in a topic name (a-z A-Z 0-9 . _ -): ASCII, so valid UTF-8 too. */
const topicByte = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-') topicByte[c.charCodeAt(0)] = 1;

function topicAt(buf: Buffer, start: number, end: number): string | undefined {
  const length = end - start;
  if (length < 1 || length > 249) return undefined;
  for (let i = start; i < end; i++) if (topicByte[buf[i]!] === 0) return undefined;
  const topic = buf.toString('latin1', start, end);
  return topic === '.' || topic === '..' ? undefined : topic;
}

function stringAt(buf: Buffer, start: number, end: number): string | undefined {
  const view = buf.subarray(start, end);
  return isUtf8(view) ? view.toString('utf8') : undefined;
}

/** One metadata entry (key 1, value 2) into `into`; false when the general path must decide. */
function entryInto(buf: Buffer, start: number, end: number, into: Record<string, string>): boolean {
  const r = new WireReader(buf, start, end);
  let name = '';
  let value = '';
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === undefined) return false;
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 || field === 2) {
      if (wireType !== 2) return false;
      const s = r.span();
      if (s === undefined) return false;
      const text = stringAt(buf, s.start, s.end);
      if (text === undefined) return false;
      if (field === 1) name = text;
      else value = text;
    } else if (field === 0 || !r.skip(wireType)) return false;
  }
  if (name.length === 0 || name.length > limits.maxHeaderName || value.length > limits.maxHeaderValue || name === '__proto__') return false;
  into[name] = value;
  return true;
}

/** A PublishRequest's fields between `start` and `end`, validated as the handler's message schema does. */
function messageAt(buf: Buffer, start: number, end: number, maxPayload: number): MessageInput | undefined {
  const r = new WireReader(buf, start, end);
  let topic: string | undefined;
  let payload: Buffer = empty;
  let key: Buffer = empty;
  let messageId = '';
  let partition: number | undefined;
  const metadata: Record<string, string> = {};
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === undefined) return undefined;
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field >= 1 && field <= 6) {
      if (field === 5) {
        if (wireType !== 0) return undefined;
        const p = r.uint32();
        // int32 ≥ 0 only: a negative one (ten bytes) is refused by the schema, and the general path says so.
        if (p === undefined || p > 0x7fffffff) return undefined;
        partition = p;
        continue;
      }
      if (wireType !== 2) return undefined;
      const s = r.span();
      if (s === undefined) return undefined;
      if (field === 1) {
        // Refused at once even if a later occurrence would replace it: the general path checks every occurrence.
        topic = topicAt(buf, s.start, s.end);
        if (topic === undefined) return undefined;
      } else if (field === 2) payload = buf.subarray(s.start, s.end);
      else if (field === 3) {
        if (!entryInto(buf, s.start, s.end, metadata)) return undefined;
      } else if (field === 4) key = buf.subarray(s.start, s.end);
      else {
        const id = stringAt(buf, s.start, s.end);
        if (id === undefined) return undefined;
        messageId = id;
      }
    } else if (field === 0 || !r.skip(wireType)) return undefined;
  }
  if (topic === undefined || payload.length > maxPayload || key.length > limits.maxKey || messageId.length > limits.maxMessageId) return undefined;
  let headers = 0;
  for (const _name in metadata) if (++headers > limits.maxHeaders) return undefined;
  return partition === undefined ? { topic, payload, key, metadata, message_id: messageId } : { topic, payload, key, metadata, partition, message_id: messageId };
}

/** A PublishRequest, or undefined when the general path must decode it (and name what is wrong). */
export function decodePublish(buf: Buffer, maxPayload: number): MessageInput | undefined {
  return messageAt(buf, 0, buf.length, maxPayload);
}

/** A PublishBatchRequest's messages, or undefined when the general path must decode it. */
export function decodePublishBatch(buf: Buffer, maxPayload: number): { messages: MessageInput[] } | undefined {
  const r = new WireReader(buf);
  const messages: MessageInput[] = [];
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === undefined) return undefined;
    if (tag >>> 3 === 1) {
      if ((tag & 7) !== 2) return undefined;
      const s = r.span();
      if (s === undefined) return undefined;
      const message = messageAt(buf, s.start, s.end, maxPayload);
      if (message === undefined || messages.push(message) > maxBatch) return undefined;
    } else if (tag >>> 3 === 0 || !r.skip(tag & 7)) return undefined;
  }
  return messages.length === 0 ? undefined : { messages };
}
