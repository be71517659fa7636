import { randomUUID } from 'node:crypto';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client } from '../support/grpc-client.ts';
import { kafkaAdmin, type KafkaAdmin } from '../support/kafka-admin.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

/**
 * Property-based fuzzing of every data RPC (Queue, PubSub, Stream; unary and server-streaming) with fast-check.
 * Requests are encoded by hand on the wire (a small protobuf writer below, sent through a raw grpc-js client with
 * identity serializers), so they can carry what no generated client would send: invalid UTF-8 in string fields,
 * wrong wire types, 10-byte negative varints, truncated lengths, unknown fields, oversized payloads and metadata.
 *
 * Each request starts from a valid one (on a topic that exists and stays empty) and gets exactly one corruption, so
 * the answer must be about that corruption: INVALID_ARGUMENT (or OUT_OF_RANGE; RESOURCE_EXHAUSTED for what exceeds
 * the transport's limits) naming the field and what is expected. At the end the plugin is SERVING and nothing
 * reached Kafka: the topic's end offsets are still 0, no group or topic under this run's prefix exists, and the
 * produced/delivery-error counters are zero. Seeds are fixed: a failure reproduces with the printed seed and path.
 */

// ---------------------------------------------------------------------------------------------------------------
// A protobuf wire writer: fields as (number, wire type, value), encoded exactly as given.

type WireType = 0 | 1 | 2 | 5;
interface Wire { no: number; wt: WireType; v: bigint | Buffer }
type Fields = Record<string, Wire[]>;

const U64 = (1n << 64n) - 1n;

function varint(value: bigint): Buffer {
  let x = value & U64;
  const out: number[] = [];
  while (x > 0x7fn) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Buffer.from(out);
}

function encode(fields: Wire[]): Buffer {
  return Buffer.concat(fields.flatMap((f) => {
    const tag = varint(BigInt(f.no * 8 + f.wt));
    if (f.wt === 0) return [tag, varint(f.v as bigint)];
    if (f.wt === 1) {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE((f.v as bigint) & U64);
      return [tag, b];
    }
    if (f.wt === 5) {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(Number((f.v as bigint) & 0xffffffffn));
      return [tag, b];
    }
    const body = f.v as Buffer;
    return [tag, varint(BigInt(body.length)), body];
  }));
}

const str = (no: number, v: string | Buffer): Wire => ({ no, wt: 2, v: typeof v === 'string' ? Buffer.from(v) : v });
const num = (no: number, v: bigint | number): Wire => ({ no, wt: 0, v: BigInt(v) });
const msg = (no: number, fields: Wire[]): Wire => ({ no, wt: 2, v: encode(fields) });
const entry = (no: number, key: Wire, value: Wire): Wire => msg(no, [key, value]);
const body = (fields: Fields): Buffer => encode(Object.values(fields).flat());

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries for bad values.

const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
const word = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max });

/** Byte sequences that are not UTF-8: stray continuation, overlong, surrogate, beyond U+10FFFF, truncated, 0xFF. */
const notUtf8Pieces = [[0xff], [0xfe], [0x80], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]];
const notUtf8 = fc.tuple(word(0, 12), fc.constantFrom(...notUtf8Pieces), word(0, 12))
  .map(([a, bad, b]) => Buffer.concat([Buffer.from(a), Buffer.from(bad), Buffer.from(b)]));

/** Topic names Kafka cannot have: a slash, too long (300), dots only, spaces, control or non-ASCII characters. */
const badTopic = fc.oneof(
  fc.tuple(word(1, 20), word(0, 20)).map(([a, b]) => `${a}/${b}`),
  fc.integer({ min: 250, max: 400 }).map((n) => 'x'.repeat(n)),
  fc.constant('x'.repeat(300)),
  fc.constantFrom('.', '..', ' ', 'a b', 'tab\there', 'nul\u0000byte', 'emoji-😀', 'ümlaut', 'a:b', 'a*', '%2F', 'a\\b'),
  fc.tuple(word(0, 10), fc.constantFrom(...' !"#$%&\'()*+,/:;<=>?@[]^`{|}~\n\r\u00e9\u4e2d'), word(0, 10)).map(([a, c, b]) => `${a}${c}${b}`),
);

/** Group and member ids (1–200 of a-z A-Z 0-9 . _ -); never empty, which means "the default". */
const badMember = fc.oneof(
  fc.integer({ min: 201, max: 400 }).map((n) => 'g'.repeat(n)),
  fc.tuple(word(0, 10), fc.constantFrom(...' /:@!#$%&*+,;=?[]{}|~\u00e9\t'), word(0, 10)).map(([a, c, b]) => `${a}${c}${b}`),
);

/** Any field sent with a wire type its declared type does not have. */
const wrongWire = (no: number, declared: 'len' | 'varint') => fc.oneof(
  ...(declared === 'len'
    ? [fc.bigInt({ min: 0n, max: U64 }).map((v): Wire => ({ no, wt: 0, v }))]
    : [fc.uint8Array({ minLength: 0, maxLength: 24 }).map((b): Wire => ({ no, wt: 2, v: Buffer.from(b) }))]),
  fc.bigInt({ min: 0n, max: U64 }).map((v): Wire => ({ no, wt: 1, v })),
  fc.bigInt({ min: 0n, max: 0xffffffffn }).map((v): Wire => ({ no, wt: 5, v })),
);

const negative32 = fc.integer({ min: -(2 ** 31), max: -1 });
const negative64 = fc.bigInt({ min: -(2n ** 63n), max: -1n });
/** Past the latest date ECMAScript can represent (8.64e15 ms), up to the largest int64. */
const hugeTime = fc.bigInt({ min: 8_640_000_000_000_001n, max: 2n ** 63n - 1n });

