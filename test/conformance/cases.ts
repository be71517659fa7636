import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { ErrorCode } from '../../core/errors.ts';
import { expectedStatus, type Driver, type Outcome } from './drivers.ts';

/**
 * The conformance cases: each runs through one adapter and returns a view of what a caller saw, which must be the
 * same for every adapter (topic names, timestamps and other per-run values left out). Requests use the original
 * proto field names, bytes as base64 and int64 as strings: the proto3 JSON both adapters take.
 */
export interface Case {
  name: string;
  run(driver: Driver): Promise<unknown>;
}

/** Both adapters run with the same configuration, so the limits they enforce (message size) are the same. */
export const conformanceEnv = { KAFKA_MAX_MESSAGE_BYTES: '2048', KAFKA_CONSUMER_GROUP: 'conformance-default' };

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unique = (what: string) => `conf-${what}-${randomUUID().slice(0, 8)}`;

function body(o: Outcome): Record<string, unknown> {
  if (!o.ok) throw new Error(`expected success, got ${o.code}: ${o.message}`);
  return o.body;
}

/** The error a caller saw; asserts the transport status is the one the error table maps the code to. */
function error(driver: Driver, o: Outcome, code: ErrorCode, what = ''): { error: ErrorCode } {
  expect(o.ok, `${what}: expected ${code}`).toBe(false);
  if (o.ok) throw new Error('unreachable');
  expect(o.code, `${what} (${o.message})`).toBe(code);
  expect(o.status, what).toBe(expectedStatus(driver.name, code));
  return { error: o.code };
}

interface Event { partition: number; offset: string; timestamp: string; key: string; payload: string; tags: Record<string, string>; cursor: string }
/** An event without what differs per run (topic) or per adapter by design (cursors are per topic). */
const eventView = ({ partition, offset, key, payload, tags }: Event) => ({ partition, offset, key, payload, tags });
const byPosition = (a: { partition: number; offset: string }, b: { partition: number; offset: string }) => a.partition - b.partition || Number(a.offset) - Number(b.offset);

async function stream(d: Driver, partitions = 3): Promise<string> {
  const topic = unique('stream');
  expect(body(await d.call('create_stream', { topic, partitions }))).toMatchObject({ created: true, partitions });
  return topic;
}

async function appendSix(d: Driver, topic: string): Promise<void> {
  const records = Array.from({ length: 6 }, (_, i) => ({ payload: b64(`e${i}`), key: b64(`k${i % 2}`), tags: { n: String(i) }, event_time: String(1_700_000_000_000 + i * 1_000) }));
  const res = body(await d.call('append_batch', { topic, records }));
  expect(res).toMatchObject({ appended: 6, failed: 0 });
}

