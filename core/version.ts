import { readFileSync } from 'node:fs';

/** Set by build.mjs (esbuild `define`) from package.json; absent when running from source. */
declare const PRISM_PLUGIN_VERSION: string | undefined;

function fromPackageJson(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('package.json has no version');
  return pkg.version;
}

/**
 * The plugin's version, from its one source, package.json: injected into the bundle at build time, read from the
 * file when running from source. Initialize's metadata, the log lines, `--version`, kafka_plugin_build_info, the
 * Prism manifest (checked by a test) and the image tags all use it.
 */
export const pluginVersion: string = typeof PRISM_PLUGIN_VERSION === 'string' ? PRISM_PLUGIN_VERSION : fromPackageJson();
