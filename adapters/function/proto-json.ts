import type protobuf from 'protobufjs';
import { invalidArgument, showValue, type FieldViolation } from '../../core/errors.ts';
import { objectOptions } from '../protos/root.ts';
import { jsonName, readJsonMessage } from './json-fields.ts';

/**
 * The proto3 JSON mapping (https://protobuf.dev/programming-guides/json/) of our gRPC messages, so a caller can move
 * a payload between the gRPC and the function adapter unchanged. Both directions go through the protobuf binary
 * encoding, exactly as grpc-js does, so a handler sees the same object from either adapter.
 */

/**
 * proto3 JSON output: int64 as decimal strings, bytes as base64, enums by name. Fields at their default value are
 * emitted too (protojson's EmitUnpopulated), so a reader never has to know a default; an unset message field is null.
 */
const asJson: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, defaults: true, arrays: true, objects: true, oneofs: false, json: true };

/**
 * proto3 JSON → the request object a handler receives from the gRPC adapter. Accepts lowerCamelCase and original
 * field names, int64 as strings or numbers, bytes as standard or URL-safe base64, enums by name or number, null as
 * the default; refuses unknown fields and wrong JSON types with INVALID_ARGUMENT naming each field.
 */
export function decodeRequest(type: protobuf.Type, json: unknown): Record<string, unknown> {
  const violations: FieldViolation[] = [];
  const plain = json === undefined || json === null ? {} : readJsonMessage(type, json, '', violations);
  if (violations.length > 0) throw invalidArgument(violations);
  try {
    const wire = type.encode(type.fromObject(plain ?? {})).finish();
    return type.toObject(type.decode(wire), objectOptions);
  } catch (err) {
    // The reader checked types and ranges; anything protobufjs still refuses is reported the same way.
    throw invalidArgument([{ field: 'request', expected: `a ${type.name} message`, got: showValue(json) }], err);
  }
}

/** A handler's result → proto3 JSON, through the same binary encoding the gRPC adapter sends. */
export function encodeResponse(type: protobuf.Type, result: unknown): Record<string, unknown> {
  const wire = type.encode(type.fromObject(result as Record<string, unknown>)).finish();
  return jsonNames(type, type.toObject(type.decode(wire), asJson));
}

/** Renames an object's keys (original field names) to JSON names, through nested messages. */
function jsonNames(type: protobuf.Type, object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    if (!(field.name in object)) continue;
    const value = object[field.name];
    const nested = field.resolvedType;
    const isMessage = nested !== null && 'fieldsArray' in nested;
    let converted = value;
    if (isMessage && value !== null && value !== undefined) {
      const messageType = nested;
      if (field.map) converted = Object.fromEntries(Object.entries(value as Record<string, Record<string, unknown>>).map(([k, v]) => [k, jsonNames(messageType, v)]));
      else if (field.repeated) converted = (value as Record<string, unknown>[]).map((v) => jsonNames(messageType, v));
      else converted = jsonNames(messageType, value as Record<string, unknown>);
    }
    out[jsonName(field)] = converted;
  }
  return out;
}
