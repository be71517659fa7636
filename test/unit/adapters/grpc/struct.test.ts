import { describe, expect, it } from 'vitest';
import { jsonToStruct, structToJson, type ProtoStruct } from '../../../../adapters/grpc/struct.ts';

describe('google.protobuf.Struct conversion', () => {
  it('round-trips nested values as proto-loader decodes them', () => {
    const json = { brokers: ['a:1', 'b:2'], port: 9092, enabled: true, nested: { x: 'y', n: null } };
    const struct = jsonToStruct(json);
    // proto-loader with oneofs:true names the set field in `kind`.
    const decoded: ProtoStruct = JSON.parse(JSON.stringify(struct), (_k, v: unknown) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const kind = Object.keys(v).find((k) => k.endsWith('Value'));
        if (kind !== undefined && Object.keys(v).length === 1) return { ...v, kind };
      }
      return v;
    });
    expect(structToJson(decoded)).toEqual(json);
  });

  it('treats a missing Struct as empty', () => {
    expect(structToJson(undefined)).toEqual({});
  });
});
