import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MethodDefinition } from '@grpc/grpc-js';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, type ConfigError } from '../../../../core/config/load.ts';
import { lifecycleOperations } from '../../../../adapters/grpc/lifecycle-operations.ts';
import { servedDefinitions } from '../../../../adapters/protos/services.ts';
import { jsonToStruct, structToJson, type ProtoStruct } from '../../../../adapters/grpc/struct.ts';
import { testContext } from '../../../support/context.ts';
import { fakeRuntime } from '../../../support/fake-runtime.ts';

const protoRoot = fileURLToPath(new URL('../../../../proto/', import.meta.url));
const initialize = (servedDefinitions()['prism.interfaces.LifecycleInterface'] as Record<string, MethodDefinition<object, object>>).Initialize!;

/** The config Struct exactly as the server decodes it after protobuf encoding: every number travels as a double. */
function overTheWire(config: Record<string, unknown>): Record<string, unknown> {
  const request = initialize.requestDeserialize(initialize.requestSerialize({ name: 'kafka', version: '0.1.0', config: jsonToStruct(config) })) as { config: ProtoStruct };
  return structToJson(request.config);
}

function setup(env: Record<string, string> = {}) {
  const { runtime, sources } = fakeRuntime(env);
  return { runtime, ops: lifecycleOperations({ runtime, sources, defaultTimeoutMs: 1_000 }) };
}

