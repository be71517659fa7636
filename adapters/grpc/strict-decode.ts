import { isUtf8 } from 'node:buffer';
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { invalidArgument, type FieldViolation } from '../../core/errors.ts';
import { servedProtos } from '../protos/files.ts';
import { protoRoot } from '../protos/root.ts';

/** Marks a request whose bytes did not decode as its message type. */
const MALFORMED = Symbol.for('prism.kafka-plugin.malformed-request');

/**
 * grpc-js answers a request it cannot decode with INTERNAL ("Error deserializing request"), which tells the caller
 * nothing and looks like our fault. This wraps every method's decoder so that undecodable bytes reach our wrappers
 * as a marker, which they answer with INVALID_ARGUMENT naming the message type.
 *
 * It is also strict where protobufjs is lenient: protobufjs reads a known field whatever wire type it arrives with
 * (a group id sent as a varint can become a valid id) and replaces bytes that are not UTF-8 in string fields with
 * U+FFFD (so a metadata value would be written to Kafka altered). Before decoding, the bytes are walked against the
 * request's message type: a known field with the wrong wire type, or a string field (also in maps and nested
 * messages) that is not UTF-8 — which proto3 forbids — is answered INVALID_ARGUMENT naming the field.
 */
export function lenientDecoding(definition: ServiceDefinition): ServiceDefinition {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    const path = method.path;
    const type = requestType(path);
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          const violation = type === undefined ? undefined : checkWire(type, bytes);
          if (violation !== undefined) return { [MALFORMED]: violation };
          return decode(bytes) as unknown;
        } catch (err) {
          const violation: FieldViolation = {
            field: 'request',
            expected: `a valid protobuf message for ${path}`,
            got: `${bytes.length} bytes that do not decode (${(err as Error).message})`,
          };
          return { [MALFORMED]: violation };
        }
      },
    };
  }
  return out as ServiceDefinition;
}

/** Throws INVALID_ARGUMENT when the request is the marker of undecodable bytes. */
export function assertDecoded(request: unknown): void {
  if (request !== null && typeof request === 'object' && MALFORMED in request) {
    throw invalidArgument([(request as Record<symbol, FieldViolation>)[MALFORMED]!]);
  }
}

/** The request message type of a method path (`/package.Service/Method`), from the protos we serve. */
function requestType(path: string): protobuf.Type | undefined {
  const [, service, method] = /^\/([^/]+)\/([^/]+)$/.exec(path) ?? [];
  if (service === undefined || method === undefined) return undefined;
  try {
    return protoRoot(servedProtos).lookupService(service).methods[method]?.resolvedRequestType ?? undefined;
  } catch {
    return undefined;
  }
}

/** The wire type each scalar type is encoded with. */
const wireTypes: Record<string, number> = {
  double: 1, float: 5, int32: 0, uint32: 0, sint32: 0, fixed32: 5, sfixed32: 5,
  int64: 0, uint64: 0, sint64: 0, fixed64: 1, sfixed64: 1, bool: 0, string: 2, bytes: 2,
};

/** Nesting beyond this is refused (recursive messages such as Struct could otherwise exhaust the stack). */
const maxDepth = 64;

/** The first wire-level violation in `bytes` as a message of `type`; throws (RangeError…) on bytes that do not parse. */
export function checkWire(type: protobuf.Type, bytes: Uint8Array): FieldViolation | undefined {
  const reader = protobuf.Reader.create(bytes);
  return checkMessage(type, reader, reader.len, '', 0);
}

function checkMessage(type: protobuf.Type, reader: protobuf.Reader, end: number, path: string, depth: number): FieldViolation | undefined {
  if (depth > maxDepth) return { field: path, expected: `messages nested at most ${maxDepth} deep` };
  const seen = new Map<number, number>();
  while (reader.pos < end) {
    const tag = reader.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 0) throw new RangeError(`field number 0 at offset ${reader.pos}`);
    const field = type.fieldsById[no];
    if (field === undefined) {
      reader.skipType(wt);
      continue;
    }
    let name = path === '' ? field.name : `${path}.${field.name}`;
    if (field.repeated && !field.map) {
      const index = seen.get(no) ?? 0;
      seen.set(no, index + 1);
      if (field.resolvedType instanceof protobuf.Type) name = `${name}[${index}]`;
    }
    const violation = field.map ? checkMap(field as unknown as protobuf.MapField, wt, reader, name, depth) : checkValue(field.type, field.resolvedType, wt, reader, name, depth, field.repeated);
    if (violation !== undefined) return violation;
  }
  if (reader.pos !== end) throw new RangeError(`a field runs past its message at offset ${reader.pos}`);
  return undefined;
}

function checkValue(
  typeName: string, resolved: protobuf.ReflectionObject | null, wt: number, reader: protobuf.Reader, name: string, depth: number, repeated = false,
): FieldViolation | undefined {
  if (resolved instanceof protobuf.Type) {
    if (wt !== 2) return wrongWireType(name, `a ${resolved.name} message`, 2, wt);
    const length = reader.uint32();
    const end = reader.pos + length;
    if (end > reader.len) throw new RangeError(`${name}: length ${length} runs past the end`);
    return checkMessage(resolved, reader, end, name, depth + 1);
  }
  const expected = resolved instanceof protobuf.Enum ? 0 : wireTypes[typeName];
  if (expected === undefined || wt === expected) {
    if (typeName === 'string' && wt === 2) {
      const text = reader.bytes();
      if (!isUtf8(text)) return { field: name, expected: 'text in UTF-8', got: `${text.length} bytes that are not UTF-8` };
    } else reader.skipType(wt);
    return undefined;
  }
  // Repeated numbers may come packed (one length-delimited run).
  if (repeated && wt === 2) {
    reader.skipType(2);
    return undefined;
  }
  return wrongWireType(name, article(resolved instanceof protobuf.Enum ? 'enum' : typeName), expected, wt);
}

function checkMap(field: protobuf.MapField, wt: number, reader: protobuf.Reader, name: string, depth: number): FieldViolation | undefined {
  if (wt !== 2) return wrongWireType(name, 'a map entry', 2, wt);
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > reader.len) throw new RangeError(`${name}: length ${length} runs past the end`);
  let label = name;
  while (reader.pos < end) {
    const tag = reader.uint32();
    const no = tag >>> 3;
    const entryWt = tag & 7;
    if (no === 1) {
      if (field.keyType === 'string' && entryWt === 2) {
        const key = reader.bytes();
        if (!isUtf8(key)) return { field: name, expected: 'keys in UTF-8', got: `a key of ${key.length} bytes that are not UTF-8` };
        label = `${name}[${JSON.stringify(Buffer.from(key).toString('utf8'))}]`;
      } else {
        const violation = checkValue(field.keyType, null, entryWt, reader, `${name} (key)`, depth);
        if (violation !== undefined) return violation;
      }
    } else if (no === 2) {
      const violation = checkValue(field.type, field.resolvedType, entryWt, reader, label, depth);
      if (violation !== undefined) return violation;
    } else reader.skipType(entryWt);
  }
  if (reader.pos !== end) throw new RangeError(`${name}: an entry runs past its end`);
  return undefined;
}

const article = (word: string) => `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;

function wrongWireType(field: string, what: string, expected: number, got: number): FieldViolation {
  return { field, expected: `${what} (wire type ${expected})`, got: `wire type ${got}` };
}
