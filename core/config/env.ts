import { envKeys } from './keys.ts';
import { emptyLayer, parseValue, type Layer } from './layer.ts';

/**
 * Reads the configuration environment variables. An empty value is kept, so that it is reported, not ignored (OTEL_*
 * aside, as their spec says).
 */
export function readEnv(env: Record<string, string | undefined>): Layer {
  const layer = emptyLayer();
  for (const [name, { path, parse }] of Object.entries(envKeys)) {
    const raw = env[name];
    // OpenTelemetry's rule for its own variables: an empty value means unset.
    if (raw === '' && name.startsWith('OTEL_')) continue;
    if (raw !== undefined) layer.entries.set(path, { value: parseValue(raw, parse), source: `env ${name}` });
  }
  return layer;
}
