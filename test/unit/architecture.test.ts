import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const importsOf = (file: string) => [...readFileSync(join(root, file), 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

function resolveLayer(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return relative(root, join(root, file, '..', spec)).split('/')[0]!;
}

describe('architecture: imports flow adapters → handlers → core', () => {
  it.each(files('core'))('%s imports no adapter, handler or gRPC code', (file) => {
    for (const spec of importsOf(file)) {
      expect(['adapters', 'handlers']).not.toContain(resolveLayer(file, spec));
      expect(spec).not.toMatch(/^@grpc\//);
    }
  });

  it.each(files('handlers'))('%s imports no adapter, gRPC or driver code', (file) => {
    for (const spec of importsOf(file)) {
      expect(resolveLayer(file, spec)).not.toBe('adapters');
      expect(spec).not.toMatch(/^(@grpc\/|@platformatic\/kafka|node-vault)/);
    }
  });

  it.each([...files('core'), ...files('handlers'), ...files('adapters')])('%s touches the Kafka client only from core/kafka', (file) => {
    const usesClient = importsOf(file).some((s) => s.startsWith('@platformatic/kafka'));
    if (usesClient) expect(file.startsWith('core/kafka/')).toBe(true);
    const usesVault = importsOf(file).some((s) => s === 'node-vault');
    if (usesVault) expect(file.startsWith('core/secrets/')).toBe(true);
  });

  // Swapping the client library means new files in core/kafka/ and nothing else (tests of core/kafka/ aside).
  it.each([...files('core'), ...files('handlers'), ...files('adapters'), 'build.mjs'].filter((f) => !f.startsWith('core/kafka/')))(
    '%s names neither the Kafka client library nor a core/kafka/platformatic-* module',
    (file) => {
      expect(readFileSync(join(root, file), 'utf8')).not.toMatch(/platformatic/i);
    },
  );

  // Tracing's library stays behind core/tracing/: the pipeline and the handlers see only its small interface.
  it.each([...files('core'), ...files('handlers'), ...files('adapters')].filter((f) => !f.startsWith('core/tracing/')))('%s imports no OpenTelemetry package', (file) => {
    for (const spec of importsOf(file)) expect(spec).not.toMatch(/^@opentelemetry\//);
  });

  it('handlers read no process.env', () => {
    for (const file of files('handlers')) expect(readFileSync(join(root, file), 'utf8')).not.toMatch(/process\.env/);
  });
});
