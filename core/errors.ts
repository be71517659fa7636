/**
 * The one closed set of plugin errors. Every error that reaches a caller is one of these; each carries a stable
 * string `code` (never an integer: grpc-js reads an integer `code` on a thrown error as a gRPC status), a
 * `retryable` flag, an `expose` flag (may the message be shown to the caller) and the original `cause`.
 */

/** Brand shared across bundles: `instanceof` fails when a class is duplicated, a global symbol does not. */
const BRAND = Symbol.for('prism.kafka-plugin.error');

export const errorCodes = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'CANCELLED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export interface FieldViolation {
  /** Dotted path of the offending field, e.g. `topic` or `records[3].payload`. */
  field: string;
  /** What was expected, in words a caller can act on. */
  expected: string;
  /** The value received, already made safe to show (truncated, secrets masked). */
  got?: string;
}

interface ErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  violations?: FieldViolation[];
}

export class PluginError extends Error {
  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly expose: boolean;
  readonly violations: FieldViolation[];

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = `PluginError[${code}]`;
    this.code = code;
    this.retryable = options.retryable ?? (code === 'UNAVAILABLE' || code === 'DEADLINE_EXCEEDED');
    // Internal failures may carry driver details or addresses; callers get a generic text instead.
    this.expose = code !== 'INTERNAL';
    this.violations = options.violations ?? [];
  }
}

/** True for any plugin error, even one built by another copy of this module. */
export function isPluginError(value: unknown): value is PluginError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** One message naming every offending field, its value and what is expected. */
export function formatViolations(violations: FieldViolation[]): string {
  return violations
    .map((v) => (v.got === undefined ? `${v.field}: expected ${v.expected}` : `${v.field}: expected ${v.expected}, got ${v.got}`))
    .join('; ');
}

export function invalidArgument(violations: FieldViolation[], cause?: unknown): PluginError {
  return new PluginError('INVALID_ARGUMENT', `invalid request: ${formatViolations(violations)}`, { violations, cause });
}

/** Shows a received value safely: JSON-quoted, truncated, never longer than a line. */
export function showValue(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.length} bytes>`;
  else if (value === undefined) return 'nothing';
  else {
    try {
      // JSON.stringify gives undefined for functions and symbols.
      const json: string | undefined = JSON.stringify(value);
      text = json ?? typeof value;
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}