/** A corruption: the fields it replaces, and what the error must name. */
interface Corruption { kind: string; set: Fields; names: RegExp }
const c = (kind: string, names: RegExp) => (set: Fields): Corruption => ({ kind, set, names });

/** The usual corruptions of a string field. */
function stringField(name: string, no: number, names = new RegExp(name)) {
  return [
    notUtf8.map((b) => c(`${name}: not UTF-8`, names)({ [name]: [str(no, b)] })),
    wrongWire(no, 'len').map((w) => c(`${name}: wrong wire type`, names)({ [name]: [w] })),
  ];
}

/** Corruptions of a map<string,string> field (metadata, tags, tag_filter, options). */
function stringMap(name: string, no: number, limits: { maxEntries?: number; maxName?: number; maxValue?: number }) {
  const names = new RegExp(name);
  const arbs: fc.Arbitrary<Corruption>[] = [
    fc.constant(c(`${name}: empty key`, names)({ [name]: [entry(no, str(1, ''), str(2, 'v'))] })),
    notUtf8.map((b) => c(`${name}: key not UTF-8`, names)({ [name]: [entry(no, str(1, b), str(2, 'v'))] })),
    notUtf8.map((b) => c(`${name}: value not UTF-8`, names)({ [name]: [entry(no, str(1, 'k'), str(2, b))] })),
    fc.bigInt({ min: 0n, max: U64 }).map((v) => c(`${name}: entry as a varint`, names)({ [name]: [{ no, wt: 0, v }] })),
    fc.bigInt({ min: 0n, max: U64 }).map((v) => c(`${name}: value as a varint`, names)({ [name]: [entry(no, str(1, 'k'), { no: 2, wt: 0, v })] })),
  ];
  if (limits.maxEntries !== undefined) {
    const max = limits.maxEntries;
    arbs.push(fc.integer({ min: max + 1, max: max * 3 }).map((n) => c(`${name}: ${n} entries`, names)({ [name]: Array.from({ length: n }, (_, i) => entry(no, str(1, `k${i}`), str(2, 'v'))) })));
  }
  if (limits.maxName !== undefined) {
    const max = limits.maxName;
    arbs.push(fc.integer({ min: max + 1, max: max * 4 }).map((n) => c(`${name}: key of ${n} chars`, names)({ [name]: [entry(no, str(1, 'k'.repeat(n)), str(2, 'v'))] })));
  }
  if (limits.maxValue !== undefined) {
    const max = limits.maxValue;
    arbs.push(fc.integer({ min: max + 1, max: max * 2 }).map((n) => c(`${name}: value of ${n} chars`, names)({ [name]: [entry(no, str(1, 'k'), str(2, 'v'.repeat(n)))] })));
  }
  return arbs;
}

// ---------------------------------------------------------------------------------------------------------------
// The RPCs: a valid request each, and the corruptions that make it invalid.

const run = randomUUID().slice(0, 8);
const prefix = `fuzz-grpc-${run}`;
const topic = `${prefix}-t`;
const group = `${prefix}-g`;

interface Rpc {
  service: 'queue.QueueBasicInterface' | 'pubsub.PubSubBasicInterface' | 'stream.StreamBasicInterface';
  method: string;
  stream: boolean;
  base: () => Fields;
  /** Weighted where one entry stands for many kinds (a corrupted element) or costs much (10,000 elements). */
  corruptions: (fc.Arbitrary<Corruption> | fc.WeightedArbitrary<Corruption>)[];
}

/** Rare: requests of 10,000+ elements are slow to build and to refuse; a few of each kind are enough. */
const rare = (arbitrary: fc.Arbitrary<Corruption>): fc.WeightedArbitrary<Corruption> => ({ arbitrary, weight: 1 });
const often = (arbitrary: fc.Arbitrary<Corruption>): fc.WeightedArbitrary<Corruption> => ({ arbitrary, weight: 250 });
/** Every other corruption kind weighs 10. */
const weighted = (rpc: Rpc) => rpc.corruptions.map((a) => ('weight' in a ? a : { arbitrary: a, weight: 10 }));

const topicCorruptions = (no = 1) => [
  badTopic.map((t) => c(`topic ${JSON.stringify(t.slice(0, 20))}…(${t.length})`, /topic/)({ topic: [str(no, t)] })),
  fc.constant(c('topic absent', /topic/)({ topic: [] })),
  ...stringField('topic', no, /topic/),
];

/** PublishRequest (queue) corruptions; `at` prefixes field names for PublishBatch's messages[i]. */
const publishCorruptions = (): fc.Arbitrary<Corruption>[] => [
  ...topicCorruptions(),
  wrongWire(2, 'len').map((w) => c('payload: wrong wire type', /payload/)({ payload: [w] })),
  ...stringMap('metadata', 3, { maxEntries: 64, maxName: 256, maxValue: 16 * 1024 }),
  fc.integer({ min: 16 * 1024 + 1, max: 40_000 }).map((n) => c(`key of ${n} bytes`, /key/)({ key: [str(4, Buffer.alloc(n, 1))] })),
  wrongWire(4, 'len').map((w) => c('key: wrong wire type', /key/)({ key: [w] })),
  negative32.map((p) => c(`partition ${p}`, /partition/)({ partition: [num(5, p)] })),
  fc.integer({ min: 1_000, max: 2 ** 31 - 1 }).map((p) => c(`partition ${p} (the topic has 3)`, /partition/)({ partition: [num(5, p)] })),
  wrongWire(5, 'varint').map((w) => c('partition: wrong wire type', /partition/)({ partition: [w] })),
  fc.integer({ min: 129, max: 2_000 }).map((n) => c(`message_id of ${n} chars`, /message_id/)({ message_id: [str(6, 'm'.repeat(n))] })),
  ...stringField('message_id', 6),
];

