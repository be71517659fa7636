import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { normaliseKey, sectionKeys } from './keys.ts';
import { emptyLayer, readBackendMap, unknownKey, type Layer } from './layer.ts';

const sections = ['plugin', 'control_plane', 'backend', 'backends', 'consumer', 'logging'];

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Nested maps (consumer.retry_policy) become dotted keys: `retry_policy.max_retries`. */
function flatten(body: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(body).flatMap(([k, v]) => (isMap(v) ? flatten(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]]));
}

/**
 * Reads the YAML file in the SDK's shape (`plugin`, `control_plane`, `backend` or `backends`, `logging`).
 * `named` says where the path came from (e.g. `env PRISM_PLUGIN_CONFIG`), for a missing file's message.
 */
export function readConfigFile(path: string, named: string): Layer {
  const layer = emptyLayer();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code);
    layer.problems.push(`${named}: cannot read configuration file ${JSON.stringify(path)}: ${why}`);
    return layer;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    layer.problems.push(`file ${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    return layer;
  }
  if (doc === null || doc === undefined) return layer;
  if (!isMap(doc)) {
    layer.problems.push(`file ${path}: expected a mapping with sections ${sections.join(', ')}`);
    return layer;
  }
  const at = (key: string) => `file ${path}: ${key}`;
  for (const [section, body] of Object.entries(doc)) {
    const ns = normaliseKey(section);
    if (ns === 'backend' || ns === 'backends') {
      if (!isMap(body)) {
        layer.problems.push(`${at(section)}: expected a mapping of backend keys`);
        continue;
      }
      // Newer files nest the driver under its name (`backends: { kafka: {…} }`).
      const inner = ns === 'backends' && isMap(body.kafka) ? body.kafka : body;
      const prefix = inner === body ? section : `${section}.kafka`;
      readBackendMap(inner, (k) => at(`${prefix}.${k}`), layer);
      continue;
    }
    const keys = sectionKeys[ns];
    if (keys === undefined) {
      layer.problems.push(unknownKey(at(section), section, sections));
      continue;
    }
    if (!isMap(body)) {
      layer.problems.push(`${at(section)}: expected a mapping`);
      continue;
    }
    for (const [key, value] of flatten(body)) {
      const path = keys[normaliseKey(key)];
      if (path === undefined) layer.problems.push(unknownKey(at(`${section}.${key}`), key, Object.keys(keys)));
      else layer.entries.set(path, { value, source: at(`${section}.${key}`) });
    }
  }
  return layer;
}
