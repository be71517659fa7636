import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Every log line a plugin instance writes during `npm test` is also kept under `.cache/test-logs/<run>/` (one file
 * per process or in-process instance), and every secret the tests create is registered in its `secrets` file (one
 * per line, never printed). The `log-scan` project, which runs after all the others, scans every kept line for
 * every registered secret (test/log-scan/).
 *
 * Only under vitest (or with PRISM_TEST_LOGS=1): the benchmark and the soak command share these helpers and keep
 * nothing here.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every run's kept logs are under here, one directory per run. */
export const testLogsRoot = join(root, '.cache', 'test-logs');

/**
 * The run's directory: the log-scan project's global set-up names the run (PRISM_TEST_RUN_ID, set before any worker
 * starts, so every test file of the run writes to it). Runs without the log-scan project keep their logs under
 * `no-run-id`. Separate directories keep concurrent runs on one machine (developers share work trees) apart.
 */
export const runDir = (runId = process.env.PRISM_TEST_RUN_ID) => join(testLogsRoot, runId ?? 'no-run-id');

const enabled = () => process.env.VITEST !== undefined || process.env.PRISM_TEST_LOGS === '1';

let counter = 0;

/** The test file this code runs for, when vitest says (a file name says more than a pid). */
function currentTestFile(): string | undefined {
  const state = (globalThis as { __vitest_worker__?: { filepath?: string } }).__vitest_worker__;
  return state?.filepath === undefined ? undefined : basename(state.filepath).replace(/\.test\.ts$/, '');
}

const slug = (text: string) => text.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'log';

/** A new file for one process or instance: `<test file>--<label>--<pid>-<n>.log`. */
export function newLogFile(label: string): string | undefined {
  if (!enabled()) return undefined;
  const dir = runDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${slug(currentTestFile() ?? 'no-test-file')}--${slug(label)}--${process.pid}-${++counter}.log`);
  appendFileSync(file, '');
  return file;
}

/**
 * A writer for whole log lines (a pino destination): each line is appended at once, synchronously, so nothing is
 * lost when a worker ends. Returns a no-op outside tests.
 */
export function captureLines(label: string): (line: string) => void {
  const file = newLogFile(label);
  if (file === undefined) return () => undefined;
  return (line: string) => {
    try {
      appendFileSync(file, line.endsWith('\n') ? line : `${line}\n`);
    } catch {
      // Never let log keeping break a test.
    }
  };
}

/** A writer for a child process's output chunks (stdout and stderr into one file). */
export function captureChunks(label: string): (chunk: Buffer | string) => void {
  const file = newLogFile(label);
  if (file === undefined) return () => undefined;
  return (chunk) => {
    try {
      appendFileSync(file, chunk);
    } catch {
      // as above
    }
  };
}

/** Shorter values are not registered: they would match ordinary text (the plugin's scrubber draws the same line). */
export const minSecretLength = 6;

/** Registers a secret a test created or read, so the log scan looks for it; never printed. */
export function registerSecret(value: string | undefined | null): void {
  if (!enabled() || typeof value !== 'string') return;
  const secret = value.trim();
  if (secret.length < minSecretLength || secret.includes('\n')) return;
  try {
    const dir = runDir();
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, 'secrets'), `${secret}\n`);
  } catch {
    // as above
  }
}

/** Environment variables that carry secrets: passwords, tokens, secret ids. */
export const secretEnvName = /PASSWORD|TOKEN|SECRET/i;

/** Registers the values of every secret-named variable of an environment handed to a plugin. */
export function registerSecretsFromEnv(env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) if (secretEnvName.test(name) && !name.endsWith('_FILE')) registerSecret(value);
}

/** Registers every secret-looking value of a JSON document (an OpenBao answer): client tokens, secret ids, passwords. */
export function registerSecretsIn(doc: unknown, depth = 0): void {
  if (depth > 8 || doc === null || typeof doc !== 'object') return;
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (typeof value === 'string' && /^(client_token|token|secret_id|password|secret)$/i.test(key)) registerSecret(value);
    else registerSecretsIn(value, depth + 1);
  }
}

/** The registered secrets of a run, each once. */
export function readSecrets(dir = runDir()): string[] {
  const file = join(dir, 'secrets');
  if (!existsSync(file)) return [];
  return [...new Set(readFileSync(file, 'utf8').split('\n').filter((s) => s.length > 0))];
}

/** The kept log files of a run. */
export function listLogFiles(dir = runDir()): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.log')).sort().map((f) => join(dir, f));
}

/** Runs older than this are deleted when a new run starts (a concurrent run's directory is left alone). */
const keepRunsMs = 6 * 3600_000;

/**
 * Starts a run: a new directory named by a new run id (returned), and the directories of runs older than six hours
 * deleted (the last run's stays, for a rescan).
 */
export function startRun(now = Date.now()): string {
  const runId = `${new Date(now).toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
  mkdirSync(testLogsRoot, { recursive: true });
  for (const entry of readdirSync(testLogsRoot, { withFileTypes: true })) {
    const path = join(testLogsRoot, entry.name);
    try {
      if (now - statSync(path).mtimeMs > keepRunsMs) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another run may be removing it too.
    }
  }
  mkdirSync(runDir(runId), { recursive: true });
  return runId;
}

/** The most recently started run's id (for a rescan without a run of its own). */
export function latestRun(): string | undefined {
  if (!existsSync(testLogsRoot)) return undefined;
  const runs = readdirSync(testLogsRoot, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== 'no-run-id')
    .map((e) => ({ name: e.name, started: existsSync(join(testLogsRoot, e.name, 'run')) ? statSync(join(testLogsRoot, e.name, 'run')).mtimeMs : 0 }));
  return runs.sort((a, b) => b.started - a.started)[0]?.name;
}