const publishBase = (): Fields => ({ topic: [str(1, topic)], payload: [str(2, 'fuzz')] });
const receipt = (session: string) => `${session}:0:0:0`;
const badReceipt = fc.oneof(
  fc.string({ maxLength: 60 }).filter((r) => !/^(.+):(\d+):(\d+):(\d+)$/.test(r)),
  fc.constantFrom('', ':::', 'a:b:c:d', 'x:1:2', 'x'.repeat(500), '1:2:3:-4', 's:1:2:3 '),
);

const rpcs: Rpc[] = [
  {
    service: 'queue.QueueBasicInterface', method: 'Publish', stream: false, base: publishBase, corruptions: publishCorruptions(),
  },
  {
    service: 'queue.QueueBasicInterface', method: 'PublishBatch', stream: false,
    base: () => ({ messages: [msg(1, Object.values(publishBase()).flat()), msg(1, Object.values(publishBase()).flat())] }),
    corruptions: [
      fc.constant(c('messages absent', /messages/)({ messages: [] })),
      rare(fc.integer({ min: 10_001, max: 10_100 }).map((n) => c(`${n} messages`, /messages/)({ messages: Array.from({ length: n }, () => msg(1, [str(1, topic), str(2, 'x')])) }))),
      wrongWire(1, 'len').map((w) => c('messages: wrong wire type', /messages/)({ messages: [w] })),
      often(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.oneof(...publishCorruptions())).map(([at, bad]) => {
        const one = Object.values({ ...publishBase(), ...bad.set }).flat();
        const messages = Array.from({ length: at }, () => msg(1, Object.values(publishBase()).flat()));
        return c(`messages[${at}] ${bad.kind}`, new RegExp(`messages|${bad.names.source}`))({ messages: [...messages, msg(1, one)] });
      })),
    ],
  },
  {
    service: 'queue.QueueBasicInterface', method: 'Consume', stream: true,
    base: () => ({ topic: [str(1, topic)], group: [str(2, group)], subscriber_id: [str(3, `${prefix}-s`)] }),
    corruptions: [
      ...topicCorruptions(),
      badMember.map((g) => c(`group ${JSON.stringify(g.slice(0, 20))}`, /group/)({ group: [str(2, g)] })),
      ...stringField('group', 2),
      badMember.map((s) => c(`subscriber_id ${JSON.stringify(s.slice(0, 20))}`, /subscriber_id/)({ subscriber_id: [str(3, s)] })),
      ...stringField('subscriber_id', 3),
      negative32.map((n) => c(`max_unacked ${n}`, /max_unacked/)({ max_unacked: [num(4, n)] })),
      fc.integer({ min: 10_001, max: 2 ** 31 - 1 }).map((n) => c(`max_unacked ${n}`, /max_unacked/)({ max_unacked: [num(4, n)] })),
      wrongWire(4, 'varint').map((w) => c('max_unacked: wrong wire type', /max_unacked/)({ max_unacked: [w] })),
    ],
  },
  {
    service: 'queue.QueueBasicInterface', method: 'Ack', stream: false,
    base: () => ({ receipts: [str(1, receipt(`${prefix}-gone`))] }),
    corruptions: [
      fc.constant(c('receipts absent', /receipts/)({ receipts: [] })),
      fc.array(badReceipt, { minLength: 1, maxLength: 5 }).map((rs) => c(`receipts ${JSON.stringify(rs).slice(0, 40)}`, /receipts/)({ receipts: rs.map((r) => str(1, r)) })),
      rare(fc.integer({ min: 10_001, max: 10_050 }).map((n) => c(`${n} receipts`, /receipts/)({ receipts: Array.from({ length: n }, () => str(1, receipt('r'))) }))),
      ...stringField('receipts', 1),
    ],
  },
  {
    service: 'queue.QueueBasicInterface', method: 'Nack', stream: false,
    base: () => ({ receipts: [str(1, receipt(`${prefix}-gone`))], requeue: [num(2, 1)] }),
    corruptions: [
      fc.constant(c('receipts absent', /receipts/)({ receipts: [] })),
      fc.array(badReceipt, { minLength: 1, maxLength: 5 }).map((rs) => c(`receipts ${JSON.stringify(rs).slice(0, 40)}`, /receipts/)({ receipts: rs.map((r) => str(1, r)) })),
      ...stringField('receipts', 1),
      wrongWire(2, 'varint').map((w) => c('requeue: wrong wire type', /requeue/)({ requeue: [w] })),
      fc.integer({ min: 1_001, max: 5_000 }).map((n) => c(`reason of ${n} chars`, /reason/)({ reason: [str(3, 'r'.repeat(n))] })),
      ...stringField('reason', 3),
    ],
  },
  {
    service: 'queue.QueueBasicInterface', method: 'Seek', stream: false,
    base: () => ({ topic: [str(1, topic)], group: [str(2, group)], position: [str(3, 'earliest')] }),
    corruptions: [
      ...topicCorruptions(),
      badMember.map((g) => c(`group ${JSON.stringify(g.slice(0, 20))}`, /group/)({ group: [str(2, g)] })),
      ...stringField('group', 2),
      fc.constant(c('no position', /position/)({ position: [] })),
      fc.string({ maxLength: 20 }).filter((s) => s !== '' && s !== 'earliest' && s !== 'latest')
        .map((s) => c(`earliest_or_latest ${JSON.stringify(s)}`, /earliest_or_latest/)({ position: [str(3, s)] })),
      notUtf8.map((b) => c('earliest_or_latest: not UTF-8', /earliest_or_latest/)({ position: [str(3, b)] })),
      negative64.map((t) => c(`timestamp ${t}`, /timestamp/)({ position: [num(4, t)] })),
      hugeTime.map((t) => c(`timestamp ${t}`, /timestamp/)({ position: [num(4, t)] })),
      fc.constant(c('two positions', /position/)({ position: [str(3, 'latest'), num(4, 1)] })),
      fc.constant(c('offsets: empty map', /offsets|position/)({ position: [msg(5, [])] })),
      negative32.map((p) => c(`offsets: partition ${p}`, /offsets|partition/)({ position: [msg(5, [entry(1, num(1, p), str(2, '0'))])] })),
      fc.string({ maxLength: 25 }).filter((o) => !/^\d{1,19}$/.test(o)).map((o) => c(`offsets: offset ${JSON.stringify(o)}`, /offsets/)({ position: [msg(5, [entry(1, num(1, 0), str(2, o))])] })),
      fc.bigInt({ min: 1n, max: 10n ** 19n - 1n }).map((o) => c(`offsets: offset ${o} (the partition is empty)`, /offsets|offset/)({ position: [msg(5, [entry(1, num(1, 0), str(2, String(o)))])] })),
      fc.integer({ min: 3, max: 1_000_000 }).map((p) => c(`offsets: partition ${p} (the topic has 3)`, /offsets|partition/)({ position: [msg(5, [entry(1, num(1, p), str(2, '0'))])] })),
      notUtf8.map((b) => c('offsets: offset not UTF-8', /offsets/)({ position: [msg(5, [entry(1, num(1, 0), str(2, b))])] })),
    ],
  },
  {
    service: 'queue.QueueBasicInterface', method: 'GetOffsets', stream: false,
    base: () => ({ topic: [str(1, topic)], group: [str(2, group)] }),
    corruptions: [
      ...topicCorruptions(),
      badMember.map((g) => c(`group ${JSON.stringify(g.slice(0, 20))}`, /group/)({ group: [str(2, g)] })),
      ...stringField('group', 2),
    ],
  },
  {
    service: 'pubsub.PubSubBasicInterface', method: 'Publish', stream: false,
    base: () => ({ topic: [str(1, topic)], payload: [str(2, 'fuzz')] }),
    corruptions: [
      ...topicCorruptions(),
      wrongWire(2, 'len').map((w) => c('payload: wrong wire type', /payload/)({ payload: [w] })),
      ...stringMap('metadata', 3, { maxEntries: 64, maxName: 256, maxValue: 16 * 1024 }),
    ],
  },
  {
    service: 'pubsub.PubSubBasicInterface', method: 'Subscribe', stream: true,
    base: () => ({ topic: [str(1, topic)], subscriber_id: [str(2, `${prefix}-sub`)] }),
    corruptions: [
      ...topicCorruptions(),
      fc.constant(c('subscriber_id absent', /subscriber_id/)({ subscriber_id: [] })),
      badMember.map((s) => c(`subscriber_id ${JSON.stringify(s.slice(0, 20))}`, /subscriber_id/)({ subscriber_id: [str(2, s)] })),
      ...stringField('subscriber_id', 2),
      word(1, 12).filter((k) => k !== 'group' && k !== 'start').map((k) => c(`options: unknown key ${k}`, /options/)({ options: [entry(3, str(1, k), str(2, 'v'))] })),
      fc.string({ maxLength: 20 }).filter((s) => s !== 'earliest' && s !== 'latest').map((s) => c(`options.start ${JSON.stringify(s)}`, /options|start/)({ options: [entry(3, str(1, 'start'), str(2, s))] })),
      badMember.map((g) => c('options.group', /options|group/)({ options: [entry(3, str(1, 'group'), str(2, g))] })),
      ...stringMap('options', 3, {}),
    ],
  },
  {
    service: 'pubsub.PubSubBasicInterface', method: 'Unsubscribe', stream: false,
    base: () => ({ topic: [str(1, topic)], subscriber_id: [str(2, `${prefix}-sub`)] }),
    corruptions: [
      ...topicCorruptions(),
      fc.constant(c('subscriber_id absent', /subscriber_id/)({ subscriber_id: [] })),
      badMember.map((s) => c(`subscriber_id ${JSON.stringify(s.slice(0, 20))}`, /subscriber_id/)({ subscriber_id: [str(2, s)] })),
      ...stringField('subscriber_id', 2),
    ],
  },
  {
    service: 'stream.StreamBasicInterface', method: 'Append', stream: false,
    base: () => ({ topic: [str(1, topic)], payload: [str(2, 'fuzz')] }),
    corruptions: appendCorruptions({ payload: 2, key: 3, tags: 4, event_time: 5, partition: 6 }, true),
  },
  {
    service: 'stream.StreamBasicInterface', method: 'AppendBatch', stream: false,
    base: () => ({ topic: [str(1, topic)], records: [msg(2, [str(1, 'a')]), msg(2, [str(1, 'b')])] }),
    corruptions: [
      ...topicCorruptions(),
      fc.constant(c('records absent', /records/)({ records: [] })),
      rare(fc.integer({ min: 10_001, max: 10_100 }).map((n) => c(`${n} records`, /records/)({ records: Array.from({ length: n }, () => msg(2, [str(1, 'x')])) }))),
      wrongWire(2, 'len').map((w) => c('records: wrong wire type', /records/)({ records: [w] })),
      often(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.oneof(...appendCorruptions({ payload: 1, key: 2, tags: 3, event_time: 4, partition: 5 }, false))).map(([at, bad]) => {
        const one = Object.values({ payload: [str(1, 'p')], ...bad.set }).flat();
        const records = Array.from({ length: at }, () => msg(2, [str(1, 'ok')]));
        return c(`records[${at}] ${bad.kind}`, new RegExp(`records|${bad.names.source}`))({ records: [...records, msg(2, one)] });
      })),
    ],
  },
  {
    service: 'stream.StreamBasicInterface', method: 'Tail', stream: true,
    base: () => ({ topic: [str(1, topic)], start: [str(2, 'latest')] }),
    corruptions: [
      ...topicCorruptions(),
      fc.string({ maxLength: 20 }).filter((s) => s !== '' && s !== 'earliest' && s !== 'latest').map((s) => c(`start ${JSON.stringify(s)}`, /start/)({ start: [str(2, s)] })),
      ...stringField('start', 2),
      negative64.map((t) => c(`start_time ${t}`, /start_time/)({ start: [num(3, t)] })),
      hugeTime.map((t) => c(`start_time ${t}`, /start_time/)({ start: [num(3, t)] })),
      wrongWire(3, 'varint').map((w) => c('start_time: wrong wire type', /start_time/)({ start: [w] })),
      fc.constant(c('start and start_time', /start/)({ start: [str(2, 'earliest'), num(3, 1)] })),
      negative32.map((p) => c(`start_offsets: partition ${p}`, /start_offsets/)({ start: [entry(4, num(1, p), num(2, 0))] })),
      negative64.map((o) => c(`start_offsets: offset ${o}`, /start_offsets/)({ start: [entry(4, num(1, 0), num(2, o))] })),
      fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map((o) => c(`start_offsets: offset ${o} (the partition is empty)`, /start_offsets|offset/)({ start: [entry(4, num(1, 0), num(2, o))] })),
      fc.integer({ min: 3, max: 2 ** 31 - 1 }).map((p) => c(`start_offsets: partition ${p} (the topic has 3)`, /start_offsets|partition/)({ start: [entry(4, num(1, p), num(2, 0))] })),
      ...cursorCorruptions('t'),
      fc.constant(c('key_filter: wrong wire type', /key_filter/)({ key_filter: [num(6, 7)] })),
      ...stringMap('tag_filter', 7, { maxName: 256 }),
    ],
  },
  {
    service: 'stream.StreamBasicInterface', method: 'Query', stream: false,
    base: () => ({ topic: [str(1, topic)] }),
    corruptions: [
      ...topicCorruptions(),
      negative64.map((t) => c(`start_time ${t}`, /start_time/)({ start_time: [num(2, t)] })),
      hugeTime.map((t) => c(`start_time ${t}`, /start_time/)({ start_time: [num(2, t)] })),
      negative64.map((t) => c(`end_time ${t}`, /end_time/)({ end_time: [num(3, t)] })),
      hugeTime.map((t) => c(`end_time ${t}`, /end_time/)({ end_time: [num(3, t)] })),
      fc.tuple(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 20 })).map(([start, back]) => c(`end_time ${start - back} ≤ start_time ${start}`, /end_time/)({ start_time: [num(2, start)], end_time: [num(3, start - back)] })),
      wrongWire(2, 'varint').map((w) => c('start_time: wrong wire type', /start_time/)({ start_time: [w] })),
      negative32.map((n) => c(`limit ${n}`, /limit/)({ limit: [num(4, n)] })),
      fc.integer({ min: 10_001, max: 2 ** 31 - 1 }).map((n) => c(`limit ${n}`, /limit/)({ limit: [num(4, n)] })),
      wrongWire(4, 'varint').map((w) => c('limit: wrong wire type', /limit/)({ limit: [w] })),
      ...cursorCorruptions('q'),
      fc.constant(c('key_filter: wrong wire type', /key_filter/)({ key_filter: [num(6, 7)] })),
      ...stringMap('tag_filter', 7, { maxName: 256 }),
    ],
  },
  {
    service: 'stream.StreamBasicInterface', method: 'CreateStream', stream: false,
    base: () => ({ topic: [str(1, topic)], partitions: [num(2, 3)], replication_factor: [num(3, 1)] }),
    corruptions: [
      ...topicCorruptions(),
      negative32.map((n) => c(`partitions ${n}`, /partitions/)({ partitions: [num(2, n)] })),
      fc.integer({ min: 10_001, max: 2 ** 31 - 1 }).map((n) => c(`partitions ${n}`, /partitions/)({ partitions: [num(2, n)] })),
      wrongWire(2, 'varint').map((w) => c('partitions: wrong wire type', /partitions/)({ partitions: [w] })),
      negative32.map((n) => c(`replication_factor ${n}`, /replication_factor/)({ replication_factor: [num(3, n)] })),
      fc.integer({ min: 32_768, max: 2 ** 31 - 1 }).map((n) => c(`replication_factor ${n}`, /replication_factor/)({ replication_factor: [num(3, n)] })),
      fc.bigInt({ min: -(2n ** 63n), max: -2n }).map((n) => c(`retention_ms ${n}`, /retention_ms/)({ retention_ms: [num(4, n)] })),
      fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }).map((n) => c(`retention_ms ${n}`, /retention_ms/)({ retention_ms: [num(4, n)] })),
    ],
  },
];

