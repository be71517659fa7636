import type { KafkaPort } from './kafka/port.ts';

/** Health as LifecycleInterface names it; the numbers are the proto enum values and the metric's values. */
export const healthStatusValue = { HEALTHY: 1, DEGRADED: 2, UNHEALTHY: 3 } as const;
export type HealthStatus = keyof typeof healthStatusValue;

export interface HealthReport {
  status: HealthStatus;
  /** Always non-empty: says why when not healthy. */
  message: string;
  details: Record<string, string>;
  /** Ready for data traffic (maps to gRPC SERVING and HTTP 200 on the readiness probes). */
  ready: boolean;
}

/** What readiness needs to know about the Kafka credentials (the credential source's status). */
export interface CredentialHealth {
  /** false: no usable credentials (never fetched, or expired): not ready, UNHEALTHY. */
  valid: boolean;
  /** Usable but at risk (e.g. the secret store is unreachable and cached credentials are in use): DEGRADED, still ready. */
  degraded?: string;
  message?: string;
  /** Seconds until the credentials expire, when they do. */
  expiresInS?: number;
  /** Where they come from (`config`, `vault-lease`, `vault-kv`…). */
  source?: string;
}

/** Both runtimes' timing: a probe every 2 s; readiness needs a successful round trip within the last 6 s. */
export const healthTiming = { intervalMs: 2_000, staleAfterMs: 6_000, timeoutMs: 2_000 };

export interface HealthMonitorOptions {
  kafka: KafkaPort;
  /** Records handed to the producer and not yet acknowledged. */
  pending: () => number;
  topic: string;
  brokers: string[];
  /** How often the brokers are probed in the background (default `healthTiming`). */
  intervalMs?: number;
  /** A probe older than this no longer counts as "reachable" (a hung broker must not look healthy forever). */
  staleAfterMs?: number;
  timeoutMs?: number;
  /** The credentials' state, read at every report; absent means there is nothing to check (PLAINTEXT or static). */
  credentials?: () => CredentialHealth;
  /** Total consumer lag over the open queue subscriptions, when known. */
  consumerLag?: () => number | undefined;
  now?: () => number;
}

/**
 * The one source of health: gRPC Check/Watch, LifecycleInterface.HealthCheck, the HTTP readiness probes and the
 * health metric all read `report()`. Tracks the truth about the brokers with a metadata round trip every
 * `intervalMs`, and tells listeners when the overall status changes.
 *
 * Ready = a round trip succeeded within `staleAfterMs` AND the credentials are valid AND not draining. Degraded
 * credentials are reported (DEGRADED) but stay ready: traffic still flows on the cached credentials.
 */
export class HealthMonitor {
  readonly #o: HealthMonitorOptions & typeof healthTiming;
  readonly #now: () => number;
  readonly #listeners = new Set<(report: HealthReport) => void>();
  #lastOkAt: number | undefined;
  #lastError: string | undefined;
  #brokerCount = 0;
  #draining: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> | undefined;
  #lastStatus: string | undefined;

  constructor(options: HealthMonitorOptions) {
    this.#o = { ...healthTiming, ...options };
    this.#now = options.now ?? Date.now;
  }

  /** Starts background probing (first probe at once). Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    void this.probe();
    this.#timer = setInterval(() => void this.probe(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Probes the brokers now; concurrent callers share one round trip. */
  probe(): Promise<void> {
    this.#inflight ??= this.#o.kafka
      .ping({ timeoutMs: this.#o.timeoutMs })
      .then((info) => {
        this.#lastOkAt = this.#now();
        this.#lastError = undefined;
        this.#brokerCount = info.brokers.length;
      })
      .catch((err: unknown) => {
        this.#lastError = err instanceof Error ? err.message : String(err);
      })
      .finally(() => {
        this.#inflight = undefined;
        this.#notify();
      });
    return this.#inflight;
  }

  /** Marks the plugin as draining: not ready, whatever the brokers say. */
  setDraining(reason: string | undefined): void {
    this.#draining = reason;
    this.#notify();
  }

  onChange(listener: (report: HealthReport) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  report(): HealthReport {
    const now = this.#now();
    const reachable = this.#lastOkAt !== undefined && now - this.#lastOkAt <= this.#o.staleAfterMs;
    const credentials = this.#credentials();
    const lag = this.#o.consumerLag?.();
    const details: Record<string, string> = {
      brokers: this.#o.brokers.join(','),
      brokers_reachable: String(reachable),
      broker_count: String(this.#brokerCount),
      producer_queue: String(this.#o.pending()),
      topic: this.#o.topic,
    };
    if (lag !== undefined) details.consumer_lag = String(lag);
    if (credentials?.source !== undefined) details.credential_source = credentials.source;
    if (credentials?.expiresInS !== undefined) details.credential_expires_in_s = String(credentials.expiresInS);
    if (this.#lastOkAt !== undefined) details.last_contact_ms_ago = String(now - this.#lastOkAt);
    if (this.#lastError !== undefined) details.last_error = this.#lastError;
    if (this.#draining !== undefined) return { status: 'DEGRADED', message: `draining: ${this.#draining}`, details: { ...details, draining: 'true' }, ready: false };
    const problems: string[] = [];
    if (!reachable) problems.push(this.#lastError ?? (this.#lastOkAt === undefined ? `no answer yet from brokers ${this.#o.brokers.join(',')}` : `no answer from brokers for ${now - this.#lastOkAt} ms`));
    if (credentials?.valid === false) problems.push(credentials.message ?? 'the Kafka credentials are not valid');
    if (problems.length > 0) return { status: 'UNHEALTHY', message: problems.join('; '), details, ready: false };
    if (credentials?.degraded !== undefined) return { status: 'DEGRADED', message: credentials.degraded, details, ready: true };
    return { status: 'HEALTHY', message: `connected to ${this.#brokerCount} broker(s)`, details, ready: true };
  }

  /** The credentials hook's answer; a hook that throws counts as invalid credentials (fail closed). */
  #credentials(): CredentialHealth | undefined {
    try {
      return this.#o.credentials?.();
    } catch (err) {
      return { valid: false, message: `credential status unavailable: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  #notify(): void {
    const report = this.report();
    const key = `${report.status}/${report.ready}`;
    if (key === this.#lastStatus) return;
    this.#lastStatus = key;
    for (const listener of this.#listeners) listener(report);
  }
}
