import { showValue } from '../errors.ts';
import { backendKeys, connectionObjectKeys, normaliseKey, type Parse } from './keys.ts';

/** One configuration value and where it came from, e.g. `env KAFKA_TOPIC` or `file a.yaml: backend.topic`. */
export interface Entry {
  value: unknown;
  source: string;
}

/** Values of one source keyed by canonical path, plus the problems found while reading it. */
export interface Layer {
  entries: Map<string, Entry>;
  problems: string[];
}

export const emptyLayer = (): Layer => ({ entries: new Map(), problems: [] });

/** Splits `a:1, b:2` (or a YAML list) into trimmed entries; anything else is kept for the schema to reject. */
export function parseValue(raw: unknown, parse: Parse): unknown {
  if (parse === 'string') return raw;
  if (parse === 'connection' && typeof raw === 'string') {
    // Upstream writes `kafka://b1:9092,b2:9092`; the scheme carries no information for us.
    return raw.replace(/^[a-z+]+:\/\//i, '').split(',').map((s) => s.trim());
  }
  if (typeof raw === 'string') return raw.split(',').map((s) => s.trim());
  if (Array.isArray(raw)) return raw.map((s: unknown) => (typeof s === 'string' ? s.trim() : s));
  return raw;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(normaliseKey(word), normaliseKey(c));
    if (d <= 2 && (best === undefined || d < best.d)) best = { c, d };
  }
  return best?.c;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** A problem line for a key nobody knows, with a suggestion when one is close. */
export function unknownKey(where: string, key: string, known: string[]): string {
  const hint = closest(key, known);
  return `${where}: unknown key${hint === undefined ? '' : ` (did you mean ${hint}?)`}; known keys: ${known.join(', ')}`;
}

const backendSpellings = [
  'brokers', 'connection', 'topic', 'consumer_group', 'group_id', 'client_id', 'compression', 'acks', 'auto_offset_reset',
  'security_protocol', 'sasl_mechanism', 'sasl_username', 'sasl_password', 'max_message_bytes', 'auto_create_topics', 'request_timeout_ms',
  'connect_timeout_ms', 'vault_enabled', 'vault_path', 'vault_addr', 'vault_namespace', 'vault_cacert', 'vault_auth', 'vault_role', 'vault_role_id', 'vault_secret_id_file', 'vault_token_file', 'vault_kv_refresh', 'tls_ca_file', 'tls_cert_file', 'tls_key_file', 'tls_server_name', 'auth', 'credentials', 'driver_options', 'connection_string',
];

/**
 * Reads a map of backend keys in any upstream spelling (YAML `backend:`, Initialize's Struct, `driver_options`).
 * `where(key)` names a key for messages, e.g. `file a.yaml: backend.topic`.
 */
export function readBackendMap(map: Record<string, unknown>, where: (key: string) => string, layer: Layer): void {
  for (const [key, raw] of Object.entries(map)) {
    const nk = normaliseKey(key);
    if (nk === 'connection' && raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
      readNested(raw as Record<string, unknown>, connectionObjectKeys, (k) => where(`${key}.${k}`), layer);
      continue;
    }
    if (nk === 'credentials' && raw !== null && typeof raw === 'object') {
      readNested(raw as Record<string, unknown>, { username: { path: 'kafka.sasl.username', parse: 'string' }, password: { path: 'kafka.sasl.password', parse: 'string' } }, (k) => where(`${key}.${k}`), layer);
      continue;
    }
    if (nk === 'auth' && raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
      readAuth(raw as Record<string, unknown>, (k) => where(`${key}.${k}`), layer);
      continue;
    }
    if (nk === 'driveroptions' && raw !== null && typeof raw === 'object') {
      readBackendMap(raw as Record<string, unknown>, (k) => where(`${key}.${k}`), layer);
      continue;
    }
    const known = backendKeys[nk];
    if (known === undefined) {
      layer.problems.push(unknownKey(where(key), key, backendSpellings));
      continue;
    }
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
      layer.problems.push(`${where(key)}: expected a single value, got ${showValue(raw)}`);
      continue;
    }
    layer.entries.set(known.path, { value: parseValue(raw, known.parse), source: where(key) });
  }
}

/** RFC-011's `auth: {type: vault-dynamic, path}`: Vault credentials at `path` (dynamic or KV). */
function readAuth(map: Record<string, unknown>, where: (key: string) => string, layer: Layer): void {
  for (const [key, raw] of Object.entries(map)) {
    const nk = normaliseKey(key);
    if (nk === 'type') {
      if (raw === 'vault-dynamic' || raw === 'vault' || raw === 'vault-kv') layer.entries.set('vault.enabled', { value: true, source: where(key) });
      else layer.problems.push(`${where(key)}: expected vault-dynamic or vault-kv, got ${showValue(raw)}`);
    } else if (nk === 'path') layer.entries.set('vault.path', { value: raw, source: where(key) });
    else layer.problems.push(unknownKey(where(key), key, ['type', 'path']));
  }
}

function readNested(map: Record<string, unknown>, keys: Record<string, { path: string; parse: Parse }>, where: (key: string) => string, layer: Layer): void {
  for (const [key, raw] of Object.entries(map)) {
    const known = keys[normaliseKey(key)];
    if (known === undefined) layer.problems.push(unknownKey(where(key), key, Object.keys(keys)));
    else layer.entries.set(known.path, { value: parseValue(raw, known.parse), source: where(key) });
  }
}
