import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../core/config/schema.ts';
import { pluginVersion } from '../../../core/version.ts';

const root = new URL('../../../', import.meta.url);
const packageVersion = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string }).version;

describe('one version source: package.json', () => {
  it('is what the plugin reports when running from source, and the configured default', () => {
    expect(pluginVersion).toBe(packageVersion);
    expect(configSchema.parse({}).plugin.version).toBe(packageVersion);
  });

  it('is what the Prism manifest says (scripts/sync-version.mjs --check)', () => {
    expect(() => execFileSync(process.execPath, ['scripts/sync-version.mjs', '--check'], { cwd: root, stdio: 'pipe' })).not.toThrow();
    expect(readFileSync(new URL('deploy/manifest/kafka/manifest.yaml', root), 'utf8')).toMatch(new RegExp(`^version: ${packageVersion.replaceAll('.', '\\.')}$`, 'm'));
  });
});
