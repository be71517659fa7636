import { normaliseKey } from './keys.ts';
import { emptyLayer, readBackendMap, type Layer } from './layer.ts';

/** Prism's proxy nests pattern settings here; they are not backend keys and are not ours to validate. */
const foreignSections = new Set(['slots', 'behavior', 'name', 'version', 'namespace', 'pattern']);

/**
 * Reads the config Struct of LifecycleInterface.Initialize: top-level keys are backend keys in any upstream spelling.
 * Numbers arrive as doubles; the schema coerces and checks integers.
 */
export function readInitializeConfig(config: Record<string, unknown>): Layer {
  const layer = emptyLayer();
  const backend = Object.fromEntries(Object.entries(config).filter(([key]) => !foreignSections.has(normaliseKey(key))));
  readBackendMap(backend, (key) => `Initialize config.${key}`, layer);
  return layer;
}
