import { envKeys } from './keys.ts';
import { emptyLayer, parseValue, type Layer } from './layer.ts';

/** Reads the configuration environment variables. An empty value is kept, so that it is reported, not ignored. */
export function readEnv(env: Record<string, string | undefined>): Layer {
  const layer = emptyLayer();
  for (const [name, { path, parse }] of Object.entries(envKeys)) {
    const raw = env[name];
    if (raw !== undefined) layer.entries.set(path, { value: parseValue(raw, parse), source: `env ${name}` });
  }
  return layer;
}
