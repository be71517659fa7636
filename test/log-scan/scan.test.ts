import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, inject, it } from 'vitest';
import { listLogFiles, readSecrets, runDir } from '../support/test-logs.ts';
import { assertClean, generatedPasswords, report, scanFiles } from './scan.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The last group of `npm test`: every log line any plugin instance wrote during the run (kept in .cache/test-logs/ by
 * test/support/test-logs.ts) must hold none of the secrets the tests created or the infrastructure generated, and
 * no secret-named field with a clear value.
 */
it('no password, token or secret id in any log line of the run', () => {
  const dir = runDir(inject('testLogsRun'));
  const files = listLogFiles(dir);
  const secrets = [...new Set([
    ...readSecrets(dir),
    ...generatedPasswords(join(root, '.cache')),
    // The local OpenBao's dev root token: known to every test, never to be logged.
    process.env.PRISM_TEST_OPENBAO_TOKEN ?? 'prism-dev-root',
  ])];
  const result = scanFiles(files, secrets);
  console.log(report(result));
  expect(result.secrets).toBeGreaterThan(0);
  assertClean(result);
  console.log(`log-scan: kept in ${dir}`);
});
