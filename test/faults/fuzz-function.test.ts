import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FunctionError } from '../../adapters/function/errors.ts';
import { eventHandler } from '../../adapters/function/handler.ts';
import type { HttpResponse } from '../../adapters/function/http-event.ts';
import { jsonName } from '../../adapters/function/json-fields.ts';
import { operations } from '../../adapters/function/operations.ts';
import { functionProtos } from '../../adapters/protos/files.ts';
import { protoRoot } from '../../adapters/protos/root.ts';
import { FunctionRuntime } from '../../adapters/function/runtime.ts';
import { kafkaAdmin, type KafkaAdmin } from '../support/kafka-admin.ts';
import { captureLines } from '../support/test-logs.ts';

/**
 * Property-based fuzzing of the function entry (adapters/function) with fast-check: the exported Lambda-style handler
 * called directly with arbitrary JSON events and with malformed requests for every operation, and the same requests
 * as API Gateway (REST v1, HTTP API v2) and function URL events. Every malformed event must be answered — a
 * FunctionError with our code for direct invocations (Lambda's errorType), an HTTP answer with the error table's
 * 4xx status and {code, message, request_id} for HTTP events — never another exception, never INTERNAL or a 5xx,
 * and INVALID_ARGUMENT messages name the field and what is expected. NOT_FOUND only for an unknown operation (the
 * function's documented answer). Nothing reaches Kafka: the topic's end offsets stay 0 and no group or other topic
 * appears under this run's prefix. Seeds are fixed; counts are printed.
 */

const run = randomUUID().slice(0, 8);
const prefix = `fuzz-fn-${run}`;
const topic = `${prefix}-t`;
const group = `${prefix}-g`;

let runtime: FunctionRuntime;
let handler: ReturnType<typeof eventHandler>;
let admin: KafkaAdmin;

const context = () => {
  const until = Date.now() + 10_000;
  return { awsRequestId: `fuzz-${randomUUID()}`, getRemainingTimeInMillis: () => until - Date.now() };
};

// ---------------------------------------------------------------------------------------------------------------
// How an event is delivered, and what came back.

type Delivery = 'direct' | 'http-v1' | 'http-v2' | 'http-envelope' | 'http-base64';
interface Answer { code: string; status?: number; message: string; ok: boolean }

function httpEvent(delivery: Exclude<Delivery, 'direct'>, operation: string, request: unknown, headers: Record<string, string>): Record<string, unknown> {
  const body = JSON.stringify(request);
  switch (delivery) {
    case 'http-v1':
      return { httpMethod: 'POST', path: `/${operation}`, headers, body, isBase64Encoded: false };
    case 'http-v2':
      return { version: '2.0', rawPath: `/v1/${operation}`, requestContext: { http: { method: 'POST', path: `/v1/${operation}` } }, headers, body };
    case 'http-envelope':
      return { version: '2.0', rawPath: '/invoke', requestContext: { http: { method: 'POST' } }, headers, body: JSON.stringify({ operation, request }) };
    case 'http-base64':
      return { httpMethod: 'POST', path: `/${operation}`, headers, body: Buffer.from(body).toString('base64'), isBase64Encoded: true };
  }
}

/** Invokes the handler; any outcome other than an answer or a FunctionError is a failure of the property. */
async function invoke(event: unknown): Promise<Answer> {
  let result: unknown;
  try {
    result = await handler(event, context());
  } catch (err) {
    if (!(err instanceof FunctionError)) throw new Error(`the handler threw ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`);
    return { code: err.code, message: err.message, ok: false };
  }
  const http = result as HttpResponse;
  if (typeof http?.statusCode === 'number') {
    const parsed = JSON.parse(http.body) as { code?: string; message?: string; request_id?: string };
    if (http.statusCode === 200) return { code: 'OK', status: 200, message: '', ok: true };
    if (typeof parsed.request_id !== 'string' || parsed.request_id === '' || http.headers['x-prism-error-code'] !== parsed.code) {
      throw new Error(`an HTTP error answer without request_id or x-prism-error-code: ${http.body.slice(0, 200)}`);
    }
    return { code: parsed.code ?? '?', status: http.statusCode, message: parsed.message ?? '', ok: false };
  }
  return { code: 'OK', message: '', ok: true };
}

const statusOf: Record<string, number> = { INVALID_ARGUMENT: 400, NOT_FOUND: 404, FAILED_PRECONDITION: 412 };