/** Append/AppendRecord corruptions (field numbers differ between the two messages). */
function appendCorruptions(no: { payload: number; key: number; tags: number; event_time: number; partition: number }, withTopic: boolean): fc.Arbitrary<Corruption>[] {
  return [
    ...(withTopic ? topicCorruptions() : []),
    wrongWire(no.payload, 'len').map((w) => c('payload: wrong wire type', /payload/)({ payload: [w] })),
    wrongWire(no.key, 'len').map((w) => c('key: wrong wire type', /key/)({ key: [w] })),
    ...stringMap('tags', no.tags, { maxName: 256 }),
    negative64.map((t) => c(`event_time ${t}`, /event_time/)({ event_time: [num(no.event_time, t)] })),
    hugeTime.map((t) => c(`event_time ${t}`, /event_time/)({ event_time: [num(no.event_time, t)] })),
    wrongWire(no.event_time, 'varint').map((w) => c('event_time: wrong wire type', /event_time/)({ event_time: [w] })),
    negative32.map((p) => c(`partition ${p}`, /partition/)({ partition: [num(no.partition, p)] })),
    fc.integer({ min: 1_000_001, max: 2 ** 31 - 1 }).map((p) => c(`partition ${p}`, /partition/)({ partition: [num(no.partition, p)] })),
    fc.integer({ min: 3, max: 1_000_000 }).map((p) => c(`partition ${p} (the topic has 3)`, /partition/)({ partition: [num(no.partition, p)] })),
    wrongWire(no.partition, 'varint').map((w) => c('partition: wrong wire type', /partition/)({ partition: [w] })),
  ];
}

