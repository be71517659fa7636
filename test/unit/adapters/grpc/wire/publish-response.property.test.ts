import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { servedDefinitions } from '../../../../../adapters/protos/services.ts';
import { encodePublishBatchResponse, encodePublishResponse } from '../../../../../adapters/grpc/wire/publish-response.ts';

let node: unknown = loadPackageDefinition(servedDefinitions());
for (const part of 'prism.interfaces.queue.QueueBasicInterface'.split('.')) node = (node as Record<string, unknown>)[part];
const service = (node as { service: ServiceDefinition }).service;
const Publish = service.Publish!;
const PublishBatch = service.PublishBatch!;

const text = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('', 'ü€😀', 'x'.repeat(200)));
const result = fc.record({
  message_id: text,
  topic: text,
  partition: fc.oneof(fc.integer({ min: 0, max: 0x7fffffff }), fc.constant(-1)),
  offset: fc.oneof(fc.constant(''), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String)),
  timestamp: fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, 1_700_000_000_000, -1)),
});
const item = fc.record({
  index: fc.integer({ min: 0, max: 10_000 }),
  success: fc.boolean(),
  result: fc.option(result, { nil: undefined }),
  error_code: fc.option(text, { nil: undefined }),
  error: fc.option(text, { nil: undefined }),
}, { requiredKeys: ['index', 'success'] });

describe('hand-written publish response encoders', () => {
  it('PublishResponse: decodes to what the general encoder writes, or leaves a value it cannot vouch for to it', () => {
    fc.assert(fc.property(result, (r) => {
      const ours = encodePublishResponse(r);
      if (r.partition < 0 || r.timestamp < 0) {
        expect(ours).toBeUndefined();
        return;
      }
      expect(Publish.responseDeserialize(ours!)).toEqual(Publish.responseDeserialize(Publish.responseSerialize(r)));
    }), { numRuns: 2000, seed: 20261203 });
  }, 60_000);

  it('PublishBatchResponse: the same for result lists of any shape', () => {
    fc.assert(fc.property(fc.array(item, { maxLength: 6 }), (results) => {
      const ours = encodePublishBatchResponse({ results });
      const unsafe = results.some((i) => i.result !== undefined && (i.result.partition < 0 || i.result.timestamp < 0));
      if (unsafe) {
        expect(ours).toBeUndefined();
        return;
      }
      expect(PublishBatch.responseDeserialize(ours!)).toEqual(PublishBatch.responseDeserialize(PublishBatch.responseSerialize({ results })));
    }), { numRuns: 1000, seed: 20261203 });
  }, 60_000);
});
