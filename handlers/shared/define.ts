import type { z } from 'zod';
import { invalidArgument, showValue, type FieldViolation } from '../../core/errors.ts';
import type { CallContext } from '../../core/call/context.ts';

export type { CallContext };

const prevalidatedKey = Symbol('prism.prevalidated');

/**
 * A request an adapter's decoder already validated exactly as the operation's schema would (the hot gRPC decoders,
 * adapters/grpc/wire/), for the limits object of the deps it will run with: the handler skips its schema then.
 */
export interface Prevalidated {
  readonly [prevalidatedKey]: { operation: string; limits: object; value: unknown };
}

export function prevalidated(operation: string, limits: object, value: unknown): Prevalidated {
  return { [prevalidatedKey]: { operation, limits, value } };
}

/** A schema, or one built from deps when limits come from configuration (built once per deps object). */
export type InputSchema<Deps, In extends z.ZodType> = In | ((deps: Deps) => In);

export interface Handler<Deps, In extends z.ZodType, Out> {
  /** The operation name used in logs and metrics (`publish`, `tail`…). */
  operation: string;
  input: InputSchema<Deps, In>;
  /** Validates `raw`, then runs; a validation failure is an INVALID_ARGUMENT naming every bad field. */
  (deps: Deps, raw: unknown, ctx: CallContext): Promise<Out>;
}

/** Turns zod issues into field violations: the field's path, what is expected, the value received. */
export function violationsOf(error: z.ZodError, raw: unknown): FieldViolation[] {
  return error.issues.map((issue) => {
    let value: unknown = raw;
    for (const key of issue.path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
    const field = issue.path.length === 0 ? 'request' : issue.path.map((k, i) => {
      if (typeof k === 'number') return `[${k}]`;
      // Map keys can be anything (empty, dots, spaces): quote them so the path stays readable.
      if (typeof k !== 'string' || !/^\w[\w-]*$/.test(k)) return `[${JSON.stringify(String(k))}]`;
      return i === 0 ? k : `.${k}`;
    }).join('');
    return { field, expected: issue.message.replace(/^expected /, ''), got: showValue(value) };
  });
}

/**
 * Declares a handler: a pure async function `(deps, request, ctx) → response` whose input is validated with its zod
 * schema before `run` sees it, so `run` receives typed, trusted data.
 */
export function defineHandler<Deps, In extends z.ZodType, Out>(spec: {
  operation: string;
  input: InputSchema<Deps, In>;
  run: (deps: Deps, input: z.output<In>, ctx: CallContext) => Promise<Out>;
}): Handler<Deps, In, Out> {
  const built = new WeakMap<object, In>();
  const schemaFor = (deps: Deps): In => {
    if (typeof spec.input !== 'function') return spec.input;
    const key = deps as object;
    let schema = built.get(key);
    if (schema === undefined) built.set(key, (schema = spec.input(deps)));
    return schema;
  };
  const handler = async (deps: Deps, raw: unknown, ctx: CallContext): Promise<Out> => {
    const pre = (raw as Partial<Prevalidated> | null | undefined)?.[prevalidatedKey];
    if (pre !== undefined) {
      // Validated for other limits (the plugin was reconfigured in between): the schema decides, on the same values.
      if (pre.operation === spec.operation && pre.limits === (deps as { limits?: object }).limits) return spec.run(deps, pre.value as z.output<In>, ctx);
      raw = pre.value;
    }
    const parsed = schemaFor(deps).safeParse(raw);
    if (!parsed.success) throw invalidArgument(violationsOf(parsed.error, raw), parsed.error);
    return spec.run(deps, parsed.data, ctx);
  };
  return Object.assign(handler, { operation: spec.operation, input: spec.input });
}
