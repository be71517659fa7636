import type { BatchItemResult } from '../../../handlers/publish-batch.ts';
import type { PublishResult } from '../../../handlers/publish.ts';
import { lengthFieldSize, varintFieldSize, WireWriter } from './writer.ts';

/**
 * Hand-written encoders of PublishResponse and PublishBatchResponse (queue_basic.proto), the answers of the hot
 * path: the same bytes a proto3 encoder writes for these values (defaults left out), with no per-field objects.
 * They take what the handlers return; a value outside what they vouch for (a negative or unsafe number) gives
 * `undefined`, and the general encoder answers instead. Pinned by a test that decodes both encodings.
 */

const countable = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const int32 = (n: unknown): n is number => countable(n) && n <= 0x7fffffff;

interface Sized {
  size: number;
  /** UTF-8 lengths of message_id, topic, offset. */
  lengths: [number, number, number];
}

function sizeOf(r: PublishResult): Sized | undefined {
  if (!int32(r.partition) || !countable(r.timestamp)) return undefined;
  const lengths: Sized['lengths'] = [Buffer.byteLength(r.message_id), Buffer.byteLength(r.topic), Buffer.byteLength(r.offset)];
  let size = varintFieldSize(r.partition) + varintFieldSize(r.timestamp);
  for (const length of lengths) if (length > 0) size += lengthFieldSize(length);
  return { size, lengths };
}

function writeResult(w: WireWriter, r: PublishResult, { lengths }: Sized): void {
  w.stringField(1, r.message_id, lengths[0]);
  w.stringField(2, r.topic, lengths[1]);
  w.varintField(3, r.partition);
  w.stringField(4, r.offset, lengths[2]);
  w.varintField(5, r.timestamp);
}

export function encodePublishResponse(r: PublishResult): Buffer | undefined {
  const sized = sizeOf(r);
  if (sized === undefined) return undefined;
  const w = new WireWriter(sized.size);
  writeResult(w, r, sized);
  return w.buf;
}

interface SizedItem {
  size: number;
  result?: Sized;
  lengths: [number, number];
}

export function encodePublishBatchResponse(response: { results: BatchItemResult[] }): Buffer | undefined {
  const items: SizedItem[] = [];
  let total = 0;
  for (const item of response.results) {
    if (!int32(item.index)) return undefined;
    const lengths: SizedItem['lengths'] = [Buffer.byteLength(item.error_code ?? ''), Buffer.byteLength(item.error ?? '')];
    let size = varintFieldSize(item.index) + (item.success ? 2 : 0);
    let result: Sized | undefined;
    if (item.result !== undefined) {
      result = sizeOf(item.result);
      if (result === undefined) return undefined;
      size += lengthFieldSize(result.size);
    }
    for (const length of lengths) if (length > 0) size += lengthFieldSize(length);
    items.push(result === undefined ? { size, lengths } : { size, result, lengths });
    total += lengthFieldSize(size);
  }
  const w = new WireWriter(total);
  for (let i = 0; i < items.length; i++) {
    const item = response.results[i]!;
    const sized = items[i]!;
    w.messageHeader(1, sized.size);
    w.varintField(1, item.index);
    if (item.success) w.varintField(2, 1);
    if (item.result !== undefined) {
      w.messageHeader(3, sized.result!.size);
      writeResult(w, item.result, sized.result!);
    }
    w.stringField(4, item.error_code ?? '', sized.lengths[0]);
    w.stringField(5, item.error ?? '', sized.lengths[1]);
  }
  return w.buf;
}
