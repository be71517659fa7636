import { status } from '@grpc/grpc-js';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** Where the Publish answer put a record. */
export interface Position { topic: string; partition: number; offset: bigint }

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
  /** Acknowledged ids never delivered, together with the skipped ones (each id counted once). */
  lost: number;
  /** Acknowledged ids the group's committed offset passed that no consumer acked and the DLQ does not hold. */
  skipped: number;
  /** Failed publish calls by gRPC status name (UNAVAILABLE, DEADLINE_EXCEEDED, …). */
  failures: Record<string, number>;
  /** Scenario-specific figures (recovery seconds, kills, consumer-acked ids delivered again, …). */
  extra: Record<string, number | string>;
  seconds: number;
}

/**
 * The books of one fault scenario: every id sent, every id the plugin acknowledged (and where it was written),
 * every delivery, every consumer ack and dead-letter. Lost means "acknowledged by the plugin and never delivered",
 * or skipped: passed by the group's committed offset (read from the broker, `audit`) although no consumer acked it
 * and it is not on the dead-letter topic. An unacknowledged publish may or may not arrive (at-least-once says
 * nothing about calls that failed), so those are counted but never called lost.
 */
export class Ledger {
  readonly sent = new Set<string>();
  readonly acked = new Set<string>();
  /** id → where its Publish answer said it was written (only scenarios that record it). */
  readonly positions = new Map<string, Position>();
  /** id → times delivered. */
  readonly deliveries = new Map<string, number>();
  /** Ids whose delivery the consumer acknowledged (committed) and whose Ack call the plugin answered. */
  readonly consumerAcked = new Set<string>();
  /** Ids whose Ack call failed (a killed plugin): the commit may or may not have happened, so never called skipped. */
  readonly consumerAckUnanswered = new Set<string>();
  /** Ids a Nack without requeue was answered as dead-lettered for. */
  readonly nackDeadLettered = new Set<string>();
  /** Ids found on the dead-letter topic (the broker's word, `audit`). */
  readonly deadLettered = new Set<string>();
  /** Ids delivered again after the consumer's ack was answered (must be zero for committed offsets). */
  readonly redeliveredAfterAck = new Set<string>();
  readonly failures: Record<string, number> = {};
  readonly extra: Record<string, number | string> = {};
  readonly #started = Date.now();
  /** `topic/partition` → the group's committed offset, once audited. */
  #committed: Map<string, bigint> | undefined;

  constructor(readonly scenario: string) {}

  send(id: string): void {
    this.sent.add(id);
  }

  ack(id: string, at?: Position): void {
    this.acked.add(id);
    if (at !== undefined) this.positions.set(id, at);
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

  /** Records what the broker says at the end: the group's committed offsets and the ids on the dead-letter topics. */
  audit(committed: { topic: string; partition: number; committed: bigint | undefined }[], deadLettered: Iterable<string>): void {
    this.#committed = new Map();
    for (const c of committed) if (c.committed !== undefined) this.#committed.set(`${c.topic}/${String(c.partition)}`, c.committed);
    for (const id of deadLettered) this.deadLettered.add(id);
  }

  /** Acknowledged ids not delivered (yet). */
  missing(): string[] {
    return [...this.acked].filter((id) => !this.deliveries.has(id));
  }

  /** Acknowledged ids below the committed offset of their partition that were neither consumer-acked nor dead-lettered. */
  skipped(): string[] {
    const committed = this.#committed;
    if (committed === undefined) return [];
    return [...this.positions].filter(([id, at]) => {
      const upTo = committed.get(`${at.topic}/${String(at.partition)}`);
      return upTo !== undefined && at.offset < upTo && !this.settledByConsumer(id);
    }).map(([id]) => id);
  }

  /** Acked by a consumer (answered, or an Ack whose answer was lost) or on the dead-letter topic. */
  settledByConsumer(id: string): boolean {
    return this.consumerAcked.has(id) || this.consumerAckUnanswered.has(id) || this.deadLettered.has(id);
  }

  report(): FaultReport {
    let duplicated = 0;
    for (const n of this.deliveries.values()) duplicated += n - 1;
    const skipped = this.skipped();
    return {
      scenario: this.scenario,
      sent: this.sent.size,
      acked: this.acked.size,
      delivered: this.deliveries.size,
      duplicated,
      lost: new Set([...this.missing(), ...skipped]).size,
      skipped: skipped.length,
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
    console.log(`faults: ${r.scenario}: sent=${String(r.sent)} acked=${String(r.acked)} delivered=${String(r.delivered)} duplicated=${String(r.duplicated)} lost=${String(r.lost)} skipped=${String(r.skipped)} failed_calls=${failures} ${extra} seconds=${String(r.seconds)}`);
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
