// Compiles the protos that server reflection describes into one FileDescriptorSet, with buf (a real protobuf
// compiler): reflection then serves exactly the compiler's descriptors (map entry names, json_name, proto3 optional),
// never ones rebuilt at run time. Called by build.mjs (the set ships in dist/) and, for runs from source, on demand by
// adapters/grpc/descriptor-set.ts. Usage: node build-descriptors.mjs [out-file]   (default .cache/descriptors/prism.binpb)
//
// Inputs: proto/ (our protos, with the well-known types they import) and the standard protos the server also serves
// (grpc.health.v1 from grpc-health-check, grpc.reflection v1/v1alpha from @grpc/reflection) under their canonical paths.
// Where buf cannot run (the image's build stage has no Go), an existing set is reused when the recorded SHA-256 of every
// input still matches; anything else fails, naming the fix.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { standardProtos } from './adapters/protos/files.ts';

const root = dirname(fileURLToPath(import.meta.url));
export const defaultDescriptorSet = join(root, '.cache', 'descriptors', 'prism.binpb');

/** Standard protos served beside ours: canonical path (what grpc-go serves them as) → file under the repository. */
export const extraProtos = Object.fromEntries(Object.entries(standardProtos).map(([canonical, file]) => [canonical, join('node_modules', file)]));

async function protoFilesUnder(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.proto')).map((e) => join(e.parentPath, e.name)).sort();
}

/** "sha256  path" per input, the compiler's version first: the set is current exactly when this text is unchanged. */
async function inputsManifest() {
  const files = [...(await protoFilesUnder(join(root, 'proto'))), ...Object.values(extraProtos).map((p) => join(root, p))];
  const lines = [`buf ${bufVersion}`];
  for (const file of files) lines.push(`${createHash('sha256').update(await readFile(file)).digest('hex')}  ${relative(root, file)}`);
  return `${lines.join('\n')}\n`;
}

// Pinned with scripts/install-tools.sh; a different compiler could emit different descriptors.
const bufVersion = '1.75.0';

/** buf from PRISM_BUF, scripts/install-tools.sh's bin directory or PATH; installed by that script when Go is here. */
function findBuf() {
  const candidates = [process.env.PRISM_BUF, join(process.env.PRISM_TOOLS_BIN ?? join(root, '.cache', 'tools', 'bin'), 'buf'), 'buf'];
  for (const bin of candidates) {
    if (bin === undefined || bin === '') continue;
    try {
      if (execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === bufVersion) return bin;
    } catch {
      // Not there (or not runnable): try the next one.
    }
  }
  const installer = join(root, 'scripts', 'install-tools.sh');
  if (!existsSync(installer)) return undefined;
  try {
    execFileSync('bash', [installer], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    return undefined;
  }
  return join(process.env.PRISM_TOOLS_BIN ?? join(root, '.cache', 'tools', 'bin'), 'buf');
}

/** One buf build of `input` into a binary FileDescriptorSet: imports included (well-known types), no source info. */
function bufBuild(buf, input, out) {
  execFileSync(buf, ['build', input, '--as-file-descriptor-set', '--exclude-source-info', '-o', out], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Writes the set to `out` (and `out`.inputs); returns whether it compiled (false: reused a current one). */
export async function buildDescriptorSet(out = defaultDescriptorSet) {
  const manifest = await inputsManifest();
  const buf = findBuf();
  if (buf === undefined) {
    const recorded = await readFile(`${out}.inputs`, 'utf8').catch(() => '');
    if (existsSync(out) && recorded === manifest) return false;
    throw new Error(`buf ${bufVersion} is needed to compile proto/ into ${relative(root, out)} (run scripts/install-tools.sh, `
      + 'which needs Go), or a set compiled on the host from the same protos (scripts/image/build.sh prepares one)');
  }
  const work = await mkdtemp(join(tmpdir(), 'prism-descriptors-'));
  try {
    // The standard protos under their canonical paths, compiled apart from proto/ so buf.yaml's lint scope stays ours.
    const extras = join(work, 'extras');
    for (const [name, file] of Object.entries(extraProtos)) {
      await mkdir(dirname(join(extras, name)), { recursive: true });
      await cp(join(root, file), join(extras, name));
    }
    bufBuild(buf, join(root, 'proto'), join(work, 'ours.binpb'));
    bufBuild(buf, extras, join(work, 'extras.binpb'));
    // A FileDescriptorSet is one repeated field: two serialized sets concatenated are the set of both files lists
    // (the extras import nothing, so no file appears twice).
    const set = Buffer.concat([await readFile(join(work, 'ours.binpb')), await readFile(join(work, 'extras.binpb'))]);
    await mkdir(dirname(out), { recursive: true });
    // Renamed into place: a server starting from source meanwhile (another test worker) reads the old or the new set,
    // never half of one.
    await writeFile(`${out}.${process.pid}`, set);
    await rename(`${out}.${process.pid}`, out);
    await writeFile(`${out}.inputs`, manifest);
    return true;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? defaultDescriptorSet;
  const compiled = await buildDescriptorSet(out);
  process.stdout.write(`${compiled ? 'compiled' : 'reused (buf not available; inputs unchanged)'} ${relative(root, out) || out}\n`);
}
