// Bundles each runtime entry into one ESM file in dist/ that runs on a bare Node.js 24 with no node_modules.
// Runtime assets (proto files, and the FileDescriptorSet buf compiles from them for server reflection) are copied
// beside the bundle.
import { build } from 'esbuild';
import { copyFile, cp, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDescriptorSet, defaultDescriptorSet } from './build-descriptors.mjs';
import { clientBundling } from './core/kafka/bundling.ts';
import { standardProtos } from './adapters/protos/files.ts';

const root = dirname(fileURLToPath(import.meta.url));
const outdir = process.env.PRISM_BUILD_OUTDIR ?? join(root, 'dist');
// server: the gRPC runtime (container, Prism launch); function: the function runtime (Lambda-compatible handler).
const entries = { server: 'adapters/grpc/main.ts', function: 'adapters/function/main.ts' };

// Packages that load files relative to their own module (__dirname). Their asset folders are copied to
// dist/assets/<same path under node_modules>, and __dirname in their code is rewritten to point there.
// grpc-js reads its channelz/ORCA protos lazily; pino's transport workers are never used (we log to stdout).
// (@grpc/reflection is not bundled: reflection serves the compiled set, adapters/grpc/reflection-service.ts.)
const assetDirs = ['grpc-health-check/proto', '@grpc/grpc-js/proto'];
const allowedDirnameUsers = ['grpc-health-check/', '@grpc/grpc-js/', 'pino/', 'thread-stream'];

const dirnameRewrite = {
  name: 'dirname-rewrite',
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/].*\.js$/ }, async (args) => {
      const code = await readFile(args.path, 'utf8');
      if (!code.includes('__dirname')) return undefined;
      const rel = relative(join(root, 'node_modules'), dirname(args.path)).split('\\').join('/');
      if (!allowedDirnameUsers.some((p) => rel.startsWith(p))) {
        return { errors: [{ text: `${rel} uses __dirname; add its assets to build.mjs (assetDirs) or it will break in the bundle` }] };
      }
      return { contents: code.replaceAll('__dirname', `__prismAssetDir(${JSON.stringify(rel)})`), loader: 'js' };
    });
  },
};

// A bundle is ESM; bundled CommonJS code still calls require() and reads __dirname.
const banner = [
  "import { createRequire as __prismCreateRequire } from 'node:module';",
  "import { fileURLToPath as __prismFileURLToPath } from 'node:url';",
  "import { dirname as __prismDirname, join as __prismJoin } from 'node:path';",
  'const require = __prismCreateRequire(import.meta.url);',
  'const __prismBundleDir = __prismDirname(__prismFileURLToPath(import.meta.url));',
  "const __prismAssetDir = (rel) => __prismJoin(__prismBundleDir, 'assets', rel);",
  // What the Kafka client library's own rewrites call (core/kafka/bundling.ts).
  clientBundling.banner,
].join('\n');

// Compiled first: a missing compiler fails the build before esbuild runs (build-descriptors.mjs says how to get it).
await buildDescriptorSet();
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: entries,
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: true,
  banner: { js: banner },
  // The one version source (core/version.ts): package.json, read here, not at run time.
  define: { PRISM_PLUGIN_VERSION: JSON.stringify(JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version) },
  alias: clientBundling.alias,
  plugins: [dirnameRewrite, ...clientBundling.plugins],
  // Whitespace and syntax only: identifiers stay, so stack traces read without the source map. The function bundle
  // loads ~25 % faster (cold start), the server's start-up too. PRISM_BUILD_MINIFY=0 keeps esbuild's per-module
  // comments, which `npm run bench -- --profile` needs to attribute samples to packages.
  minifyWhitespace: process.env.PRISM_BUILD_MINIFY !== '0',
  minifySyntax: process.env.PRISM_BUILD_MINIFY !== '0',
  logLevel: 'warning',
});

await cp(join(root, 'proto'), join(outdir, 'proto'), { recursive: true });
// grpc.health.v1 and grpc.reflection beside ours, under their canonical paths (adapters/protos/files.ts reads them there).
for (const [canonical, file] of Object.entries(standardProtos)) {
  await mkdir(dirname(join(outdir, 'proto', canonical)), { recursive: true });
  await copyFile(join(root, 'node_modules', file), join(outdir, 'proto', canonical));
}
// Read by adapters/grpc/descriptor-set.ts beside the bundle; never rebuilt at run time.
await copyFile(defaultDescriptorSet, join(outdir, 'descriptors.binpb'));
for (const dir of assetDirs) await cp(join(root, 'node_modules', dir), join(outdir, 'assets', dir), { recursive: true });

for (const name of Object.keys(entries)) {
  const file = join(outdir, `${name}.mjs`);
  const { size } = await stat(file);
  console.log(`built ${relative(root, file)}: ${(size / 1024).toFixed(0)} KiB`);
}
void result;
