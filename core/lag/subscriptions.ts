/** What lag and unacked metrics need of a queue subscription (QueueSession has it). */
export interface WatchedSubscription {
  readonly options: { readonly id: string; readonly topic: string; readonly group: string };
  readonly unacked: number;
}

export interface GroupTopic {
  group: string;
  topic: string;
}

export interface OpenSubscriptionsOptions {
  /** The session registry is the truth about what is open; a watched subscription it no longer holds is dropped. */
  isOpen: (subscription: WatchedSubscription) => boolean;
  /** Called after each new subscription (starts the lag monitor on first use, remembers its group). */
  onAdd?: (subscription: WatchedSubscription) => void;
}

/**
 * The open queue subscriptions as the metrics see them: which groups to read lag for, and unacknowledged messages per
 * topic. Closed subscriptions are pruned on every read and every add, so memory stays bounded by what is open.
 */
export class OpenSubscriptions {
  readonly #o: OpenSubscriptionsOptions;
  readonly #all = new Set<WatchedSubscription>();

  constructor(options: OpenSubscriptionsOptions) {
    this.#o = options;
  }

  add(subscription: WatchedSubscription): void {
    this.#prune();
    this.#all.add(subscription);
    this.#o.onAdd?.(subscription);
  }

  list(): WatchedSubscription[] {
    this.#prune();
    return [...this.#all];
  }

  /** Distinct (group, topic) pairs of the open subscriptions, in the order they were first opened. */
  pairs(): GroupTopic[] {
    const seen = new Map<string, GroupTopic>();
    for (const { options } of this.list()) seen.set(`${options.group}\u0000${options.topic}`, { group: options.group, topic: options.topic });
    return [...seen.values()];
  }

  unackedByTopic(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.list()) out.set(s.options.topic, (out.get(s.options.topic) ?? 0) + s.unacked);
    return out;
  }

  #prune(): void {
    for (const s of this.#all) if (!this.#o.isOpen(s)) this.#all.delete(s);
  }
}