/** Cursors that are not ones this query/tail handed out: garbage, or well-formed documents with wrong contents. */
function cursorCorruptions(kind: 't' | 'q'): fc.Arbitrary<Corruption>[] {
  const no = 5;
  const field = kind === 't' ? 'start' : 'cursor';
  const b64 = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64url');
  const doc = (p: [number, string][], extra: Record<string, unknown> = {}) => kind === 't'
    ? { v: 1, k: 't', t: topic, p, ...extra }
    : { v: 1, k: 'q', t: topic, s: null, e: null, f: '', x: p.map(([part]) => [part, '0']), p, h: 0, ...extra };
  const set = (text: string | Buffer, what: string) => c(`cursor ${what}`, /cursor/)({ [field]: [str(no, text)] });
  return [
    fc.string({ minLength: 1, maxLength: 80 }).map((s) => set(s, JSON.stringify(s.slice(0, 20)))),
    fc.jsonValue().map((v) => set(b64(v), 'of random JSON')),
    fc.integer({ min: 5_000, max: 20_000 }).map((n) => set('A'.repeat(n), `of ${n} chars`)),
    notUtf8.map((b) => c('cursor: not UTF-8', /cursor/)({ [field]: [str(no, b)] })),
    fc.constantFrom('other-topic', 'a/b').map((t) => set(b64(doc([[0, '0']], { t })), `of topic ${t}`)),
    fc.constant(set(b64(doc([[0, '0']], { k: kind === 't' ? 'q' : 't' })), 'of the other operation')),
    fc.integer({ min: 2, max: 99 }).map((v) => set(b64(doc([[0, '0']], { v })), `version ${v}`)),
    fc.integer({ min: 3, max: 1_000_000 }).map((p) => set(b64(doc([[p, '0']])), `naming partition ${p} (the topic has 3)`)),
    fc.bigInt({ min: 1n, max: 10n ** 19n - 1n }).map((o) => set(b64(doc([[0, String(o)]])), `at offset ${o} (the partition is empty)`)),
    fc.constant(set(b64(doc([[0, '0'], [0, '0']])), 'naming a partition twice')),
    ...(kind === 'q' ? [fc.bigInt({ min: 1n, max: 10n ** 19n - 1n }).map((e) => set(b64(doc([[0, '0']], { x: [[0, String(e)]] })), `ending at offset ${e} (the partition is empty)`))] : []),
    fc.integer({ min: -1_000, max: -1 }).map((p) => set(b64(doc([[p, '0']])), `naming partition ${p}`)),
  ];
}

