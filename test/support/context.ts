import { pino } from 'pino';
import type { CallContext } from '../../core/call/context.ts';

/** A handler call context for unit tests: silent logger, no deadline. */
export function testContext(overrides: Partial<CallContext> = {}): CallContext {
  return { signal: new AbortController().signal, log: pino({ level: 'silent' }), requestId: 'test-request', ...overrides };
}
