import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/**
 * What bundling (build.mjs) must know of the client library, so that swapping the library changes only core/kafka/.
 *
 * @platformatic/kafka compiles ~40 JSON-schema validators (ajv) for its client options when its modules load: about a
 * third of a cold start, for validators of admin APIs we never call. Each is compiled on its first use instead.
 * Its wasm helpers read native.wasm from disk beside their module; the "bundled" build inlines it.
 */
const lazyValidators: Plugin = {
  name: 'lazy-validators',
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/]@platformatic[\\/]kafka[\\/]dist[\\/]clients[\\/].*options\.js$/ }, async (args) => {
      const code = await readFile(args.path, 'utf8');
      return { contents: code.replaceAll('ajv.compile(', '__prismLazyValidator(ajv, '), loader: 'js' };
    });
  },
};

export const clientBundling = {
  alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' } as Record<string, string>,
  plugins: [lazyValidators],
  /** Banner code the plugins' rewrites call: a validator compiled on first call (`errors` copied, callers read it). */
  banner: 'const __prismLazyValidator = (ajv, schema) => { let compiled; const validate = (data) => { compiled ??= ajv.compile(schema); const ok = compiled(data); validate.errors = compiled.errors; return ok; }; return validate; };',
};
