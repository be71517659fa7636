import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The bundle's copy, written by build.mjs beside dist/server.mjs. */
const bundled = join(here, 'descriptors.binpb');
const sourceRoot = join(here, '..', '..');
/** From source (tests, `npm run dev`): a git-ignored file that build-descriptors.mjs writes. */
const fromSource = join(sourceRoot, '.cache', 'descriptors', 'prism.binpb');

/** Newest modification time of the files the source-run set is compiled from. */
function newestInput(): number {
  const protos = readdirSync(join(sourceRoot, 'proto'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.proto'))
    .map((e) => join(e.parentPath, e.name));
  return Math.max(...[...protos, join(sourceRoot, 'build-descriptors.mjs')].map((f) => statSync(f).mtimeMs));
}

/**
 * The FileDescriptorSet (compiled by buf at build time) that reflection serves. A bundle reads the file shipped beside
 * it; a run from source compiles its own into .cache/ when missing or older than a proto file, once per process.
 */
export function readDescriptorSet(): Buffer {
  if (existsSync(bundled)) return readFileSync(bundled);
  const script = join(sourceRoot, 'build-descriptors.mjs');
  if (!existsSync(script)) throw new Error(`${bundled} is missing: the bundle was not built by build.mjs`);
  if (!existsSync(fromSource) || statSync(fromSource).mtimeMs < newestInput()) {
    execFileSync(process.execPath, [script, fromSource], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return readFileSync(fromSource);
}
