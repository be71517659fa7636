import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../../../../adapters/function', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
const importsOf = (file: string) => [...readFileSync(join(dir, file), 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

describe('the function adapter', () => {
  // One composition root per runtime; and the function bundle must not carry grpc-js (size, cold start).
  it.each(files)('%s imports nothing of the gRPC adapter or grpc-js, and reads no process.env outside the entry', (file) => {
    for (const spec of importsOf(file)) {
      expect(spec).not.toMatch(/(^|\/)adapters\/grpc\/|^\.\.\/grpc\//);
      expect(spec).not.toMatch(/^@grpc\//);
    }
    if (file !== 'main.ts') expect(readFileSync(join(dir, file), 'utf8')).not.toMatch(/process\.env/);
  });
});
