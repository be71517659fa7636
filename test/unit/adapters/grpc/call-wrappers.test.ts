import { EventEmitter } from 'node:events';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { serverStream } from '../../../../adapters/grpc/server-stream.ts';
import { unary } from '../../../../adapters/grpc/unary.ts';
import { fakeRuntime } from '../../../support/fake-runtime.ts';
import { PluginError } from '../../../../core/errors.ts';

// The guarantees of the gRPC call wrappers, with grpc-js's call objects stood in by the few members the wrappers use:
// answer exactly once with the mapped status, end streams when Drain begins, wait for `drain` when a write is refused.

/** The real Runtime on the shared fakes; `drain()` runs its Drain (which streams marked endOnDrain must notice). */
const started: { stop(ms: number, reason: string): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.stop(500, 'test finished')));
});

function setup() {
  const { runtime } = fakeRuntime();
  started.push(runtime);
  return { runtime, drain: () => void runtime.drain(1_000, 'test drain') };
}

/** A server-streaming call: records writes, can refuse them (a full buffer) until `drain` is emitted. */
class FakeStreamCall extends EventEmitter {
  readonly metadata = new Metadata();
  readonly request = {};
  readonly written: unknown[] = [];
  errors: Partial<ServiceError>[] = [];
  ended = 0;
  full = false;
  getDeadline = () => Infinity;
  getPath = () => '/prism.test.Service/Stream';
  sendMetadata = () => undefined;
  write(message: unknown): boolean {
    this.written.push(message);
    return !this.full;
  }
  end(): void {
    this.ended++;
  }
  constructor() {
    super();
    this.on('error', (e: Partial<ServiceError>) => this.errors.push(e));
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('unary', () => {
  it('takes the cancelled event grpc-js emits at every close as a cancellation only while the call runs', async () => {
    const { runtime } = setup();
    const signals: AbortSignal[] = [];
    const handler = unary(runtime, 'publish', (_req, ctx) => {
      signals.push(ctx.signal);
      return Promise.resolve({});
    }, { data: true });
    const call = Object.assign(new EventEmitter(), { metadata: new Metadata(), request: {}, getDeadline: () => Infinity, getPath: () => '/prism.test.Service/Unary' });
    await new Promise<void>((resolve) => handler(call as never, () => resolve()));
    call.emit('cancelled');
    expect(signals[0]!.aborted).toBe(false);
  });

  it('answers a rejected handler exactly once, with the status of the one error table', async () => {
    const { runtime } = setup();
    const answers: [Partial<ServiceError> | null, unknown][] = [];
    const handler = unary(runtime, 'publish', () => Promise.reject(new PluginError('NOT_FOUND', 'topic t does not exist')), { data: true });
    const call = { metadata: new Metadata(), request: {}, getDeadline: () => Infinity, getPath: () => '/prism.test.Service/Unary', on: () => undefined };
    handler(call as never, (err, res) => answers.push([err, res]));
    await tick();
    expect(answers).toHaveLength(1);
    expect(answers[0]![0]).toMatchObject({ code: status.NOT_FOUND, details: 'topic t does not exist' });
  });

  it('refuses data calls while draining, with a retryable UNAVAILABLE', async () => {
    const { runtime, drain } = setup();
    drain();
    let ran = false;
    const answers: (Partial<ServiceError> | null)[] = [];
    const handler = unary(runtime, 'publish', () => Promise.resolve((ran = true)), { data: true });
    handler({ metadata: new Metadata(), request: {}, getDeadline: () => Infinity, getPath: () => '/prism.test.Service/Unary', on: () => undefined } as never, (err) => answers.push(err));
    await tick();
    expect(ran).toBe(false);
    expect(answers[0]).toMatchObject({ code: status.UNAVAILABLE });
  });
});

describe('serverStream', () => {
  it('ends a stream marked endOnDrain with UNAVAILABLE as soon as Drain begins, and ends its generator', async () => {
    const { runtime, drain } = setup();
    let finished = false;
    const endless = async function* (signal: AbortSignal) {
      try {
        while (!signal.aborted) {
          yield { n: 1 };
          await tick();
        }
      } finally {
        finished = true;
      }
    };
    const call = new FakeStreamCall();
    serverStream(runtime, 'tail', (_r, ctx) => Promise.resolve(endless(ctx.signal)), { data: true, endOnDrain: true })(call as never);
    await tick();
    drain();
    await tick();
    await tick();
    expect(call.errors).toHaveLength(1);
    expect(call.errors[0]).toMatchObject({ code: status.UNAVAILABLE, details: 'the plugin is draining; resume from the last cursor' });
    expect(call.ended).toBe(0);
    expect(finished).toBe(true);
  });

  it('pulls the next message only after a refused write drained, and ends a finished stream exactly once', async () => {
    const { runtime } = setup();
    const call = new FakeStreamCall();
    call.full = true;
    const three = async function* () {
      yield 1;
      yield 2;
      yield 3;
    };
    serverStream(runtime, 'tail', () => Promise.resolve(three()), { data: true })(call as never);
    await tick();
    expect(call.written).toEqual([1]);
    call.full = false;
    call.emit('drain');
    await tick();
    expect(call.written).toEqual([1, 2, 3]);
    expect([call.ended, call.errors.length]).toEqual([1, 0]);
  });
});
