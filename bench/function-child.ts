// Runs in its own process (spawned by bench/run.ts): loads the function bundle, publishes once (cold start), then
// alternates warm function invocations with the same publish sent directly by @platformatic/kafka.
// Prints one line `BENCH {json}` on stdout.
import { performance } from 'node:perf_hooks';

const [bundle, topic, roundsArg, perRoundArg] = process.argv.slice(2) as [string, string, string, string];
const rounds = Number(roundsArg);
const perRound = Number(perRoundArg);
const payload = Buffer.alloc(100, 7);
const context = () => ({ awsRequestId: `bench-${performance.now()}`, functionName: 'prism-bench', getRemainingTimeInMillis: () => 30_000 });

type Handler = (event: unknown, ctx: unknown) => Promise<Record<string, unknown>>;

const loadStart = performance.now();
const mod = (await import(bundle)) as { handler: Handler; runtime: { close(): Promise<void> } };
const loadMs = performance.now() - loadStart;
const event = { operation: 'publish', request: { topic, payload: payload.toString('base64') } };
const firstStart = performance.now();
const first = await mod.handler(event, context());
const firstMs = performance.now() - firstStart;
// performance.now() counts from the process's start: this is the whole cold start, Node's boot included.
const coldMs = performance.now();
if (typeof first.offset !== 'string') throw new Error(`first publish failed: ${JSON.stringify(first)}`);

// The direct client is loaded only after the cold start was measured, so it does not inflate it.
const { ProduceAcks, Producer } = await import('@platformatic/kafka');
const producer = new Producer({ clientId: 'bench-fn-direct', bootstrapBrokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'], acks: ProduceAcks.ALL, idempotent: true, compression: 'none' });
await producer.send({ messages: [{ topic, value: payload }] });

const fn: number[] = [];
const direct: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < perRound; i++) {
    const t = performance.now();
    const res = await mod.handler(event, context());
    fn.push(performance.now() - t);
    if (typeof res.offset !== 'string') throw new Error(`publish failed: ${JSON.stringify(res)}`);
  }
  for (let i = 0; i < perRound; i++) {
    const t = performance.now();
    await producer.send({ messages: [{ topic, value: payload }] });
    direct.push(performance.now() - t);
  }
}
await producer.close();
await mod.runtime.close();
process.stdout.write(`BENCH ${JSON.stringify({ loadMs, firstMs, coldMs, fn, direct })}\n`);
process.exit(0);