export const cases: Case[] = [
  {
    name: 'publish with key, metadata and message id; read back by query',
    async run(d) {
      const topic = await stream(d);
      const published = [];
      for (let i = 0; i < 3; i++) {
        const res = body(await d.call('publish', { topic, payload: b64(`p${i}`), key: b64('same-key'), metadata: { seq: String(i) }, message_id: `id-${i}` }));
        expect(res).toMatchObject({ messageId: `id-${i}`, topic, offset: String(i) });
        published.push({ messageId: res.messageId, partition: res.partition, offset: res.offset });
      }
      const page = body(await d.call('query', { topic, limit: 10 }));
      return { published, events: (page.events as Event[]).map(eventView), nextCursor: page.nextCursor };
    },
  },
  {
    name: 'publish a batch: one result per message, in order',
    async run(d) {
      const topic = await stream(d);
      const res = body(await d.call('publish_batch', { messages: [0, 1, 2].map((i) => ({ topic, payload: b64(`b${i}`), partition: i, message_id: `b-${i}` })) }));
      return (res.results as { index: number; success: boolean; result: { messageId: string; partition: number; offset: string } }[])
        .map((r) => ({ index: r.index, success: r.success, id: r.result.messageId, partition: r.result.partition, offset: r.result.offset }));
    },
  },
  {
    name: 'append events with event times; query a time range page by page',
    async run(d) {
      const topic = await stream(d);
      expect(body(await d.call('append', { topic, payload: b64('single'), partition: 2, event_time: '1699999999000' }))).toMatchObject({ partition: 2, offset: '0', timestamp: '1699999999000' });
      await appendSix(d, topic);
      const pages: unknown[] = [];
      let cursor = '';
      do {
        const page = body(await d.call('query', { topic, start_time: '1700000001000', end_time: '1700000005000', limit: 2, cursor }));
        pages.push((page.events as Event[]).map((e) => ({ ...eventView(e), timestamp: e.timestamp })));
        cursor = page.nextCursor as string;
      } while (cursor !== '');
      return pages;
    },
  },
  {
    name: 'query with a key and tag filter',
    async run(d) {
      const topic = await stream(d);
      await appendSix(d, topic);
      const page = body(await d.call('query', { topic, key_filter: b64('k1'), tag_filter: { n: '3' } }));
      return (page.events as Event[]).map(eventView);
    },
  },
  {
    name: 'tail from earliest, then resume from an event cursor',
    async run(d) {
      const topic = await stream(d, 1);
      await appendSix(d, topic);
      const first = body(await d.tail({ topic, start: 'earliest' }, 4, 5_000)).events as Event[];
      expect(first.length).toBe(4);
      // Events 2 to 5 come after the second one's cursor: exactly four, so neither adapter waits for more.
      const resumed = body(await d.tail({ topic, cursor: first[1]!.cursor }, 4, 5_000)).events as Event[];
      return { first: first.map(eventView), resumed: resumed.map(eventView).sort(byPosition) };
    },
  },
  {
    name: 'consume from a group and acknowledge: the group commits to the end',
    async run(d) {
      const topic = await stream(d);
      const group = unique('group');
      body(await d.call('publish_batch', { messages: [0, 1, 2, 0].map((p, i) => ({ topic, payload: b64(`q${i}`), partition: p, message_id: `q-${i}` })) }));
      const consumed = body(await d.consumeAndAck(topic, group, 4)).messages as { partition: number; offset: string; payload: string; messageId: string; attempt: number }[];
      const offsets = body(await d.call('get_offsets', { topic, group }));
      return {
        consumed: consumed.map(({ partition, offset, payload, messageId, attempt }) => ({ partition, offset, payload, messageId, attempt })).sort(byPosition),
        offsets: offsets.partitions,
      };
    },
  },
  {
    name: 'health after a fresh broker round trip',
    async run(d) {
      const res = body(await d.call('health', {}));
      expect(res.status).toBe('HEALTH_STATUS_HEALTHY');
      return { status: res.status, reachable: (res.details as Record<string, string>).brokers_reachable };
    },
  },
  {
    name: 'bad inputs get the same status from every adapter',
    async run(d) {
      const topic = await stream(d);
      const checks: [string, Promise<Outcome>, ErrorCode][] = [
        ['topic with a slash', d.call('publish', { topic: 'a/b', payload: b64('x') }), 'INVALID_ARGUMENT'],
        ['payload over max_message_bytes', d.call('publish', { topic, payload: Buffer.alloc(4096).toString('base64') }), 'INVALID_ARGUMENT'],
        ['65 metadata entries', d.call('publish', { topic, payload: b64('x'), metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, 'v'])) }), 'INVALID_ARGUMENT'],
        ['empty batch', d.call('publish_batch', { messages: [] }), 'INVALID_ARGUMENT'],
        ['partition the topic lacks', d.call('publish', { topic, payload: b64('x'), partition: 7 }), 'INVALID_ARGUMENT'],
        ['end before start', d.call('query', { topic, start_time: '2000', end_time: '1000' }), 'INVALID_ARGUMENT'],
        ['foreign cursor', d.call('query', { topic, cursor: 'bm90LWEtY3Vyc29y' }), 'INVALID_ARGUMENT'],
        ['query of a missing stream', d.call('query', { topic: unique('missing') }), 'NOT_FOUND'],
        ['tail of a missing stream', d.tail({ topic: unique('missing') }, 1, 1_000), 'NOT_FOUND'],
        ['stream exists with other settings', d.call('create_stream', { topic, partitions: 5 }), 'FAILED_PRECONDITION'],
        ['ack of a made-up receipt', d.call('ack', { receipts: ['made-up'] }), 'INVALID_ARGUMENT'],
        ['ack of nothing', d.call('ack', { receipts: [] }), 'INVALID_ARGUMENT'],
        ['seek without a position', d.call('seek', { topic, group: unique('g') }), 'INVALID_ARGUMENT'],
      ];
      const seen: Record<string, unknown> = {};
      for (const [what, outcome, code] of checks) seen[what] = error(d, await outcome, code, `${d.name}: ${what}`);
      return seen;
    },
  },
];

/** Cases against an unreachable broker: adapters built with KAFKA_BROKERS pointing at a closed port. */
export const unreachableCases: Case[] = [
  {
    name: 'publish to an unreachable broker: UNAVAILABLE within the deadline',
    async run(d) {
      const started = Date.now();
      const seen = error(d, await d.call('publish', { topic: 'conf-unreachable', payload: b64('x') }, { timeoutMs: 3_000 }), 'UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(3_500);
      return seen;
    },
  },
  {
    name: 'health with an unreachable broker: UNHEALTHY, answered (not an error)',
    async run(d) {
      const res = body(await d.call('health', {}, { timeoutMs: 5_000 }));
      return { status: res.status, reachable: (res.details as Record<string, string>).brokers_reachable };
    },
  },
];
