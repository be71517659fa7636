import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/install-go.sh', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'prism-go-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** As on a machine with no Go: a bare PATH, and the script told to look only at its own install directory. */
const run = () => execFileSync('bash', [script], {
  env: { HOME: dir, PATH: '/usr/bin:/bin', PRISM_GO_ROOT: join(dir, 'go'), PRISM_GO_IGNORE_SYSTEM: '1' },
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
}).trim().split('\n').at(-1)!;

describe('npm test where Go is missing: scripts/install-go.sh', () => {
  it('downloads the pinned Go release from the module proxy, checks it and installs a working go', () => {
    const bin = run();
    expect(bin).toBe(join(dir, 'go', 'bin'));
    expect(execFileSync(join(bin, 'go'), ['version'], { encoding: 'utf8' })).toMatch(/^go version go1\.\d+\.\d+ linux\//);
    // A second run finds it and downloads nothing.
    expect(run()).toBe(bin);
  }, 120_000);
});
