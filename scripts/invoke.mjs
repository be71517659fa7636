// Invokes the function bundle (dist/function.mjs) locally, as a function platform would, against a real broker:
//
//   npm run -s invoke -- <operation> ['<proto3 JSON request>'] [--http] [--timeout-ms N] [--repeat N] [--timing]
//
//   npm run -s invoke -- publish '{"topic":"orders","payload":"aGVsbG8="}'
//   npm run -s invoke -- tail '{"topic":"orders","start":"earliest","maxEvents":10}'
//   npm run -s invoke -- health
//
// KAFKA_BROKERS defaults to the local broker (127.0.0.1:9092); every other variable the server reads applies too.
// The answer (proto3 JSON) goes to stdout; an error goes to stderr as {code, message, request_id} with exit code 1.
// Log lines go to stderr (PRISM_LOG_LEVEL, default error: internal failures with their details).
// --http sends the request as an API Gateway v2 event (POST /<operation>) and prints the HTTP answer.
// --repeat runs the same invocation N times in one process (warm invocations); --timing prints the bundle's load
// time and the first and warm invocations' durations to stderr, for measuring cold and warm latency.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'function.mjs');

function usage(message) {
  process.stderr.write(`${message}\nusage: npm run -s invoke -- <operation> ['<json request>'] [--http] [--timeout-ms N] [--repeat N] [--timing]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const flags = { http: false, timing: false, timeoutMs: 30_000, repeat: 1 };
const positional = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--http') flags.http = true;
  else if (a === '--timing') flags.timing = true;
  else if (a === '--timeout-ms' || a === '--repeat') {
    const n = Number(args[++i]);
    if (!Number.isInteger(n) || n < 1) usage(`${a} expects a positive whole number`);
    if (a === '--repeat') flags.repeat = n;
    else flags.timeoutMs = n;
  } else positional.push(a);
}
const [operation, text = '{}'] = positional;
if (operation === undefined) usage('missing the operation');
let request;
try {
  request = JSON.parse(text);
} catch {
  usage(`the request is not JSON: ${text}`);
}

process.env.KAFKA_BROKERS ??= '127.0.0.1:9092';
process.env.PRISM_LOG_LEVEL ??= 'error';

if (!existsSync(bundle)) {
  process.stderr.write('dist/function.mjs is missing; building it first (npm run build)\n');
  execFileSync(process.execPath, [join(root, 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const loadStarted = performance.now();
const { createFunctionRuntime } = await import(bundle);
// A runtime of our own, so log lines can go to stderr and the answer alone to stdout.
const { runtime, handler } = createFunctionRuntime({ env: process.env, logWrite: (line) => process.stderr.write(line) });
const loadMs = performance.now() - loadStarted;

const context = () => {
  const until = Date.now() + flags.timeoutMs;
  return { awsRequestId: randomUUID(), functionName: 'prism-kafka-local', getRemainingTimeInMillis: () => until - Date.now() };
};
const event = () => (flags.http
  ? { version: '2.0', rawPath: `/${operation}`, headers: { 'content-type': 'application/json' }, requestContext: { http: { method: 'POST', path: `/${operation}` } }, body: JSON.stringify(request), isBase64Encoded: false }
  : { operation, request });

let exitCode = 0;
const durations = [];
let answer;
for (let i = 0; i < flags.repeat; i++) {
  const started = performance.now();
  try {
    answer = await handler(event(), context());
  } catch (err) {
    answer = undefined;
    process.stderr.write(`${JSON.stringify({ code: err.code ?? err.name, message: err.message, request_id: err.request_id })}\n`);
    exitCode = 1;
  }
  durations.push(performance.now() - started);
}
if (answer !== undefined) {
  if (flags.http && answer.statusCode >= 400) exitCode = 1;
  process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
}
if (flags.timing) {
  const sorted = [...durations].slice(1).sort((a, b) => a - b);
  const pick = (q) => (sorted.length === 0 ? undefined : Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2)));
  process.stderr.write(`${JSON.stringify({
    bundle_load_ms: Number(loadMs.toFixed(2)),
    first_invocation_ms: Number(durations[0].toFixed(2)),
    warm_invocations: sorted.length,
    warm_p50_ms: pick(0.5),
    warm_p99_ms: pick(0.99),
    connection_builds: runtime.cacheStats.builds,
  })}\n`);
}
await runtime.close();
process.exit(exitCode);
