import type protobuf from 'protobufjs';
import { showValue, type FieldViolation } from '../../core/errors.ts';

/**
 * Reads proto3 JSON values field by field, strictly: each JSON value must have the type the mapping allows for its
 * field (https://protobuf.dev/programming-guides/json/), and is turned into what protobufjs' fromObject takes
 * (Buffers for bytes, decimal strings for 64-bit integers, original field names). protobufjs alone would coerce
 * silently (a number into a string field, "abc" into 0), so a typo could publish an empty payload.
 */

/** The JSON name of a field: its json_name option, else lowerCamelCase as protoc derives it. */
export function jsonName(field: protobuf.Field): string {
  const option: unknown = field.options?.json_name;
  if (typeof option === 'string') return option;
  let name = '';
  let upper = false;
  for (const c of field.name) {
    if (c === '_') upper = true;
    else {
      name += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return name;
}

const ranges: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};
const is64 = (type: string) => type.endsWith('64') && type !== 'double';

/** Standard or URL-safe base64, padded or not (the mapping accepts both alphabets). */
const base64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

type Read = { ok: true; value: unknown } | { ok: false; expected: string };
const ok = (value: unknown): Read => ({ ok: true, value });
const bad = (expected: string): Read => ({ ok: false, expected });

function integer(type: string, value: unknown): Read {
  const [min, max] = ranges[type]!;
  const expected = `${is64(type) ? 'a 64-bit' : 'a 32-bit'} ${min === 0n ? 'unsigned ' : ''}integer${is64(type) ? ' (a decimal string, or a number up to 2^53)' : ''} from ${min} to ${max}`;
  let n: bigint;
  if (typeof value === 'number') {
    // A JSON number beyond 2^53 has already lost digits: only a string carries such a value exactly.
    if (!Number.isSafeInteger(value)) return bad(expected);
    n = BigInt(value);
  } else if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) n = BigInt(value);
  else return bad(expected);
  if (n < min || n > max) return bad(expected);
  return ok(is64(type) ? n.toString() : Number(n));
}

function scalar(type: string, value: unknown): Read {
  switch (type) {
    case 'string':
      // A lone surrogate cannot be encoded as UTF-8: it would reach Kafka as U+FFFD, silently altered.
      if (typeof value !== 'string') return bad('a string');
      return value.isWellFormed() ? ok(value) : bad('a string of Unicode text (no unpaired surrogates)');
    case 'bool':
      return typeof value === 'boolean' ? ok(value) : bad('true or false');
    case 'bytes':
      return typeof value === 'string' && base64.test(value) ? ok(Buffer.from(value, 'base64')) : bad('bytes as a base64 string');
    case 'double':
    case 'float': {
      if (typeof value === 'number') return ok(value);
      if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return ok(Number(value));
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return ok(Number(value));
      return bad('a number');
    }
    default:
      return type in ranges ? integer(type, value) : bad(`a ${type}`);
  }
}

function enumValue(type: protobuf.Enum, value: unknown): Read {
  const names = Object.keys(type.values);
  const expected = `one of ${names.join(', ')}`;
  if (typeof value === 'string') return names.includes(value) ? ok(value) : bad(expected);
  if (typeof value === 'number' && Object.values(type.values).includes(value)) return ok(value);
  return bad(expected);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
const join = (path: string, key: string) => (path === '' ? key : /^\w+$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

/** One value of a field's type (a map value or a repeated element counts as one). */
function single(field: protobuf.Field, value: unknown, path: string, out: FieldViolation[]): unknown {
  const resolved = field.resolvedType;
  let read: Read;
  if (resolved !== null && 'fieldsArray' in resolved) return readJsonMessage(resolved, value, path, out);
  if (resolved !== null) read = enumValue(resolved, value);
  else read = scalar(field.type, value);
  if (!read.ok) {
    out.push({ field: path, expected: read.expected, got: showValue(value) });
    return undefined;
  }
  return read.value;
}

function mapKey(keyType: string, key: string): boolean {
  if (keyType === 'string') return key.isWellFormed();
  if (keyType === 'bool') return key === 'true' || key === 'false';
  return integer(keyType, key).ok;
}

function fieldValue(field: protobuf.Field, value: unknown, path: string, out: FieldViolation[]): unknown {
  if (field.map) {
    if (!isObject(value)) {
      out.push({ field: path, expected: 'a JSON object (a map)', got: showValue(value) });
      return undefined;
    }
    const keyType = (field as unknown as protobuf.MapField).keyType;
    const entries: [string, unknown][] = [];
    for (const [key, v] of Object.entries(value)) {
      if (!mapKey(keyType, key)) out.push({ field: join(path, key), expected: keyType === 'string' ? 'a map key of Unicode text (no unpaired surrogates)' : `a map key of type ${keyType}`, got: showValue(key) });
      else entries.push([key, single(field, v, join(path, key), out)]);
    }
    return Object.fromEntries(entries);
  }
  if (field.repeated) {
    if (!Array.isArray(value)) {
      out.push({ field: path, expected: 'a JSON array', got: showValue(value) });
      return undefined;
    }
    return value.map((v, i) => single(field, v, `${path}[${i}]`, out));
  }
  return single(field, value, path, out);
}

/**
 * Reads a JSON object as a message of `type`: fields by JSON name or original name, values by the mapping's rules.
 * Appends a violation for every unknown field and every value of the wrong type.
 */
export function readJsonMessage(type: protobuf.Type, json: unknown, path: string, out: FieldViolation[]): Record<string, unknown> | undefined {
  if (!isObject(json)) {
    out.push({ field: path === '' ? 'request' : path, expected: `a JSON object (${type.name})`, got: showValue(json) });
    return undefined;
  }
  const byName = new Map<string, protobuf.Field>();
  for (const field of type.fieldsArray) {
    byName.set(field.name, field);
    byName.set(jsonName(field), field);
  }
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = byName.get(key);
    if (field === undefined) {
      out.push({ field: join(path, key), expected: `a field of ${type.name} (${type.fieldsArray.map((f) => f.name).join(', ')})`, got: 'an unknown field' });
      continue;
    }
    if (field.name in result) {
      out.push({ field: join(path, field.name), expected: 'the field once', got: `both ${field.name} and ${jsonName(field)}` });
      continue;
    }
    // null stands for the field's default: leave it unset.
    if (value === null) continue;
    result[field.name] = fieldValue(field, value, join(path, field.name), out);
  }
  return result;
}