const tally = new Map<string, { sent: number; codes: Map<string, number> }>();
function count(key: string, code: string): void {
  const t = tally.get(key) ?? { sent: 0, codes: new Map<string, number>() };
  t.sent++;
  t.codes.set(code, (t.codes.get(code) ?? 0) + 1);
  tally.set(key, t);
}

/** The checks every answer to a malformed event must pass. */
function check(key: string, what: string, answer: Answer, names: RegExp, codes: readonly string[] = ['INVALID_ARGUMENT']): void {
  count(key, answer.status === undefined ? answer.code : `${answer.status} ${answer.code}`);
  const problem = answer.ok ? 'succeeded'
    : !codes.includes(answer.code) ? `answered ${answer.code}`
      : answer.status !== undefined && answer.status !== statusOf[answer.code] ? `answered HTTP ${answer.status} for ${answer.code}`
        : answer.code === 'INVALID_ARGUMENT' && !names.test(answer.message) ? `message does not name ${names.source}`
          : answer.code === 'INVALID_ARGUMENT' && !/expected/.test(answer.message) ? 'message says nothing of what is expected' : undefined;
  if (problem !== undefined) throw new Error(`${key} (${what}): ${problem}: ${answer.message.slice(0, 300)}`);
}

async function holds<T extends unknown[]>(property: fc.IAsyncPropertyWithHooks<T>, params: { seed: number; numRuns: number }): Promise<void> {
  const out = await fc.check(property, { ...params, endOnFailure: true });
  if (out.failed) throw new Error(`property failed (seed ${out.seed}, path ${out.counterexamplePath ?? '?'}): ${(out.errorInstance as Error | undefined)?.message ?? String(out.errorInstance)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Malformed requests: values of the wrong JSON type for every field of every request message (from the proto), and
// values of the right type that break a rule (topic names, limits, cursors, receipts, sizes…).

const loneSurrogate = fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom('\ud800', '\udfff', '\udbff', '\udc00x'), fc.string({ maxLength: 8 })).map(([a, s, b]) => `${a}${s}${b}`);
const notJsonType = (types: readonly ('number' | 'string' | 'boolean' | 'array' | 'object')[]) => fc.constantFrom(...types).chain((t): fc.Arbitrary<unknown> => {
  switch (t) {
    case 'number': return fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
    case 'string': return fc.string({ maxLength: 20 });
    case 'boolean': return fc.boolean();
    case 'array': return fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 });
    case 'object': return fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
  }
});

/** Values a field of this scalar type can never take in proto3 JSON. */
function wrongScalar(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return fc.oneof(notJsonType(['number', 'boolean', 'array', 'object']), loneSurrogate);
    case 'bytes':
      return fc.oneof(notJsonType(['number', 'boolean', 'array', 'object']), fc.constantFrom('a', 'abcde', '@@@@', '====', 'ab=c', 'é', '\ud800'));
    case 'bool':
      return fc.oneof(notJsonType(['number', 'array', 'object']), fc.constantFrom('true', 'false', 'yes', '1'));
    case 'int32': case 'uint32': case 'sint32':
      return fc.oneof(
        notJsonType(['boolean', 'array', 'object']),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((d) => !Number.isInteger(d)),
        fc.oneof(fc.integer({ min: 2 ** 31, max: 2 ** 52 }), fc.integer({ min: -(2 ** 52), max: -(2 ** 31) - 1 })),
        fc.constantFrom('1.5', 'ten', '0x10', '1e3', '', ' 1'),
      );
    default: // int64 and friends
      return fc.oneof(
        notJsonType(['boolean', 'array', 'object']),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((d) => !Number.isInteger(d)),
        fc.constantFrom(2 ** 53 + 2, -(2 ** 53) - 2, 1e20, -1e300),
        fc.constantFrom('9223372036854775808', '-9223372036854775809', '99999999999999999999', '1.0', 'abc', '', '0x1f', '1e3'),
      );
  }
}

interface Corruption { operation: string; kind: string; request: Record<string, unknown>; names: RegExp; codes?: readonly string[] }

const fieldNames = (f: protobuf.Field) => new RegExp(`${f.name}|${jsonName(f)}`);

/** Type-level corruptions of one field of an operation's request, from the proto. */
function typeCorruptions(operation: string, base: Record<string, unknown>, type: protobuf.Type): fc.Arbitrary<Corruption>[] {
  const out: fc.Arbitrary<Corruption>[] = [];
  const at = (f: protobuf.Field, kind: string, value: unknown, spelling = jsonName(f)): Corruption => {
    const request = { ...base };
    delete request[f.name];
    delete request[jsonName(f)];
    request[spelling] = value;
    return { operation, kind: `${f.name}: ${kind}`, request, names: fieldNames(f) };
  };
  for (const f of type.fieldsArray) {
    const spelling = fc.constantFrom(f.name, jsonName(f));
    const message = f.resolvedType !== null && 'fieldsArray' in f.resolvedType ? f.resolvedType : undefined;
    if (f.map) {
      const keyType = (f as unknown as protobuf.MapField).keyType;
      out.push(fc.tuple(notJsonType(['number', 'string', 'boolean', 'array']), spelling).map(([v, s]) => at(f, 'not a map', v, s)));
      out.push(fc.tuple(message === undefined ? wrongScalar(f.type) : notJsonType(['number', 'string', 'boolean', 'array']), spelling)
        .map(([v, s]) => at(f, 'a value of the wrong type', { [keyType === 'string' ? 'k' : '1']: v }, s)));
      if (keyType === 'string') out.push(loneSurrogate.map((k) => at(f, 'a key with a lone surrogate', { [k]: 'v' })));
      else out.push(fc.constantFrom('x', '1.5', '', '99999999999999999999').map((k) => at(f, `key ${JSON.stringify(k)}`, { [k]: message === undefined ? '0' : {} })));
    } else if (f.repeated) {
      out.push(fc.tuple(notJsonType(['number', 'string', 'boolean', 'object']), spelling).map(([v, s]) => at(f, 'not a list', v, s)));
      out.push(fc.tuple(message === undefined ? wrongScalar(f.type) : notJsonType(['number', 'string', 'boolean', 'array']), spelling)
        .map(([v, s]) => at(f, 'an element of the wrong type', [v], s)));
    } else if (message !== undefined) {
      out.push(fc.tuple(notJsonType(['number', 'string', 'boolean', 'array']), spelling).map(([v, s]) => at(f, 'not an object', v, s)));
    } else {
      out.push(fc.tuple(wrongScalar(f.type), spelling).map(([v, s]) => at(f, `${JSON.stringify(v)?.slice(0, 30)}`, v, s)));
    }
    // Both spellings at once.
    const value = base[f.name] ?? base[jsonName(f)];
    if (jsonName(f) !== f.name && value !== undefined) out.push(fc.constant({ operation, kind: `${f.name} twice`, request: { ...base, [f.name]: value, [jsonName(f)]: value }, names: fieldNames(f) }));
  }
  out.push(fc.string({ minLength: 1, maxLength: 20 }).filter((k) => type.fieldsArray.every((f) => f.name !== k && jsonName(f) !== k) && k !== '__proto__')
    .map((k) => ({ operation, kind: `unknown field ${JSON.stringify(k)}`, request: { ...base, [k]: 1 }, names: new RegExp(escape(k)) })));
  out.push(notJsonType(['number', 'string', 'boolean', 'array']).map((v) => ({ operation, kind: 'request not an object', request: v as Record<string, unknown>, names: /request/ })));
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
const word = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max });
const badTopic = fc.oneof(
  fc.tuple(word(1, 20), word(0, 20)).map(([a, b]) => `${a}/${b}`),
  fc.integer({ min: 250, max: 400 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom('x'.repeat(300), '.', '..', ' ', 'a b', 'tab\there', 'nul\u0000byte', 'emoji-😀', 'a:b', '\ud800'),
);
const badMember = fc.oneof(fc.integer({ min: 201, max: 400 }).map((n) => 'g'.repeat(n)), fc.tuple(word(0, 10), fc.constantFrom(...' /:@!#$%&*+,;=?[]{}|~é'), word(0, 10)).map(([a, c, b]) => `${a}${c}${b}`));
const b64 = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64url');
const notEnum = (valid: string[]) => fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !valid.includes(s));
const negative = fc.integer({ min: -(2 ** 31), max: -1 });
const hugeTime = fc.bigInt({ min: 8_640_000_000_000_001n, max: 2n ** 63n - 1n }).map(String);

/** Rule-level corruptions (right JSON types, wrong values) and the valid request each starts from. */
function ruleCorruptions(operation: string, base: Record<string, unknown>): fc.Arbitrary<Corruption>[] {
  const with_ = (kind: string, names: RegExp, patch: Record<string, unknown>, codes?: readonly string[]): Corruption => ({ operation, kind, request: { ...base, ...patch }, names, ...(codes === undefined ? {} : { codes }) });
  const topicCases = [
    badTopic.map((t) => with_(`topic ${JSON.stringify(t.slice(0, 20))}(${t.length})`, /topic/, { topic: t })),
    fc.constant(with_('topic absent', /topic/, { topic: undefined })),
  ];
  const tailCursor = (p: [number, string][], extra: Record<string, unknown> = {}) => b64({ v: 1, k: 't', t: topic, p, ...extra });
  const queryCursor = (p: [number, string][], x: [number, string][], extra: Record<string, unknown> = {}) => b64({ v: 1, k: 'q', t: topic, s: null, e: null, f: '', x, p, h: 0, ...extra });
  const cursorCases = (kind: 't' | 'q') => [
    fc.string({ minLength: 1, maxLength: 60 }).map((s) => with_('cursor garbage', /cursor/, { cursor: s })),
    fc.jsonValue().map((v) => with_('cursor of random JSON', /cursor/, { cursor: b64(v) })),
    fc.integer({ min: 3, max: 1_000_000 }).map((p) => with_(`cursor naming partition ${p}`, /cursor/, { cursor: kind === 't' ? tailCursor([[p, '0']]) : queryCursor([[p, '0']], [[p, '0']]) })),
    fc.bigInt({ min: 1n, max: 10n ** 18n }).map((o) => with_(`cursor at offset ${o}`, /cursor/, { cursor: kind === 't' ? tailCursor([[0, String(o)]]) : queryCursor([[0, String(o)]], [[0, '0']]) })),
    ...(kind === 'q' ? [fc.bigInt({ min: 1n, max: 10n ** 18n }).map((e) => with_(`cursor ending at ${e}`, /cursor/, { cursor: queryCursor([[0, '0']], [[0, String(e)]]) }))] : []),
    fc.constant(with_('cursor of another topic', /cursor/, { cursor: kind === 't' ? tailCursor([[0, '0']], { t: 'other' }) : queryCursor([[0, '0']], [[0, '0']], { t: 'other' }) })),
  ];
  const message = [
    ...topicCases,
    fc.integer({ min: 1_048_577, max: 1_300_000 }).map((n) => with_(`payload of ${n} bytes`, /payload/, { payload: Buffer.alloc(n, 1).toString('base64') })),
    fc.integer({ min: 65, max: 150 }).map((n) => with_(`${n} metadata entries`, /metadata/, { metadata: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])) })),
    fc.constant(with_('metadata with an empty name', /metadata/, { metadata: { '': 'v' } })),
    fc.integer({ min: 16_385, max: 40_000 }).map((n) => with_(`metadata value of ${n} chars`, /metadata/, { metadata: { k: 'v'.repeat(n) } })),
    fc.integer({ min: 257, max: 600 }).map((n) => with_(`metadata name of ${n} chars`, /metadata/, { metadata: { ['k'.repeat(n)]: 'v' } })),
    fc.integer({ min: 16_385, max: 40_000 }).map((n) => with_(`key of ${n} bytes`, /key/, { key: Buffer.alloc(n, 2).toString('base64') })),
    negative.map((p) => with_(`partition ${p}`, /partition/, { partition: p })),
    fc.integer({ min: 3, max: 2 ** 31 - 1 }).map((p) => with_(`partition ${p} (the topic has 3)`, /partition/, { partition: p })),
    fc.integer({ min: 129, max: 1_000 }).map((n) => with_(`messageId of ${n} chars`, /message_?[iI]d/, { messageId: 'm'.repeat(n) })),
  ];
  switch (operation) {
    case 'publish':
      return message;
    case 'publish_batch':
      return [
        fc.constant(with_('no messages', /messages/, { messages: [] })),
        fc.tuple(fc.integer({ min: 0, max: 4 }), fc.oneof(...message)).map(([i, bad]) => with_(`messages[${i}] ${bad.kind}`, new RegExp(`messages|${bad.names.source}`), {
          messages: [...Array.from({ length: i }, () => ({ topic, payload: 'eA==' })), bad.request],
        })),
      ];
    case 'append': case 'append_batch': {
      const record = [
        negative.map((t) => with_(`eventTime ${t}`, /event_?[tT]ime/, { eventTime: String(t) })),
        hugeTime.map((t) => with_(`eventTime ${t}`, /event_?[tT]ime/, { eventTime: t })),
        negative.map((p) => with_(`partition ${p}`, /partition/, { partition: p })),
        fc.integer({ min: 3, max: 2 ** 31 - 1 }).map((p) => with_(`partition ${p}`, /partition/, { partition: p })),
        fc.constant(with_('tags with an empty name', /tags/, { tags: { '': 'v' } })),
        fc.integer({ min: 257, max: 600 }).map((n) => with_(`tag name of ${n} chars`, /tags/, { tags: { ['t'.repeat(n)]: 'v' } })),
        fc.integer({ min: 1_048_577, max: 1_300_000 }).map((n) => with_(`payload of ${n} bytes`, /payload|record/, { payload: Buffer.alloc(n, 1).toString('base64') })),
      ];
      if (operation === 'append') return [...topicCases, ...record];
      return [
        ...topicCases,
        fc.constant(with_('no records', /records/, { records: [] })),
        fc.tuple(fc.integer({ min: 0, max: 4 }), fc.oneof(...record)).map(([i, bad]) => {
          const { topic: _t, ...one } = bad.request;
          return with_(`records[${i}] ${bad.kind}`, new RegExp(`records|${bad.names.source}`), { records: [...Array.from({ length: i }, () => ({ payload: 'eA==' })), one] });
        }),
      ];
    }
    case 'query':
      return [
        ...topicCases,
        negative.map((t) => with_(`startTime ${t}`, /start_?[tT]ime/, { startTime: String(t) })),
        hugeTime.map((t) => with_(`endTime ${t}`, /end_?[tT]ime/, { endTime: t })),
        fc.integer({ min: 1, max: 2 ** 40 }).map((s) => with_(`endTime before startTime ${s}`, /end_?[tT]ime/, { startTime: String(s), endTime: String(s) })),
        negative.map((n) => with_(`limit ${n}`, /limit/, { limit: n })),
        fc.integer({ min: 10_001, max: 2 ** 31 - 1 }).map((n) => with_(`limit ${n}`, /limit/, { limit: n })),
        fc.constant(with_('tagFilter with an empty name', /tag_?[fF]ilter/, { tagFilter: { '': 'v' } })),
        ...cursorCases('q'),
      ];
    case 'tail':
      return [
        ...topicCases,
        notEnum(['latest', 'earliest']).map((s) => with_(`start ${JSON.stringify(s)}`, /start/, { start: s })),
        negative.map((t) => with_(`startTime ${t}`, /start_?[tT]ime/, { start: undefined, startTime: String(t) })),
        hugeTime.map((t) => with_(`startTime ${t}`, /start_?[tT]ime/, { start: undefined, startTime: t })),
        fc.constant(with_('start and startTime', /start/, { startTime: '5' })),
        fc.bigInt({ min: 1n, max: 10n ** 18n }).map((o) => with_(`startOffsets 0=${o}`, /start_?[oO]ffsets/, { start: undefined, startOffsets: { 0: String(o) } })),
        fc.integer({ min: 3, max: 1_000_000 }).map((p) => with_(`startOffsets partition ${p}`, /start_?[oO]ffsets/, { start: undefined, startOffsets: { [p]: '0' } })),
        fc.constant(with_('startOffsets negative offset', /start_?[oO]ffsets/, { start: undefined, startOffsets: { 0: '-1' } })),
        negative.map((n) => with_(`maxEvents ${n}`, /max_?[eE]vents/, { maxEvents: n })),
        fc.integer({ min: 10_001, max: 2 ** 31 - 1 }).map((n) => with_(`maxEvents ${n}`, /max_?[eE]vents/, { maxEvents: n })),
        fc.integer({ min: 900_001, max: 2 ** 31 - 1 }).map((n) => with_(`maxWaitMs ${n}`, /max_?[wW]ait_?[mM]s/, { maxWaitMs: n })),
        ...cursorCases('t').map((a) => a.map((c) => ({ ...c, request: { ...c.request, start: undefined } }))),
      ];
    case 'create_stream':
      return [
        ...topicCases,
        negative.map((n) => with_(`partitions ${n}`, /partitions/, { partitions: n })),
        fc.integer({ min: 10_001, max: 2 ** 31 - 1 }).map((n) => with_(`partitions ${n}`, /partitions/, { partitions: n })),
        negative.map((n) => with_(`replicationFactor ${n}`, /replication_?[fF]actor/, { replicationFactor: n })),
        fc.integer({ min: 32_768, max: 2 ** 31 - 1 }).map((n) => with_(`replicationFactor ${n}`, /replication_?[fF]actor/, { replicationFactor: n })),
        fc.bigInt({ min: -(2n ** 63n), max: -2n }).map((n) => with_(`retentionMs ${n}`, /retention_?[mM]s/, { retentionMs: String(n) })),
        fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }).map((n) => with_(`retentionMs ${n}`, /retention_?[mM]s/, { retentionMs: String(n) })),
      ];
    case 'get_offsets':
      return [...topicCases, badMember.map((g) => with_(`group ${JSON.stringify(g.slice(0, 20))}`, /group/, { group: g }))];
    case 'seek':
      return [
        ...topicCases,
        badMember.map((g) => with_(`group ${JSON.stringify(g.slice(0, 20))}`, /group/, { group: g })),
        fc.constant(with_('no position', /position/, { earliestOrLatest: undefined })),
        notEnum(['earliest', 'latest']).map((s) => with_(`earliestOrLatest ${JSON.stringify(s)}`, /earliest_?[oO]r_?[lL]atest/, { earliestOrLatest: s })),
        fc.constant(with_('two positions', /position/, { timestamp: '5' })),
        hugeTime.map((t) => with_(`timestamp ${t}`, /timestamp/, { earliestOrLatest: undefined, timestamp: t })),
        fc.constant(with_('offsets: empty map', /offsets/, { earliestOrLatest: undefined, offsets: { offsets: {} } })),
        fc.bigInt({ min: 1n, max: 10n ** 18n }).map((o) => with_(`offsets 0=${o} (the partition is empty)`, /offsets/, { earliestOrLatest: undefined, offsets: { offsets: { 0: String(o) } } })),
        fc.integer({ min: 3, max: 1_000_000 }).map((p) => with_(`offsets partition ${p}`, /offsets/, { earliestOrLatest: undefined, offsets: { offsets: { [p]: '0' } } })),
      ];
    case 'ack':
      return [
        fc.constant(with_('no receipts', /receipts/, { receipts: [] })),
        fc.array(fc.string({ maxLength: 40 }).filter((r) => !r.startsWith('fn1:')), { minLength: 1, maxLength: 4 }).map((rs) => with_('receipts garbage', /receipts/, { receipts: rs })),
        fc.constantFrom('fn1:g:t:0', 'fn1::t:0:0', 'fn1:g::0:0', 'fn1:g/x:t:0:0', 'fn1:g:t:-1:0', 'fn1:g:t:0:-5', 'fn1:g:t:99999999:0').map((r) => with_(`receipt ${r}`, /receipts/, { receipts: [r] })),
        fc.bigInt({ min: 0n, max: 10n ** 18n }).map((o) => with_(`receipt of a message that does not exist (offset ${o})`, /receipts/, { receipts: [`fn1:${group}:${topic}:0:${o}`] })),
        fc.integer({ min: 3, max: 1_000_000 }).map((p) => with_(`receipt of partition ${p}`, /receipts/, { receipts: [`fn1:${group}:${topic}:${p}:0`] })),
      ];
    case 'consume_batch':
      return [
        ...topicCases,
        badMember.map((g) => with_(`group ${JSON.stringify(g.slice(0, 20))}`, /group/, { group: g })),
        badMember.map((s) => with_(`subscriberId ${JSON.stringify(s.slice(0, 20))}`, /subscriber_?[iI]d/, { subscriberId: s })),
        negative.map((n) => with_(`maxUnacked ${n}`, /max_?[uU]nacked/, { maxUnacked: n })),
        fc.integer({ min: 10_001, max: 2 ** 31 - 1 }).map((n) => with_(`maxMessages ${n}`, /max_?[mM]essages/, { maxMessages: n })),
        negative.map((n) => with_(`maxWaitMs ${n}`, /max_?[wW]ait_?[mM]s/, { maxWaitMs: n })),
      ];
    default:
      return [];
  }
}

/** A valid request of each operation, on the (empty) fuzz topic: each corruption starts from it. */
const bases: Record<string, Record<string, unknown>> = {
  publish: { topic, payload: 'eA==' },
  publish_batch: { messages: [{ topic, payload: 'eA==' }] },
  append: { topic, payload: 'eA==' },
  append_batch: { topic, records: [{ payload: 'eA==' }] },
  query: { topic },
  tail: { topic, start: 'latest', maxWaitMs: 10 },
  create_stream: { topic, partitions: 3, replicationFactor: 1 },
  get_offsets: { topic, group },
  seek: { topic, group, earliestOrLatest: 'earliest' },
  ack: { receipts: [`fn1:${group}:${topic}:0:0`] },
  consume_batch: { topic, group, maxWaitMs: 10 },
  health: {},
};

const byOperation = operations.map((op) => {
  const type = protoRoot(functionProtos).lookupType(op.request);
  const base = bases[op.name]!;
  return { name: op.name, corruptions: [...typeCorruptions(op.name, base, type), ...ruleCorruptions(op.name, base)] };
});

const delivery = fc.constantFrom<Delivery>('direct', 'direct', 'http-v1', 'http-v2', 'http-envelope', 'http-base64');
const headers = fc.record({
  'x-request-id': fc.oneof(fc.string({ maxLength: 20 }), fc.string({ minLength: 129, maxLength: 400 })),
  'X-Fuzz': fc.string({ maxLength: 30 }),
}, { requiredKeys: [] });

async function deliver(how: Delivery, c: Corruption, h: Record<string, string>): Promise<Answer> {
  // Undefined members are dropped, as a JSON body would drop them.
  const request = c.request !== null && typeof c.request === 'object' && !Array.isArray(c.request)
    ? Object.fromEntries(Object.entries(c.request).filter(([, v]) => v !== undefined)) : c.request;
  return invoke(how === 'direct' ? { operation: c.operation, request } : httpEvent(how, c.operation, request, h));
}

beforeAll(async () => {
  const brokers = inject('kafkaBrokers');
  const log = captureLines(`fuzz-function-${run}`);
  runtime = new FunctionRuntime({ env: { KAFKA_BROKERS: brokers, PRISM_LOG_LEVEL: 'warn' }, logWrite: log });
  handler = eventHandler(runtime);
  admin = kafkaAdmin(brokers, { clientId: `${prefix}-check` });
  await admin.createTopic(topic, { partitions: 3, replicas: 1 });
  expect(await endOffsets()).toEqual([0n, 0n, 0n]);
});

afterAll(async () => {
  await runtime?.close();
  await admin?.close();
});

async function endOffsets(): Promise<bigint[]> {
  return admin.endOffsets(topic);
}

const seeds = { events: 20261211, corrupt: 20261212, http: 20261213 };
const unexpected: unknown[] = [];
const onUnexpected = (err: unknown) => unexpected.push(err);

describe('fuzzing the function entry with fast-check: every malformed event gets a clear 4xx-class answer, never a crash', () => {
  beforeAll(() => {
    process.on('unhandledRejection', onUnexpected);
    process.on('uncaughtException', onUnexpected);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnexpected);
    process.off('uncaughtException', onUnexpected);
  });

  it('arbitrary JSON (and non-JSON) values as direct events: INVALID_ARGUMENT naming the event, or NOT_FOUND for an unknown operation', async () => {
    const event = fc.oneof(
      { arbitrary: fc.jsonValue(), weight: 4 },
      { arbitrary: fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }), weight: 2 },
      { arbitrary: fc.record({ operation: fc.oneof(fc.jsonValue(), fc.string()), request: fc.jsonValue() }, { requiredKeys: ['operation'] }), weight: 4 },
    );
    await holds(fc.asyncProperty(event, async (e) => {
      // An event that names a real operation with a request that happens to be valid is not malformed (health with {}).
      const op = (e as { operation?: unknown } | null)?.operation;
      const answer = await invoke(e);
      if (answer.ok && (op === 'health' || op === 'healthcheck' || op === 'HealthCheck')) return void count('direct: arbitrary events', 'OK (health)');
      check('direct: arbitrary events', fc.stringify(e).slice(0, 80), answer, /event|request|operation|\w+/, ['INVALID_ARGUMENT', 'NOT_FOUND', 'FAILED_PRECONDITION']);
      if (answer.code === 'NOT_FOUND') expect(answer.message).toMatch(/unknown operation|no operation/);
    }), { seed: seeds.events, numRuns: 1_500 });
  });

  it.each(byOperation.map((o) => [o.name, o] as const))('%s: one malformed field at a time, direct and over HTTP (v1, v2, envelope, base64 body)', async (_name, op) => {
    await holds(fc.asyncProperty(fc.oneof(...op.corruptions), delivery, headers, async (c, how, h) => {
      check(`${op.name} (${how.startsWith('http') ? 'http' : 'direct'})`, c.kind, await deliver(how, c, h), c.names, c.codes);
    }), { seed: seeds.corrupt, numRuns: 500 });
  });

  it('HTTP events that are malformed as HTTP: bodies that are not JSON or not UTF-8, unknown paths, wrong shapes', async () => {
    const notUtf8 = fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82])).map(([a, b]) => Buffer.concat([Buffer.from(`{"topic":"${topic}","payload":"eA==","metadata":{"k":"`), Buffer.from(a.replace(/["\\]/g, '')), Buffer.from(b), Buffer.from('"}}')]).toString('base64'));
    const cases = fc.oneof(
      fc.string({ minLength: 1, maxLength: 50 }).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } })
        .map((body) => ({ kind: 'body not JSON', event: { httpMethod: 'POST', path: '/publish', body }, names: /body/, codes: ['INVALID_ARGUMENT'] })),
      notUtf8.map((body) => ({ kind: 'base64 body not UTF-8', event: { httpMethod: 'POST', path: '/publish', body, isBase64Encoded: true }, names: /body|metadata/, codes: ['INVALID_ARGUMENT'] })),
      fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !operations.some((o) => o.name.replace(/_/g, '') === s.toLowerCase().replace(/[-_]/g, '')) && !/^(consume|tailbatch|healthcheck|offsets)$/i.test(s))
        .map((p) => ({ kind: `unknown path /${p}`, event: { version: '2.0', rawPath: `/${encodeURIComponent(p)}`, requestContext: { http: { method: 'POST' } }, body: '{}' }, names: /operation/, codes: ['NOT_FOUND'] })),
      fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
        .map((v) => ({ kind: 'body not an object', event: { httpMethod: 'POST', path: '/append', body: JSON.stringify(v) }, names: /request/, codes: ['INVALID_ARGUMENT'] })),
      fc.constantFrom('%E0%A4%A', '%', '%ZZ').map((p) => ({ kind: `malformed escape /${p}`, event: { httpMethod: 'POST', path: `/${p}`, body: '{}' }, names: /operation/, codes: ['NOT_FOUND'] })),
      fc.jsonValue().map((request) => ({ kind: 'envelope with a bad operation', event: { httpMethod: 'POST', path: '/', body: JSON.stringify({ operation: 42, request }) }, names: /operation/, codes: ['NOT_FOUND'] })),
    );
    await holds(fc.asyncProperty(cases, async (c) => {
      const answer = await invoke(c.event);
      if (answer.status === undefined) throw new Error(`${c.kind}: an HTTP event answered without an HTTP status`);
      check('http: malformed events', c.kind, answer, c.names, c.codes);
    }), { seed: seeds.http, numRuns: 600 });
  });

  it('afterwards: no exception escaped, the runtime still works, and nothing reached Kafka', async () => {
    const rows = [...tally].map(([k, t]) => `  ${k.padEnd(34)} ${String(t.sent).padStart(6)}  ${JSON.stringify(Object.fromEntries(t.codes))}`);
    const total = [...tally.values()].reduce((n, t) => n + t.sent, 0);
    console.log(`fuzz-function: ${total} malformed events (seeds ${JSON.stringify(seeds)})\n${rows.join('\n')}`);
    expect(unexpected).toEqual([]);
    expect(await handler({ operation: 'health' }, context())).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY' });
    expect(await endOffsets()).toEqual([0n, 0n, 0n]);
    const topics = (await admin.topics()).filter((t) => t.startsWith(prefix));
    expect(topics).toEqual([topic]);
    const groups = (await admin.groups()).filter((g) => g.startsWith(prefix));
    expect(groups).toEqual([]);
  });
});
