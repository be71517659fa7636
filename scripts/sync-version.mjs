// Writes package.json's version (the one version source, core/version.ts) into the files that cannot import it:
// the Prism pattern-launcher manifest. Run by `npm version` (package.json "version" script), which then stages it.
// Usage: node scripts/sync-version.mjs [--check]   (--check: exit 1 when a file disagrees, change nothing)
import { readFileSync, writeFileSync } from 'node:fs';
import { URL } from 'node:url';

const root = new URL('../', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const manifest = new URL('deploy/manifest/kafka/manifest.yaml', root);
const text = readFileSync(manifest, 'utf8');
if (!/^version: .*$/m.test(text)) throw new Error('deploy/manifest/kafka/manifest.yaml has no top-level "version:" line');
const synced = text.replace(/^version: .*$/m, `version: ${version}`);
if (synced === text) process.exit(0);
if (process.argv.includes('--check')) {
  process.stderr.write(`deploy/manifest/kafka/manifest.yaml does not say version ${version}: run node scripts/sync-version.mjs\n`);
  process.exit(1);
}
writeFileSync(manifest, synced);
process.stdout.write(`deploy/manifest/kafka/manifest.yaml: version ${version}\n`);
