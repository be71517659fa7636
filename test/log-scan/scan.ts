import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * The log scan: every kept log line of a test run (test/support/test-logs.ts) is searched for every registered
 * secret, in the forms a log line can carry it (as is, JSON-escaped, URL-encoded), and for secret-named JSON fields
 * whose value is not redacted. Findings name file and line and show the secret masked, never whole.
 */

export interface Finding {
  file: string;
  line: number;
  what: string;
}

export interface ScanResult {
  files: number;
  lines: number;
  secrets: number;
  findings: Finding[];
}

/** A secret as a report may show it: its first two characters and its length. */
export function mask(secret: string): string {
  return `${secret.slice(0, 2)}…(${secret.length} chars)`;
}

/** JSON fields that must never carry a clear value in a log line: passwords, tokens, secret ids. */
const secretField = /"([A-Za-z_]*[pP]assword|(?:[A-Za-z]+_)?token|[a-z]+Token|secret|secret_?[iI]d)"\s*:\s*"((?:[^"\\]|\\.)*)"/g;
/** What a redacted value looks like: our loggers' censor, asterisks, or nothing. */
const redacted = /^(?:\[REDACTED\]|\*+|)$/;

/** The forms a secret can take in a log line. */
function needles(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])];
}

/** Scans one file's text; appends findings (one per secret or field per line). Returns the number of lines. */
export function scanText(file: string, text: string, secrets: readonly string[], findings: Finding[]): number {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const forms = secrets.map((s) => ({ secret: s, forms: needles(s) }));
  lines.forEach((line, i) => {
    for (const { secret, forms: fs } of forms) {
      if (fs.some((f) => line.includes(f))) findings.push({ file, line: i + 1, what: `registered secret ${mask(secret)}` });
    }
    for (const m of line.matchAll(secretField)) {
      if (!redacted.test(m[2]!)) findings.push({ file, line: i + 1, what: `field "${m[1]}" with a value that is not redacted: ${mask(m[2]!)}` });
    }
  });
  return lines.length;
}

/** Scans files for secrets. */
export function scanFiles(files: readonly string[], secrets: readonly string[]): ScanResult {
  const findings: Finding[] = [];
  let lines = 0;
  for (const file of files) lines += scanText(file, readFileSync(file, 'utf8'), secrets, findings);
  return { files: files.length, lines, secrets: secrets.length, findings };
}

/** What the scan checked, and each finding as `file:line: what` (secrets masked). */
export function report(result: ScanResult, limit = 50): string {
  const head = `log-scan: ${result.lines} lines in ${result.files} files checked for ${result.secrets} secrets and secret-named fields: ${result.findings.length} findings`;
  const shown = result.findings.slice(0, limit).map((f) => `  ${basename(f.file)}:${f.line}: ${f.what}`);
  const more = result.findings.length > limit ? [`  … and ${result.findings.length - limit} more`] : [];
  return [head, ...shown, ...more].join('\n');
}

/** Throws unless the scan looked at something and found nothing. */
export function assertClean(result: ScanResult): void {
  if (result.files === 0 || result.lines === 0) {
    throw new Error(`log-scan: no log lines to scan (${result.files} files): a scan of nothing proves nothing — did the other projects run, and do their plugins log through test/support (spawnNode, startPlugin, captureLines)?`);
  }
  if (result.findings.length > 0) throw new Error(report(result));
}

/**
 * Kafka admin passwords the infrastructure generated (`admin.password` under `.cache/`, the shared broker's and
 * private brokers' that are still there): secrets the suite holds even where no test registered them.
 */
export function generatedPasswords(cacheDir: string, depth = 5): string[] {
  const out: string[] = [];
  const walk = (dir: string, left: number) => {
    if (left < 0 || !existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'test-logs') walk(path, left - 1);
      else if (entry.isFile() && entry.name === 'admin.password') out.push(readFileSync(path, 'utf8').trim());
    }
  };
  walk(cacheDir, depth);
  return out.filter((p) => p.length > 0);
}