describe('Initialize: every upstream spelling, numbers as doubles (prism-contracts.md §6)', () => {
  it.each([
    ['snake_case', { brokers: 'k1:9092,k2:9092', topic: 'orders', consumer_group: 'g1', auto_offset_reset: 'latest', sasl_mechanism: 'SCRAM-SHA-256', sasl_username: 'u', sasl_password: 'p', compression: 'zstd', acks: '1' },
      { brokers: ['k1:9092', 'k2:9092'], topic: 'orders', consumerGroup: 'g1', autoOffsetReset: 'latest', compression: 'zstd', acks: '1', sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' } }],
    ['all-lowercase', { brokers: ['k1:9092'], consumergroup: 'g2', autooffsetreset: 'earliest', saslmechanism: 'scram_sha_512', saslusername: 'u2', saslpassword: 'p2' },
      { consumerGroup: 'g2', autoOffsetReset: 'earliest', sasl: { mechanism: 'SCRAM-SHA-512', username: 'u2', password: 'p2' } }],
    ['connection URL and group_id', { connection: 'kafka://b1:9092,b2:9092', group_id: 'g3' }, { brokers: ['b1:9092', 'b2:9092'], consumerGroup: 'g3' }],
    ['RFC-011 connection object', { connection: { brokers: ['r1:9093'], security_protocol: 'SASL_SSL', sasl_mechanism: 'PLAIN' } },
      { brokers: ['r1:9093'], securityProtocol: 'SASL_SSL', sasl: { mechanism: 'PLAIN' } }],
    ['admin plane: connection_string, credentials, driver_options', { connection_string: 'a1:9092', credentials: { username: 'svc', password: 'pw' }, driver_options: { topic: 'audit', compression: 'lz4' } },
      { brokers: ['a1:9092'], topic: 'audit', compression: 'lz4', sasl: { username: 'svc', password: 'pw' } }],
    ['numbers as doubles', { max_message_bytes: 2048, request_timeout_ms: 1500, connect_timeout_ms: 250, acks: -1 }, { maxMessageBytes: 2048, requestTimeoutMs: 1500, connectTimeoutMs: 250, acks: 'all' }],
    ['acks 1 as a number', { acks: 1 }, { acks: '1' }],
    ['the proxy\'s own sections are ignored', { topic: 'with-slots', slots: { storage: { backend: 'kafka' } }, behavior: { batch: 10 }, name: 'p', version: '1' }, { topic: 'with-slots' }],
  ])('%s', async (_name, config, expected) => {
    const { runtime, ops } = setup();
    const res = await ops.initialize(overTheWire(config), testContext());
    expect(res).toMatchObject({ success: true, error: '' });
    expect(runtime.deps.config.kafka).toMatchObject(expected);
  });

  it('answers bad config in-band with the very message start-up prints, and keeps the running config', async () => {
    const { runtime, ops } = setup();
    const before = runtime.deps;
    const res = await ops.initialize(overTheWire({ compression: 'brotli', brokers: ':::' }), testContext());
    expect(res.success).toBe(false);
    // Start-up with the same values from the environment: same header, same problems, only the source differs.
    let startup = '';
    try {
      loadConfig({ env: { KAFKA_COMPRESSION: 'brotli', KAFKA_BROKERS: ':::' } });
    } catch (err) {
      startup = (err as ConfigError).message;
    }
    const problems = (text: string) => text.split('\n').map((l) => l.replace(/^ {2}- (env [A-Z_]+|Initialize config\.[a-z_]+)/, '  - <source>'));
    expect(startup).toMatch(/^invalid configuration \(2 problems\):/);
    expect(problems(res.error)).toEqual(problems(startup));
    expect(res.error).toContain('Initialize config.compression: expected one of none, gzip, snappy, lz4, zstd, got "brotli"');
    expect(runtime.deps).toBe(before);
    // A double where a whole number is expected is named as such.
    const fraction = await ops.initialize(overTheWire({ max_message_bytes: 1.5 }), testContext());
    expect(fraction.error).toContain('Initialize config.max_message_bytes: expected a positive number of bytes, got 1.5');
  });

  it('keeps the clients when the config did not change, and closes the old ones when it did', async () => {
    const { runtime, ops } = setup({ KAFKA_TOPIC: 'same' });
    const first = runtime.deps;
    const close = vi.spyOn(first, 'close');
    await ops.initialize(overTheWire({ topic: 'same' }), testContext());
    expect(runtime.deps).toBe(first);
    await ops.initialize(overTheWire({ topic: 'changed' }), testContext());
    expect(runtime.deps).not.toBe(first);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('refuses to initialize or start a stopped plugin, in-band', async () => {
    const { runtime, ops } = setup();
    await runtime.stop(100, 'test');
    expect(await ops.initialize({ topic: 'x' }, testContext())).toMatchObject({ success: false, error: expect.stringContaining('stopping') });
    expect(ops.start()).toMatchObject({ success: false });
  });
});

describe('Initialize metadata: interface declarations', () => {
  it('declares each data interface under upstream\'s names, with the SHA-256 of the proto file it ships', async () => {
    const { ops } = setup();
    const { metadata } = await ops.initialize({}, testContext());
    const byName = new Map(metadata!.interfaces.map((i) => [i.name, i]));
    for (const name of ['QueueBasicInterface', 'QueueInterface', 'PubSubBasicInterface', 'PubSubInterface', 'prism.interfaces.queue.QueueBasicInterface', 'prism.interfaces.pubsub.PubSubBasicInterface']) {
      expect(byName.has(name)).toBe(true);
    }
    for (const declared of metadata!.interfaces) {
      const digest = createHash('sha256').update(readFileSync(`${protoRoot}${declared.proto_file}`)).digest('hex');
      expect({ name: declared.name, hash: declared.proto_hash, version: declared.version }).toEqual({ name: declared.name, hash: digest, version: 'v1' });
    }
    expect(byName.get('QueueInterface')!.proto_file).toBe('prism/interfaces/queue/queue_basic.proto');
  });
});

describe('Drain, Stop and HealthCheck answers', () => {
  it('report counts as int64 strings and use the default timeout when given 0', async () => {
    const { runtime, ops } = setup();
    const drain = vi.spyOn(runtime, 'drain');
    expect(await ops.drain({ timeout_seconds: 0, reason: '' }, testContext())).toEqual({ success: true, error: '', drained_operations: '0', aborted_operations: '0' });
    expect(drain).toHaveBeenCalledWith(1_000, 'drain requested');
    expect(await ops.healthCheck(testContext())).toMatchObject({ status: 'HEALTH_STATUS_DEGRADED', message: 'draining: drain requested', details: { producer_queue: '0' } });
    expect(await ops.stop({ timeout_seconds: 2 }, testContext())).toEqual({ success: true, error: '' });
  });
});