// ---------------------------------------------------------------------------------------------------------------

const allowed = new Set<status>([status.INVALID_ARGUMENT, status.OUT_OF_RANGE]);

let plugin: TestPlugin;
let raw: Client;
let admin: KafkaAdmin;
/** prism_requests_total lines with status OK after set-up (the CreateStream of the topic): no fuzz request may add one. */
let okBefore: string[];
const okLines = async () => (await plugin.runtime.scope.metrics.registry.getSingleMetricAsString('prism_requests_total')).split('\n').filter((l) => l.includes('status="OK"'));
const tally = new Map<string, { sent: number; codes: Map<string, number> }>();

function count(rpc: string, name: string): void {
  const t = tally.get(rpc) ?? { sent: 0, codes: new Map<string, number>() };
  t.sent++;
  t.codes.set(name, (t.codes.get(name) ?? 0) + 1);
  tally.set(rpc, t);
}

interface Answer { code: status; details: string; messages: number }

/** Sends raw bytes to a unary or server-streaming method; resolves with the final status (never rejects). */
function send(rpc: Rpc, bytes: Buffer, metadata = new Metadata(), deadlineMs = 10_000): Promise<Answer> {
  const path = `/prism.interfaces.${rpc.service}/${rpc.method}`;
  const id = (b: Buffer) => b;
  const options = { deadline: Date.now() + deadlineMs };
  return new Promise((resolve) => {
    if (!rpc.stream) {
      raw.makeUnaryRequest(path, id, id, bytes, metadata, options, (err: ServiceError | null) => resolve({ code: err?.code ?? status.OK, details: err?.details ?? '', messages: 0 }));
      return;
    }
    let messages = 0;
    const s = raw.makeServerStreamRequest(path, id, id, bytes, metadata, options);
    s.on('data', () => messages++);
    s.on('error', (e: ServiceError) => resolve({ code: e.code, details: e.details, messages }));
    s.on('end', () => resolve({ code: status.OK, details: '', messages }));
  });
}

