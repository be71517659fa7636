import { status } from '@grpc/grpc-js';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** What one fault scenario counted; `lost` must be zero. */
export interface FaultReport {
  scenario: string;
  /** Publish attempts (each message id once, however often it was retried). */
  sent: number;
  /** Ids the plugin acknowledged (publish answered OK): these must never be lost. */
  acked: number;
  /** Distinct acknowledged-or-not ids that reached a consumer. */
  delivered: number;
  /** Deliveries beyond the first of each id. */
  duplicated: number;
  /** Acknowledged ids that no consumer received (and that are not on the log). */
  lost: number;
  /** Failed publish calls by gRPC status name (UNAVAILABLE, DEADLINE_EXCEEDED, …). */
  failures: Record<string, number>;
  /** Scenario-specific figures (recovery seconds, kills, consumer-acked ids delivered again, …). */
  extra: Record<string, number | string>;
  seconds: number;
}

/**
 * The books of one fault scenario: every id sent, every id the plugin acknowledged, every delivery. Lost means
 * "acknowledged by the plugin and never delivered"; an unacknowledged publish may or may not arrive (at-least-once
 * says nothing about calls that failed), so those are counted but never called lost.
 */
export class Ledger {
  readonly sent = new Set<string>();
  readonly acked = new Set<string>();
  /** id → times delivered. */
  readonly deliveries = new Map<string, number>();
  /** Ids whose delivery the consumer acknowledged (committed) and whose Ack call the plugin answered. */
  readonly consumerAcked = new Set<string>();
  /** Ids delivered again after the consumer's ack was answered (must be zero for committed offsets). */
  readonly redeliveredAfterAck = new Set<string>();
  readonly failures: Record<string, number> = {};
  readonly extra: Record<string, number | string> = {};
  readonly #started = Date.now();

  constructor(readonly scenario: string) {}

  send(id: string): void {
    this.sent.add(id);
  }

  ack(id: string): void {
    this.acked.add(id);
  }

  /** Counts a failed call by its gRPC status name (or the error's name when it has no gRPC code). */
  fail(err: unknown): void {
    const code = (err as { code?: unknown }).code;
    const name = typeof code === 'number' ? (status[code] ?? String(code)) : (err as Error).name;
    this.failures[name] = (this.failures[name] ?? 0) + 1;
  }

  deliver(id: string): void {
    const n = this.deliveries.get(id) ?? 0;
    this.deliveries.set(id, n + 1);
    if (n > 0 && this.consumerAcked.has(id)) this.redeliveredAfterAck.add(id);
  }

  consumerAck(id: string): void {
    this.consumerAcked.add(id);
  }

  /** Acknowledged ids not delivered (yet). */
  missing(): string[] {
    return [...this.acked].filter((id) => !this.deliveries.has(id));
  }

  report(): FaultReport {
    let duplicated = 0;
    for (const n of this.deliveries.values()) duplicated += n - 1;
    return {
      scenario: this.scenario,
      sent: this.sent.size,
      acked: this.acked.size,
      delivered: this.deliveries.size,
      duplicated,
      lost: this.missing().length,
      failures: { ...this.failures },
      extra: { ...this.extra, redelivered_after_ack: this.redeliveredAfterAck.size },
      seconds: Math.round((Date.now() - this.#started) / 100) / 10,
    };
  }

  /** Prints the counts (one `faults:` line) and appends them to the run's report file; returns them. */
  publish(): FaultReport {
    const r = this.report();
    const failures = Object.entries(r.failures).map(([k, v]) => `${k}=${String(v)}`).join(',') || 'none';
    const extra = Object.entries(r.extra).map(([k, v]) => `${k}=${String(v)}`).join(' ');
    console.log(`faults: ${r.scenario}: sent=${String(r.sent)} acked=${String(r.acked)} delivered=${String(r.delivered)} duplicated=${String(r.duplicated)} lost=${String(r.lost)} failed_calls=${failures} ${extra} seconds=${String(r.seconds)}`);
    const file = resolve(root, process.env.PRISM_FAULTS_REPORT ?? '.cache/faults/report.jsonl');
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...r })}\n`);
    return r;
  }
}

/**
 * How long a scenario keeps its load running: short in `npm test` / CI, longer under `npm run soak`
 * (which sets PRISM_FAULTS_LOAD_SECONDS). Test timeouts are derived from it.
 */
export function loadSeconds(ciDefault: number): number {
  const soak = Number(process.env.PRISM_FAULTS_LOAD_SECONDS);
  return Number.isFinite(soak) && soak > 0 ? Math.max(soak, ciDefault) : ciDefault;
}

/** A test timeout for a scenario whose load runs `seconds`, plus fixed set-up/tear-down time. */
export function timeoutFor(seconds: number, fixedSeconds: number): number {
  return (seconds + fixedSeconds) * 1_000;
}
