/**
 * Fields whose values differ on every run: a documented value that fits the pattern stands for any value that fits
 * it; a documented value that does not (a caller's own message id, an empty cursor) must appear exactly.
 */
export const volatileFields: Record<string, RegExp> = {
  messageId: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  'prism-message-id': /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  timestamp: /^\d{13}$/,
  offset: /^\d+$/,
  receipt: /^\S+$/,
  subscriptionId: /^\S+$/,
  cursor: /^[A-Za-z0-9_-]+$/,
  nextCursor: /^[A-Za-z0-9_-]+$/,
  protoHash: /^[0-9a-f]{64}$/,
  last_contact_ms_ago: /^\d+$/,
  brokers: /^[\w.-]+:\d+(,[\w.-]+:\d+)*$/,
};

/** Where `actual` differs from the documented `expected` (empty when it matches), as "path: why" lines. */
export function mismatches(expected: unknown, actual: unknown, path = '$'): string[] {
  const field = path.slice(path.lastIndexOf('.') + 1);
  const pattern = volatileFields[field];
  if (pattern !== undefined && typeof expected === 'string' && pattern.test(expected)) {
    return typeof actual === 'string' && pattern.test(actual) ? [] : [`${path}: expected a value like ${JSON.stringify(expected)} (${String(pattern)}), got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${JSON.stringify(actual)}`];
    if (actual.length !== expected.length) return [`${path}: expected ${expected.length} items, got ${actual.length}: ${JSON.stringify(actual)}`];
    return expected.flatMap((e, i) => mismatches(e, actual[i], `${path}[${i}]`));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const extra = Object.keys(a).filter((k) => !(k in e)).map((k) => `${path}.${k}: not documented, got ${JSON.stringify(a[k])}`);
    return [...extra, ...Object.keys(e).flatMap((k) => (k in a ? mismatches(e[k], a[k], `${path}.${k}`) : [`${path}.${k}: documented, missing`]))];
  }
  return Object.is(expected, actual) ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}