/** gRPC metadata a caller may attach: request ids of any length, garbage trace context, custom and binary headers. */
const noise = fc.record({
  requestId: fc.option(fc.string({ unit: fc.constantFrom(...'abcdef0123456789-'), maxLength: 200 }), { nil: undefined }),
  traceparent: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789abcdef-'), maxLength: 60 }), { nil: undefined }),
  custom: fc.dictionary(word(1, 10).map((k) => `x-fuzz-${k}`), word(0, 40), { maxKeys: 3 }),
  bin: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
  unknownFields: fc.array(fc.record({ no: fc.integer({ min: 100, max: 5_000 }), v: fc.oneof(fc.bigInt({ min: 0n, max: U64 }), fc.uint8Array({ maxLength: 16 })) }), { maxLength: 3 }),
});

type Noise = typeof noise extends fc.Arbitrary<infer T> ? T : never;

function metadataOf(n: Noise): Metadata {
  const md = new Metadata();
  if (n.requestId !== undefined && n.requestId !== '') md.set('x-request-id', n.requestId);
  if (n.traceparent !== undefined && n.traceparent !== '') md.set('traceparent', n.traceparent);
  for (const [k, v] of Object.entries(n.custom)) md.set(k, v);
  if (n.bin !== undefined) md.set('x-fuzz-bin', Buffer.from(n.bin));
  return md;
}

const failures: string[] = [];

/** fc.assert, with a short failure: the seed and path to replay it, and our own message (not fast-check's dump of the arbitraries). */
async function holds<T extends unknown[]>(property: fc.IAsyncPropertyWithHooks<T>, params: { seed: number; numRuns: number }): Promise<void> {
  const out = await fc.check(property, { ...params});
  if (out.failed) throw new Error(`property failed (seed ${out.seed}, path ${out.counterexamplePath ?? '?'}, replay with fc.assert(…, { seed, path })): ${(out.errorInstance as Error | undefined)?.message ?? String(out.errorInstance)}`);
}

function check(rpc: Rpc, what: string, answer: Answer, names: RegExp, codes = allowed, label?: string): void {
  const name = `${rpc.service.split('.')[1]}/${rpc.method}`;
  count(name, label ?? status[answer.code] ?? String(answer.code));
  const problem = !codes.has(answer.code) ? `answered ${status[answer.code] ?? answer.code}`
    : answer.messages > 0 ? `streamed ${answer.messages} messages`
      : !names.test(answer.details) ? `message does not name ${names.source}`
        : !/expected/.test(answer.details) && answer.code !== status.RESOURCE_EXHAUSTED ? 'message says nothing of what is expected' : undefined;
  if (problem !== undefined) {
    failures.push(`${name} (${what}): ${problem}: ${answer.details.slice(0, 300)}`);
    throw new Error(`${name} (${what}): ${problem}: ${answer.details.slice(0, 300)}`);
  }
}

async function endOffsets(name: string): Promise<bigint[]> {
  return admin.endOffsets(name);
}

