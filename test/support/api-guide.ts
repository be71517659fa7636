import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** One ```sh block of docs/api.md and the ```json (or ```text) block right after it: its documented standard output. */
export interface GuideStep {
  line: number;
  command: string;
  expected: string;
  format: 'json' | 'text' | 'none';
}

/** What running one step printed. */
export interface StepResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** The address and the topic value the guide's outputs were recorded with; the test substitutes its own. */
export const guideAddress = 'localhost:9091';
export const guideTopic = 'orders-demo';

/** The ```sh blocks of a Markdown text (not indented: set-up shown in a list is not run), each with its output. */
export function parseGuide(markdown: string): GuideStep[] {
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  const blocks = [...markdown.matchAll(fence)].map((m) => ({ lang: m[1]!, body: m[2]!, line: markdown.slice(0, m.index).split('\n').length }));
  return blocks.flatMap((b, i) => {
    if (b.lang !== 'sh') return [];
    const next = blocks[i + 1];
    const format = next?.lang === 'json' || next?.lang === 'text' ? next.lang : 'none';
    return [{ line: b.line, command: b.body, expected: format === 'none' ? '' : next!.body, format }];
  });
}

/**
 * Runs the steps in order in one bash, exactly as written except for the address, so that the shell variables and
 * files one step sets are what the next one reads (receipts, cursors). Each step's output is kept apart.
 */
export async function runGuide(steps: GuideStep[], options: { address: string; env: Record<string, string>; timeoutMs: number }): Promise<StepResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'api-guide-'));
  try {
    const script = steps.map((s, i) => `{\n${s.command.replaceAll(guideAddress, options.address)}\n} >out.${i} 2>err.${i}\necho $? >code.${i}\n`).join('');
    await writeFile(join(dir, 'guide.sh'), script);
    // A step that hangs is cut off by the timeout; the steps before it still report, the ones after have no exit code.
    await exec('bash', ['guide.sh'], { cwd: dir, env: { ...process.env, ...options.env }, timeout: options.timeoutMs }).catch(() => undefined);
    return await Promise.all(steps.map(async (_, i) => ({
      stdout: await readFile(join(dir, `out.${i}`), 'utf8').catch(() => ''),
      stderr: await readFile(join(dir, `err.${i}`), 'utf8').catch(() => ''),
      code: Number(await readFile(join(dir, `code.${i}`), 'utf8').catch(() => 'NaN')),
    })));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The JSON values of a text holding several, one after another (a streaming call prints one per message). */
export function jsonValues(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if ((c === '}' || c === ']') && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}
