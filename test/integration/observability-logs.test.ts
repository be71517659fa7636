import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

const run = promisify(execFile);
const grpcurl = (args: string[]) => run(join(inject('toolsBin'), 'grpcurl'), args)
  .then(({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));
let plugin: TestPlugin;

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
});
afterAll(() => plugin.close());

/** The captured JSON log lines that carry this request id. */
const linesOf = (requestId: string) => plugin.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.request_id === requestId);

describe('request logs through a real gRPC client (grpcurl)', () => {
  it('logs a failed request once, with operation, status, duration_ms, request_id and the traceparent trace id', async () => {
    const traceId = randomUUID().replaceAll('-', '');
    const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
    const res = await grpcurl(['-plaintext', '-v', '-H', `traceparent: ${traceparent}`, '-d', '{"topic":"bad/topic","payload":"aGk="}', plugin.address, 'prism.interfaces.queue.QueueBasicInterface/Publish']);
    expect(res.code).not.toBe(0);
    expect(res.out).toContain('InvalidArgument');
    // The caller gets the request id (response trailers) that finds the log line.
    const requestId = /x-request-id: (\S+)/.exec(res.out)?.[1];
    expect(requestId).toBeDefined();

    const lines = linesOf(requestId!);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'WARN', msg: 'request failed', operation: 'publish', status: 'INVALID_ARGUMENT', request_id: requestId, trace_id: traceId, service: 'prism-kafka-plugin' });
    expect(lines[0]!.duration_ms).toEqual(expect.any(Number));
    expect(String(lines[0]!.error)).toContain('bad/topic');
  });

  it('logs a successful request at debug only, with the caller\'s request id', async () => {
    const requestId = `obs-${randomUUID()}`;
    const res = await grpcurl(['-plaintext', '-H', `x-request-id: ${requestId}`, '-H', 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', plugin.address, 'grpc.health.v1.Health/Check']);
    expect(res.code).toBe(0);
    const hc = await grpcurl(['-plaintext', '-H', `x-request-id: ${requestId}`, '-H', 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', plugin.address, 'prism.interfaces.LifecycleInterface/HealthCheck']);
    expect(hc.code).toBe(0);
    const lines = linesOf(requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'DEBUG', msg: 'request finished', operation: 'health_check', status: 'OK', trace_id: '0af7651916cd43dd8448eb211c80319c' });
  });

  it('ignores a malformed traceparent rather than logging garbage as a trace id', async () => {
    const requestId = `obs-${randomUUID()}`;
    await grpcurl(['-plaintext', '-H', `x-request-id: ${requestId}`, '-H', 'traceparent: 00-not-a-trace-01', '-d', '{"topic":"bad/topic"}', plugin.address, 'prism.interfaces.queue.QueueBasicInterface/Publish']);
    const lines = linesOf(requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toHaveProperty('trace_id');
  });
});
