import { describe, expect, it } from 'vitest';
import { FunctionError } from '../../../../adapters/function/errors.ts';
import { eventHandler } from '../../../../adapters/function/handler.ts';
import type { HttpResponse } from '../../../../adapters/function/http-event.ts';
import { invocationStart } from '../../../../adapters/function/invocation.ts';
import { openCall } from '../../../../core/call/pipeline.ts';
import { PluginError } from '../../../../core/errors.ts';
import { testContext } from '../../../support/context.ts';
import { fakeFunctionRuntime as fakeRuntime, lambdaContext } from '../../../support/fake-runtime.ts';

const thrown = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a FunctionError'); }, (e: unknown) => e as FunctionError);

describe('direct invocation', () => {
  it('publishes with a proto3 JSON request and answers with the proto3 JSON response', async () => {
    const { runtime, log } = fakeRuntime();
    const handler = eventHandler(runtime);
    const res = await handler({ operation: 'publish', request: { topic: 'orders', payload: Buffer.from('hi').toString('base64'), messageId: 'm-1', metadata: { a: 'b' } } }, lambdaContext());
    expect(res).toEqual({ messageId: 'm-1', topic: 'orders', partition: expect.any(Number) as number, offset: '0', timestamp: '1700000000000' });
    const stored = log.get('orders').partitions.flat();
    expect(stored.map((r) => r.value.toString())).toEqual(['hi']);
  });

  it('accepts the operation in any spelling: publish_batch, publish-batch, PublishBatch', async () => {
    const handler = eventHandler(fakeRuntime().runtime);
    for (const operation of ['publish_batch', 'publish-batch', 'PublishBatch']) {
      const res = await handler({ operation, request: { messages: [{ topic: 'orders', payload: 'eA==' }] } }, lambdaContext()) as { results: { success: boolean }[] };
      expect(res.results.map((r) => r.success)).toEqual([true]);
    }
  });

  it('throws a FunctionError named by the error code, with the request id, for bad input', async () => {
    const handler = eventHandler(fakeRuntime().runtime);
    const context = lambdaContext();
    const err = await thrown(handler({ operation: 'publish', request: { topic: 'a/b', payload: 'eA==' } }, context));
    expect(err).toBeInstanceOf(FunctionError);
    expect(err).toMatchObject({ name: 'INVALID_ARGUMENT', code: 'INVALID_ARGUMENT', request_id: context.awsRequestId, retryable: false });
    expect(err.message).toContain('topic: expected a topic name');
  });

  it('answers NOT_FOUND for an unknown operation, and explains what a Kafka event batch needs', async () => {
    const handler = eventHandler(fakeRuntime().runtime);
    expect(await thrown(handler({ operation: 'nack', request: {} }, lambdaContext()))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await thrown(handler({ hello: 1 }, lambdaContext()))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const kafka = await thrown(handler({ eventSource: 'aws:kafka', records: {} }, lambdaContext()));
    expect(kafka).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(kafka.message).toContain('createKafkaEventHandler');
  });

  it('hides internal details from the caller and logs them with the request id', async () => {
    const f = fakeRuntime();
    f.producer.fail = () => new Error('socket 10.0.0.7:9092 reset');
    const context = lambdaContext();
    const err = await thrown(eventHandler(f.runtime)({ operation: 'publish', request: { topic: 'orders', payload: 'eA==' } }, context));
    expect(err).toMatchObject({ code: 'INTERNAL', message: `internal error (request ${context.awsRequestId})` });
    expect(f.logs().find((l) => l.status === 'INTERNAL')).toMatchObject({ level: 'ERROR', request_id: context.awsRequestId, operation: 'publish' });
  });

  it('answers health as LifecycleInterface.HealthCheck does', async () => {
    const f = fakeRuntime();
    const handler = eventHandler(f.runtime);
    expect(await handler({ operation: 'health' }, lambdaContext())).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY', details: { brokers_reachable: 'true' } });
    f.kafka.reachable = false;
    expect(await handler({ operation: 'HealthCheck' }, lambdaContext())).toMatchObject({ status: 'HEALTH_STATUS_UNHEALTHY' });
  });
});

describe('HTTP invocation', () => {
  const http = (rawPath: string, body: unknown, headers: Record<string, string> = {}) => ({
    version: '2.0', rawPath, headers, requestContext: { http: { method: 'POST', path: rawPath }, requestId: 'apigw-1' },
    body: typeof body === 'string' ? body : JSON.stringify(body), isBase64Encoded: false,
  });

  it('takes the operation from the path (v2 / function URL) and answers 200 with the JSON body', async () => {
    const handler = eventHandler(fakeRuntime().runtime);
    const res = await handler(http('/prod/prism.interfaces.queue.QueueBasicInterface/Publish', { topic: 'orders', payload: 'eA==' }, { 'x-request-id': 'mine' }), lambdaContext()) as HttpResponse;
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'content-type': 'application/json', 'x-request-id': 'mine' });
    expect(JSON.parse(res.body)).toMatchObject({ topic: 'orders', offset: '0' });
  });

  it('takes an envelope body on any other path, and API Gateway v1 events with base64 bodies', async () => {
    const handler = eventHandler(fakeRuntime().runtime);
    const envelope = await handler(http('/', { operation: 'append', request: { topic: 'orders', payload: 'eA==' } }), lambdaContext()) as HttpResponse;
    expect(envelope.statusCode).toBe(200);
    const v1 = await handler({
      httpMethod: 'POST', path: '/v1/publish-batch', headers: { 'X-Request-Id': 'v1-id' }, requestContext: { requestId: 'gw' },
      body: Buffer.from(JSON.stringify({ messages: [{ topic: 'orders', payload: 'eA==' }] })).toString('base64'), isBase64Encoded: true,
    }, lambdaContext()) as HttpResponse;
    expect(v1.statusCode).toBe(200);
    expect(v1.headers['x-request-id']).toBe('v1-id');
  });

  it('answers errors with the status of the one error table and {code, message, request_id}', async () => {
    const handler = eventHandler(fakeRuntime().runtime);
    const context = lambdaContext();
    const bad = await handler(http('/publish', { topic: 'orders', payload: 42 }), context) as HttpResponse;
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['x-prism-error-code']).toBe('INVALID_ARGUMENT');
    expect(JSON.parse(bad.body)).toEqual({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('payload: expected bytes as a base64 string') as string, request_id: context.awsRequestId });
    expect((await handler(http('/publish', 'not json'), lambdaContext()) as HttpResponse).statusCode).toBe(400);
    expect((await handler(http('/nope', {}), lambdaContext()) as HttpResponse).statusCode).toBe(404);
    const missing = await handler(http('/query', { topic: 'no-such-topic' }), lambdaContext()) as HttpResponse;
    expect([missing.statusCode, JSON.parse(missing.body).code]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('the connection cache in the runtime', () => {
  it('builds the connections once for concurrent first invocations and 1,000 warm ones', async () => {
    const { runtime } = fakeRuntime();
    const handler = eventHandler(runtime);
    await Promise.all(Array.from({ length: 20 }, () => handler({ operation: 'health' }, lambdaContext())));
    for (let i = 0; i < 1_000; i++) await handler({ operation: 'publish', request: { topic: 'orders', payload: 'eA==' } }, lambdaContext());
    expect(runtime.cacheStats).toEqual({ builds: 1, failedBuilds: 0, disposals: 0 });
  });

  it('builds again after a failed build, and after refused credentials (new config, new clients)', async () => {
    let attempt = 0;
    const f = fakeRuntime({
      config: async () => {
        attempt++;
        if (attempt === 1) throw new Error('secret store unreachable');
        const { loadConfig } = await import('../../../../core/config/load.ts');
        return loadConfig({ env: { KAFKA_BROKERS: 'fake:9092', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: `password-${attempt}` } });
      },
    });
    const handler = eventHandler(f.runtime);
    expect(await thrown(handler({ operation: 'health' }, lambdaContext()))).toMatchObject({ code: 'INTERNAL' });
    await handler({ operation: 'health' }, lambdaContext());
    expect(f.runtime.cacheStats).toEqual({ builds: 2, failedBuilds: 1, disposals: 0 });
    f.producer.fail = () => new PluginError('UNAUTHENTICATED', 'produce failed: SASL_AUTHENTICATION_FAILED');
    expect(await thrown(handler({ operation: 'publish', request: { topic: 'orders', payload: 'eA==' } }, lambdaContext()))).toMatchObject({ code: 'UNAUTHENTICATED' });
    f.producer.fail = () => undefined;
    await handler({ operation: 'health' }, lambdaContext());
    expect(f.runtime.cacheStats).toMatchObject({ builds: 3, disposals: 1 });
    expect(attempt).toBe(3);
  });

  it('does not rebuild on UNAVAILABLE: the clients reconnect by themselves when the broker returns', async () => {
    const f = fakeRuntime();
    const handler = eventHandler(f.runtime);
    f.producer.fail = () => new PluginError('UNAVAILABLE', 'produce failed: Connection to fake:9092 failed.');
    expect(await thrown(handler({ operation: 'publish', request: { topic: 'orders', payload: 'eA==' } }, lambdaContext()))).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    f.producer.fail = () => undefined;
    await handler({ operation: 'publish', request: { topic: 'orders', payload: 'eA==' } }, lambdaContext());
    expect(f.runtime.cacheStats.builds).toBe(1);
  });

  it('closes the connections on shutdown and refuses later invocations with UNAVAILABLE', async () => {
    const f = fakeRuntime();
    const handler = eventHandler(f.runtime);
    await handler({ operation: 'health' }, lambdaContext());
    await f.runtime.close();
    expect(f.logs().some((l) => l.msg === 'kafka connections closed')).toBe(true);
    expect(await thrown(handler({ operation: 'health' }, lambdaContext()))).toMatchObject({ code: 'UNAVAILABLE' });
  });
});

describe('the invocation deadline', () => {
  it('is the time Lambda has left minus the safety margin (at most a fifth of it), and aborts the call then', async () => {
    const log = testContext().log;
    const long = openCall(invocationStart({ getRemainingTimeInMillis: () => 10_000 }, 'publish', { safetyMarginMs: 500 }), { log });
    expect(long.ctx.deadline! - Date.now()).toBeGreaterThan(9_400);
    expect(long.ctx.deadline! - Date.now()).toBeLessThanOrEqual(9_500);
    long.end();
    const short = openCall(invocationStart({ getRemainingTimeInMillis: () => 100, awsRequestId: 'aws-1' }, 'publish', { safetyMarginMs: 500 }), { log });
    expect(short.ctx.requestId).toBe('aws-1');
    expect(short.ctx.deadline! - Date.now()).toBeLessThanOrEqual(80);
    await new Promise((r) => setTimeout(r, 120));
    expect(short.ctx.signal.aborted).toBe(true);
    expect(short.errorOf(new Error('cut short'))).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    short.end();
    expect(invocationStart(undefined, 'publish', { safetyMarginMs: 500 }).deadline).toBeUndefined();
  });
});
