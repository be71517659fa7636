import type { ConnectionPool} from '@platformatic/kafka';
import { findCoordinatorV6, type Connection } from '@platformatic/kafka';
import { PluginError } from '../errors.ts';
import { classifyKafkaError, hasKafkaError } from './classify.ts';

/** FindCoordinator key type of a consumer group (Kafka protocol). */
const GROUP_KEY = 0;
/** Errors after which the coordinator must be looked up again (it moved, or is still loading the group). */
export const coordinatorMoved = ['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS'];

export interface Broker {
  host: string;
  port: number;
}

/** Parses `host:port` bootstrap entries (IPv6 in brackets). */
export function parseBrokers(brokers: string[]): Broker[] {
  return brokers.map((b) => {
    const i = b.lastIndexOf(':');
    return { host: b.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(b.slice(i + 1)) };
  });
}

/**
 * The connection to one group's coordinator, on a pool of its own (a long-polling Fetch on the same connection would
 * hold heartbeats back: a broker answers one connection's requests in order). Replaced whole on `reconnect()`.
 */
export class GroupCoordinator {
  readonly #group: string;
  readonly #bootstrap: Broker[];
  readonly #newPool: () => ConnectionPool;
  #pool: ConnectionPool;
  #broker: Broker | undefined;

  constructor(group: string, bootstrap: Broker[], newPool: () => ConnectionPool) {
    this.#group = group;
    this.#bootstrap = bootstrap;
    this.#newPool = newPool;
    this.#pool = newPool();
  }

  /** A connection to the coordinator, looked up when unknown. */
  async connection(): Promise<Connection> {
    const pool = this.#pool;
    if (this.#broker === undefined) {
      const any = await pool.getFirstAvailable(this.#bootstrap);
      const res = await findCoordinatorV6.api.async(any, GROUP_KEY, [this.#group]);
      const c = res.coordinators[0];
      if (c === undefined || c.nodeId < 0) throw new PluginError('UNAVAILABLE', `no coordinator for group ${this.#group} yet`);
      this.#broker = { host: c.host, port: c.port };
    }
    return pool.get(this.#broker);
  }

  /** Runs one request against the coordinator; a moved coordinator is looked up again and the request retried once. */
  async call<T>(doing: string, request: (connection: Connection) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(await this.connection());
      } catch (err) {
        const moved = hasKafkaError(err, coordinatorMoved) || (err as { code?: string }).code === 'PLT_KFK_NETWORK';
        if (moved) this.#broker = undefined;
        if (!moved || attempt >= 1) throw classifyKafkaError(err, doing);
      }
    }
  }

  /** Closes every connection; the next call opens new ones (with the credentials current then). */
  async reconnect(): Promise<void> {
    const old = this.#pool;
    this.#pool = this.#newPool();
    this.#broker = undefined;
    await old.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.#pool.close().catch(() => undefined);
  }
}
