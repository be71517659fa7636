// The ceiling: Kafka's Java producer (kafka-producer-perf-test, tuned: bench/perf-test.ts) as fast as it goes, its
// 5 s windows as rounds after the first (JVM start and warm-up): P.ceilingWindows − 1 windows are kept.
import { log } from './lib.ts';
import { newTopic } from './infra.ts';
import { P } from './params.ts';
import { perfProps, perfTest } from './perf-test.ts';
import { addRow } from './results.ts';

export async function ceilingScenario(): Promise<{ recordsPerSec: number; usPerRecord: number } | undefined> {
  const topic = await newTopic('ceiling');
  log(`ceiling: kafka-producer-perf-test, ${P.ceilingWindows} windows of 5 s (${Object.entries(perfProps).map(([k, v]) => `${k}=${v}`).join(' ')})`);
  const windows = (await perfTest(topic, { size: P.recordBytes, throughput: -1, windows: P.ceilingWindows, durationMs: P.ceilingWindows * 5_000 + 60_000 }).done).slice(1);
  if (windows.length === 0) {
    log('ceiling: kafka-producer-perf-test reported no window');
    return undefined;
  }
  const m = addRow(`ceiling, ${P.recordBytes} B records`, `kafka-producer-perf-test (JVM), ${windows.length} windows of 5 s`, {
    'rec/s': windows.map((w) => w.recordsPerSec),
    'MB/s': windows.map((w) => w.mbPerSec),
    'avg ms': windows.map((w) => w.avgMs),
    'gen µs/rec': windows.map((w) => (w.jvmCpuMs * 1000) / (w.recordsPerSec * (w.wallMs / 1000))),
    'gen cores': windows.map((w) => w.jvmCpuMs / w.wallMs),
  }, `${Object.entries(perfProps).map(([k, v]) => `${k}=${v}`).join(' ')}; saturating, so its latency is queueing`);
  return { recordsPerSec: m['rec/s']!, usPerRecord: m['gen µs/rec']! };
}