beforeAll(async () => {
  const brokers = inject('kafkaBrokers');
  plugin = await startPlugin({ KAFKA_BROKERS: brokers });
  plugin.runtime.start();
  raw = new Client(plugin.address, credentials.createInsecure());
  admin = kafkaAdmin(brokers, { clientId: `${prefix}-check` });
  const stream = client(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
  await call(stream, 'CreateStream', { topic, partitions: 3, replication_factor: 1 });
  stream.close();
  expect(await endOffsets(topic)).toEqual([0n, 0n, 0n]);
  okBefore = await okLines();
});

afterAll(async () => {
  raw?.close();
  await admin?.close();
  await plugin?.close();
});

/** A request that is certainly refused (a bad topic, receipt or message), whatever else it carries. */
function badRequest(r: Rpc): Buffer {
  const last = r.method === 'Ack' || r.method === 'Nack' ? str(1, 'not-a-receipt')
    : r.method === 'PublishBatch' ? msg(1, [str(1, 'bad/topic')]) : str(1, 'bad/topic');
  return encode([last]);
}

const seeds = { corrupt: 20261201, garbage: 20261202, oversize: 20261203 };

describe('fuzzing every data RPC with fast-check: each malformed request gets a clear INVALID_ARGUMENT-class answer', () => {
  it.each(rpcs.map((r) => [`${r.service.split('.')[1]}/${r.method}`, r] as const))('%s: one corrupted field at a time, with noise in metadata and unknown fields', async (_name, rpc) => {
    await holds(
      fc.asyncProperty(fc.oneof(...weighted(rpc)), noise, async (bad, n) => {
        const unknown: Wire[] = n.unknownFields.map((u) => (typeof u.v === 'bigint' ? { no: u.no, wt: 0, v: u.v } : { no: u.no, wt: 2, v: Buffer.from(u.v) }));
        const bytes = Buffer.concat([encode(unknown), body({ ...rpc.base(), ...bad.set })]);
        check(rpc, bad.kind, await send(rpc, bytes, metadataOf(n)), bad.names);
      }),
      { seed: seeds.corrupt, numRuns: rpc.stream ? 400 : 500 },
    );
  });

  it('random bytes to every RPC (made invalid on purpose with a bad last field): INVALID_ARGUMENT, never INTERNAL', async () => {
    const rpc = fc.constantFrom(...rpcs);
    await holds(
      fc.asyncProperty(rpc, fc.uint8Array({ maxLength: 200 }), async (r, garbage) => {
        // Something certainly invalid last (a scalar's last occurrence wins; a list gets a bad element).
        const answer = await send(r, Buffer.concat([Buffer.from(garbage), badRequest(r)]));
        check(r, `${garbage.length} random bytes`, answer, /topic|receipts|messages|request|\w+/);
      }),
      { seed: seeds.garbage, numRuns: 1_500 },
    );
  });

  it('oversized: payloads over max_message_bytes (INVALID_ARGUMENT), messages over the receive limit and huge metadata (RESOURCE_EXHAUSTED)', async () => {
    const publish = rpcs.find((r) => r.method === 'Publish' && r.service.startsWith('queue'))!;
    const pubsub = rpcs.find((r) => r.method === 'Publish' && r.service.startsWith('pubsub'))!;
    const append = rpcs.find((r) => r.method === 'Append')!;
    await holds(
      fc.asyncProperty(fc.constantFrom(publish, pubsub, append), fc.integer({ min: 1_048_577, max: 1_900_000 }), async (r, size) => {
        const answer = await send(r, body({ ...r.base(), payload: [str(2, Buffer.alloc(size, 7))] }));
        check(r, `payload of ${size} bytes`, answer, /payload|record/);
      }),
      { seed: seeds.oversize, numRuns: 30 },
    );
    // Beyond the server's receive limit (2 MiB in tests): grpc-js refuses the message itself.
    await holds(
      fc.asyncProperty(fc.constantFrom(...rpcs), fc.integer({ min: 2 * 1024 * 1024 + 1, max: 3 * 1024 * 1024 }), async (r, size) => {
        const answer = await send(r, body({ ...r.base(), padding: [str(4_000, Buffer.alloc(size))] }));
        check(r, `message of ${size} bytes`, answer, /./, new Set([status.RESOURCE_EXHAUSTED]));
      }),
      { seed: seeds.oversize + 1, numRuns: 16 },
    );
    // Large gRPC metadata (HTTP/2 headers) with a bad request: the headers are taken, the request refused as usual.
    await holds(
      fc.asyncProperty(fc.constantFrom(...rpcs), fc.integer({ min: 1_000, max: 60_000 }), async (r, size) => {
        const md = new Metadata();
        md.set('x-fuzz-large', 'h'.repeat(size));
        const answer = await send(r, badRequest(r), md);
        check(r, `${size} bytes of metadata`, answer, /topic|receipts|messages/);
      }),
      { seed: seeds.oversize + 2, numRuns: 30 },
    );
    // Beyond what HTTP/2 takes (a header block over ~64 KiB): the server's HTTP/2 layer refuses the stream
    // (COMPRESSION_ERROR, which grpc-js reports as INTERNAL "RST_STREAM with code 9") or the call is RESOURCE_EXHAUSTED;
    // either way nothing runs, and the plugin keeps serving (checked below).
    await holds(
      fc.asyncProperty(fc.constantFrom(...rpcs), fc.integer({ min: 100_000, max: 400_000 }), async (r, size) => {
        const md = new Metadata();
        md.set('x-fuzz-huge', 'h'.repeat(size));
        const answer = await send(r, body(r.base()), md);
        const refused = answer.code === status.RESOURCE_EXHAUSTED || (answer.code === status.INTERNAL && /RST_STREAM with code 9/.test(answer.details));
        const label = answer.code === status.INTERNAL ? 'HTTP/2 refused (RST_STREAM 9)' : undefined;
        check(r, `${size} bytes of metadata`, { ...answer, code: refused ? status.RESOURCE_EXHAUSTED : answer.code }, /./, new Set([status.RESOURCE_EXHAUSTED]), label);
      }),
      { seed: seeds.oversize + 3, numRuns: 10 },
    );
  });

  it('afterwards: the plugin is SERVING and nothing reached Kafka', async () => {
    const health = client(plugin.address, 'grpc.health.v1.Health');
    expect(await call(health, 'Check', { service: '' })).toMatchObject({ status: 'SERVING' });
    health.close();

    const rows = [...tally].map(([rpc, t]) => `  ${rpc.padEnd(34)} ${String(t.sent).padStart(6)}  ${JSON.stringify(Object.fromEntries(t.codes))}`);
    const total = [...tally.values()].reduce((n, t) => n + t.sent, 0);
    console.log(`fuzz-grpc: ${total} malformed requests (seeds ${JSON.stringify(seeds)})\n${rows.join('\n')}`);
    expect(failures).toEqual([]);
    expect(tally.size).toBe(rpcs.length);

    expect(await endOffsets(topic)).toEqual([0n, 0n, 0n]);
    const topics = (await admin.topics()).filter((t) => t.startsWith(prefix));
    expect(topics).toEqual([topic]);
    const groups = (await admin.groups()).filter((g) => g.startsWith(prefix));
    expect(groups).toEqual([]);
    const registry = plugin.runtime.scope.metrics.registry;
    for (const metric of ['kafka_plugin_messages_produced_total', 'kafka_plugin_delivery_errors_total']) {
      expect(await registry.getSingleMetricAsString(metric)).not.toMatch(/\} [1-9]/);
    }
    expect(await registry.getSingleMetricAsString('prism_requests_total')).not.toMatch(/status="(INTERNAL|UNKNOWN)"/);
    expect(await okLines()).toEqual(okBefore);
  });
});
