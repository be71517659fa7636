import type { MethodDefinition } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { answerCommand } from '../../../../adapters/grpc/callback/commands.ts';
import { controlPlaneService, type PatternMessage, type ProxyCommand } from '../../../../adapters/grpc/callback/proto.ts';
import { lifecycleOperations } from '../../../../adapters/grpc/lifecycle-operations.ts';
import { jsonToStruct } from '../../../../adapters/grpc/struct.ts';
import { testContext } from '../../../support/context.ts';
import { fakeRuntime } from '../../../support/fake-runtime.ts';

const manage = controlPlaneService().service.ManagePattern as MethodDefinition<PatternMessage, ProxyCommand>;
/** A command as the plugin decodes it off the wire (the proxy's bytes), and an answer as the proxy decodes it. */
const decoded = (cmd: ProxyCommand) => manage.responseDeserialize(manage.responseSerialize(cmd));
const onTheWire = (msg: PatternMessage | undefined) => (msg === undefined ? undefined : manage.requestDeserialize(manage.requestSerialize(msg)));

function setup() {
  const { runtime, sources } = fakeRuntime();
  const ops = lifecycleOperations({ runtime, sources, defaultTimeoutMs: 1_000 });
  return { runtime, answer: async (cmd: ProxyCommand) => onTheWire(await answerCommand(decoded(cmd), testContext(), { ops, dataEndpoint: 'localhost:9300' })) };
}

describe('callback mode: one answer per proxy command, with its correlation id', () => {
  it('initialize → initialize_response (the Struct reconfigures), bad config in-band', async () => {
    const { runtime, answer } = setup();
    const ok = await answer({ correlation_id: 'c1', command: 'initialize', initialize: { name: 'kafka', version: '0.1.0', config: jsonToStruct({ topic: 'via-proxy' }) } });
    expect(ok).toMatchObject({ correlation_id: 'c1', initialize_response: { success: true, metadata: { name: 'kafka' } } });
    expect(runtime.deps.config.kafka.topic).toBe('via-proxy');
    const bad = await answer({ correlation_id: 'c2', command: 'initialize', initialize: { name: 'kafka', version: '0.1.0', config: jsonToStruct({ acks: 'some' }) } });
    expect(bad).toMatchObject({ correlation_id: 'c2', initialize_response: { success: false, error: expect.stringContaining('Initialize config.acks: expected one of all, 1, 0') } });
  });

  it('start → start_response naming where the data services are (the proxy dialled nothing)', async () => {
    const { answer } = setup();
    expect(await answer({ correlation_id: 's', command: 'start', start: {} })).toEqual({ correlation_id: 's', message: 'start_response', start_response: { success: true, error: '', data_endpoint: 'localhost:9300' } });
  });

  it('health_check → health_response; drain → drain_response with counts', async () => {
    const { answer } = setup();
    expect(await answer({ correlation_id: 'h', command: 'health_check', health_check: {} })).toMatchObject({ correlation_id: 'h', health_response: { status: 'HEALTH_STATUS_HEALTHY', details: { topic: 'events' } } });
    expect(await answer({ correlation_id: 'd', command: 'drain', drain: { timeout_seconds: 1, reason: 'proxy' } })).toEqual({
      correlation_id: 'd', message: 'drain_response', drain_response: { success: true, error: '', drained_operations: '0', aborted_operations: '0' },
    });
  });

  it('stop and shutdown → stop_response (shutdown drains and stops with its reason)', async () => {
    const { runtime, answer } = setup();
    expect(await answer({ correlation_id: 'x', command: 'shutdown', shutdown: { timeout_seconds: 1, reason: 'rolling update' } })).toEqual({ correlation_id: 'x', message: 'stop_response', stop_response: { success: true, error: '' } });
    expect(runtime.stopping).toBe(true);
    expect(runtime.deps.health.report().message).toBe('draining: rolling update');
    expect(await answer({ correlation_id: 'y', command: 'stop', stop: { timeout_seconds: 1 } })).toEqual({ correlation_id: 'y', message: 'stop_response', stop_response: { success: true, error: '' } });
  });

  it('a command it does not know gets its correlation id back; a late register_ack gets nothing', async () => {
    const { answer } = setup();
    expect(await answer({ correlation_id: 'u' })).toEqual({ correlation_id: 'u' });
    expect(await answer({ correlation_id: 'r', command: 'register_ack', register_ack: { success: true, error: '', instance_id: 'i' } })).toBeUndefined();
  });
});
