import { z } from 'zod';

/**
 * Request pieces shared by the stream handlers. Requests arrive as the proto decodes them (int64 as decimal strings,
 * bytes as Buffers, proto3 defaults for unset fields), or as plain JSON; both are accepted. Zero means "not set"
 * where the proto says so.
 */

export { topicName } from '../../core/config/schema.ts';

/** Latest representable date (ECMAScript): a bound for any millisecond timestamp we accept. */
export const maxTimeMs = 8_640_000_000_000_000;

const integerText = /^-?\d{1,19}$/;

/**
 * An int64 as number, decimal string (as gRPC delivers it) or bigint → a safe integer number within [min, max]. Every
 * way to miss — wrong type, text that is no integer, out of range whatever the form — answers the one `expected`
 * text, which should state the range; never a zod default. Use it for every int64 field rather than a union of
 * number and pattern-checked string, whose pattern failure would leak zod's text for "-1" or a 17-digit value.
 */
export const int64 = (expected: string, min: number, max: number) =>
  z
    .union([z.number(), z.string(), z.bigint()], { error: `expected ${expected}` })
    .refine((v) => (typeof v === 'string' ? integerText.test(v) : typeof v === 'bigint' || Number.isSafeInteger(v)), { error: `expected ${expected}` })
    .transform((v) => Number(v) + 0) // + 0: "-0" and -0 are 0
    .refine((v) => Number.isSafeInteger(v) && v >= min && v <= max, { error: `expected ${expected}` });

/** A millisecond timestamp from 0 to the latest representable date; `expected` should state that range. */
export const timeMs = (expected: string) => int64(expected, 0, maxTimeMs);

/** A millisecond timestamp where 0 (the proto default) means "not set". */
export const optionalTimeMs = (what: string) =>
  timeMs(`${what}: Unix epoch milliseconds, 0 or more`)
    .optional()
    .transform((v) => (v === undefined || v === 0 ? undefined : v));

/** A Kafka offset: a non-negative 64-bit integer, kept as its decimal string. */
export const offset = z
  .union([z.string(), z.number(), z.bigint()], { error: 'expected an offset: a whole number, 0 or more' })
  .transform((v) => String(v))
  .refine((v) => /^\d{1,19}$/.test(v) && BigInt(v) <= 9_223_372_036_854_775_807n, { error: 'expected an offset: a whole number, 0 or more' })
  .transform((v) => String(BigInt(v)));

/** A partition number. */
export const partition = z
  .number({ error: 'expected a partition number' })
  .int({ error: 'expected a partition number: a whole number, 0 or more' })
  .min(0, { error: 'expected a partition number: a whole number, 0 or more' })
  .max(1_000_000, { error: 'expected a partition number below 1000000' });

/** Bytes as proto-loader gives them (Buffer), or any Uint8Array. */
export const bytes = (what: string) =>
  z.instanceof(Uint8Array, { error: `expected ${what} as bytes` }).transform((b) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)));

/** Tags (Kafka header names and values): non-empty names, UTF-8 values. */
export const tags = (what: string) =>
  z
    .record(
      z.string().min(1, { error: `expected ${what} names of 1–256 characters` }).max(256, { error: `expected ${what} names of 1–256 characters` }),
      z.string({ error: `expected ${what} values as strings` }),
      { error: `expected ${what} as a map of name to value` },
    )
    .default({});

/** A Tail or Query filter on the record key; an unset proto3 optional arrives as undefined. */
export const keyFilter = bytes('key_filter').optional().nullable().transform((v) => v ?? undefined);
