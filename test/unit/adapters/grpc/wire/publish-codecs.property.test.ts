import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { servedDefinitions } from '../../../../../adapters/protos/services.ts';
import { assertDecoded, lenientDecoding } from '../../../../../adapters/grpc/strict-decode.ts';
import { withHotCodecs } from '../../../../../adapters/grpc/wire/hot-codecs.ts';
import { decodePublish, decodePublishBatch } from '../../../../../adapters/grpc/wire/publish-request.ts';
import { isPluginError } from '../../../../../core/errors.ts';
import type { ProducerPort } from '../../../../../core/kafka/producer-port.ts';
import { createMetrics } from '../../../../../core/metrics/metrics.ts';
import { publish } from '../../../../../handlers/publish.ts';
import { publishBatch } from '../../../../../handlers/publish-batch.ts';
import { testContext } from '../../../../support/context.ts';

// The general path as the server had it before the hot codecs: wire check + protobufjs, then the handler's zod.
let node: unknown = loadPackageDefinition(servedDefinitions());
for (const part of 'prism.interfaces.queue.QueueBasicInterface'.split('.')) node = (node as Record<string, unknown>)[part];
const general = lenientDecoding((node as { service: ServiceDefinition }).service);
const limits = { maxMessageBytes: 64 };
const hot = withHotCodecs(general, () => limits);

// A producer that acknowledges at once, and fixed ids: both paths must answer exactly alike.
const producer: ProducerPort = {
  produce: (records) => Promise.resolve(records.map((r, i) => ({ ok: true as const, ack: { topic: r.topic, partition: r.partition ?? i % 3, offset: String(i), timestamp: 1_700_000_000_000 } }))),
  pending: () => 0,
  close: () => Promise.resolve(),
};
const deps = () => ({ producer, metrics: createMetrics({ namespace: 't', defaultMetrics: false }), limits, newId: () => 'generated-id' });

/** What a caller gets from one path: the answer (its bytes, through the method's encoder) or the error's code and text. */
async function answer(definition: ServiceDefinition, method: 'Publish' | 'PublishBatch', bytes: Buffer) {
  const m = definition[method]!;
  const handler = method === 'Publish' ? publish : publishBatch;
  try {
    const request: unknown = m.requestDeserialize(bytes);
    assertDecoded(request);
    const response = await handler(deps(), request, testContext());
    return { ok: general[method]!.responseDeserialize(m.responseSerialize(response)) as unknown };
  } catch (err) {
    return isPluginError(err) ? { code: err.code, message: err.message, violations: err.violations } : { thrown: String(err) };
  }
}

const topicChar = fc.constantFrom(...'abcXYZ09._-', 'é', ' ', '/');
const topic = fc.oneof(fc.string({ unit: topicChar, minLength: 0, maxLength: 6 }), fc.constantFrom('orders', '.', '..', 'a'.repeat(249), 'a'.repeat(250)));
const bytesUpTo = (n: number) => fc.uint8Array({ maxLength: n }).map((a) => Buffer.from(a));
const headerName = fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom('', '__proto__', 'prism-message-id', 'n'.repeat(257), 'ü'));
const metadata = fc.dictionary(headerName, fc.oneof(fc.string({ maxLength: 5 }), fc.constant('v'.repeat(16_385))), { maxKeys: 4 });
const message = fc.record({
  topic,
  payload: bytesUpTo(70),
  key: fc.oneof(bytesUpTo(4), fc.constant(Buffer.alloc(16_385))),
  metadata: fc.oneof(metadata, fc.constant(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, 'v'])))),
  partition: fc.option(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(-1, 2 ** 31 - 1, -(2 ** 31))), { nil: undefined }),
  message_id: fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom('x'.repeat(128), 'x'.repeat(129), 'ß'.repeat(100))),
}, { requiredKeys: ['topic'] });
/** Bytes of a request, sometimes damaged: a byte changed, cut short, or an unknown field appended. */
const damaged = (bytes: fc.Arbitrary<Buffer>) => fc.tuple(bytes, fc.nat(), fc.nat(255), fc.constantFrom('none', 'flip', 'cut', 'unknown', 'bad-utf8')).map(([b, at, value, how]) => {
  if (b.length === 0 || how === 'none') return b;
  const out = Buffer.from(b);
  if (how === 'flip') out[at % out.length] = value;
  if (how === 'cut') return out.subarray(0, at % out.length);
  if (how === 'unknown') return Buffer.concat([out, Buffer.from([0x78, value & 0x7f])]);
  if (how === 'bad-utf8') out[at % out.length] = 0xff;
  return out;
});
const encoded = (method: 'Publish' | 'PublishBatch', arb: fc.Arbitrary<unknown>) => arb.map((r) => general[method]!.requestSerialize(r));
const single = encoded('Publish', message);
const batch = encoded('PublishBatch', fc.record({ messages: fc.array(message, { maxLength: 4 }) }));

describe('hot publish codecs against the general path', () => {
  it('Publish: every request (valid, invalid, damaged) gets exactly the answer or error of the general path', async () => {
    await fc.assert(fc.asyncProperty(damaged(single), async (bytes) => {
      expect(await answer(hot, 'Publish', bytes)).toEqual(await answer(general, 'Publish', bytes));
    }), { numRuns: 1500, seed: 20261203 });
  }, 60_000);

  it('PublishBatch: the same, message lists included', async () => {
    await fc.assert(fc.asyncProperty(damaged(batch), async (bytes) => {
      expect(await answer(hot, 'PublishBatch', bytes)).toEqual(await answer(general, 'PublishBatch', bytes));
    }), { numRuns: 800, seed: 20261203 });
  }, 60_000);

  it('takes the one-pass decoder for every valid request (the general path only explains refusals)', async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(single, async (bytes) => {
      const generalAnswer = await answer(general, 'Publish', bytes);
      const fast = decodePublish(bytes, limits.maxMessageBytes);
      // A `__proto__` header is the one thing left to the general path even when valid (protobufjs drops it).
      expect(fast !== undefined).toBe('ok' in generalAnswer && !bytes.includes('__proto__'));
      if (fast !== undefined) accepted++;
    }), { numRuns: 1500, seed: 7 });
    await fc.assert(fc.asyncProperty(batch, async (bytes) => {
      const accepts = 'ok' in (await answer(general, 'PublishBatch', bytes)) && !bytes.includes('__proto__');
      expect(decodePublishBatch(bytes, limits.maxMessageBytes) !== undefined).toBe(accepts);
    }), { numRuns: 500, seed: 7 });
    // The generator must produce valid requests often enough for the property to mean something.
    expect(accepted).toBeGreaterThan(50);
  }, 60_000);

  it('gives payloads and keys as views of the request bytes (no copies)', () => {
    const bytes = general.Publish!.requestSerialize({ topic: 'orders', payload: Buffer.from('hello'), key: Buffer.from('k') });
    const decoded = decodePublish(bytes, 64)!;
    expect(decoded.payload.buffer).toBe(bytes.buffer);
    expect(decoded.key!.buffer).toBe(bytes.buffer);
    expect(decoded.payload.toString()).toBe('hello');
  }, 60_000);
});
