import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The bench's own build of the bundles (build.mjs with PRISM_BUILD_OUTDIR): a build or test run elsewhere in the
 * repository empties dist/ while it rebuilds, which would pull the files from under a running bench.
 */
export const distDir = join(root, '.cache/bench/dist');
