import { showValue } from '../errors.ts';
import { readEnv } from './env.ts';
import { readConfigFile } from './file.ts';
import { configFileEnv } from './keys.ts';
import type { Entry, Layer } from './layer.ts';
import { configSchema, crossFieldProblems, secretPaths, type Config } from './schema.ts';

/** Thrown when configuration is invalid; `problems` lists every one, each naming its source and what is expected. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface ConfigSources {
  env: Record<string, string | undefined>;
  /** Path of the YAML file and where that path came from; defaults to the env var. */
  file?: { path: string; named: string };
  /** Layers above the environment, lowest first (Initialize's Struct, then command-line flags). */
  overrides?: Layer[];
}

/**
 * Parses the configuration once: defaults < YAML file < environment < overrides. Reports every problem at once.
 * @throws ConfigError
 */
export function loadConfig(sources: ConfigSources): Config {
  const filePath = sources.file ?? (sources.env[configFileEnv] === undefined ? undefined : { path: sources.env[configFileEnv], named: `env ${configFileEnv}` });
  const layers: Layer[] = [];
  if (filePath !== undefined) layers.push(readConfigFile(filePath.path, filePath.named));
  layers.push(readEnv(sources.env), ...(sources.overrides ?? []));
  return parseLayers(layers);
}

/** Merges layers (later wins) and validates the result with the schema. @throws ConfigError */
export function parseLayers(layers: Layer[]): Config {
  const merged = new Map<string, Entry>();
  const problems: string[] = [];
  for (const layer of layers) {
    problems.push(...layer.problems);
    for (const [path, entry] of layer.entries) merged.set(path, entry);
  }
  const raw: Record<string, unknown> = {};
  for (const [path, { value }] of merged) setPath(raw, path.split('.'), value);

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const keys = issue.path.map(String);
      const owner = findOwner(merged, keys);
      const got = secretPaths.has(owner?.path ?? '') ? '(hidden)' : showValue(getPath(raw, keys));
      const entryNote = owner !== undefined && keys.length > owner.path.split('.').length ? ` (entry ${Number(keys.at(-1)) + 1})` : '';
      problems.push(`${owner?.entry.source ?? keys.join('.')}${entryNote}: ${issue.message}, got ${got}`);
    }
  }
  if (result.success) {
    for (const { path, message } of crossFieldProblems(result.data)) problems.push(`${merged.get(path)?.source ?? path}: ${message}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return (result as { data: Config }).data;
}

function findOwner(merged: Map<string, Entry>, keys: string[]): { path: string; entry: Entry } | undefined {
  for (let n = keys.length; n > 0; n--) {
    const path = keys.slice(0, n).join('.');
    const entry = merged.get(path);
    if (entry !== undefined) return { path, entry };
  }
  return undefined;
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = (next !== null && typeof next === 'object' ? next : (node[key] = {})) as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

function getPath(source: unknown, keys: string[]): unknown {
  let node = source;
  for (const key of keys) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}
