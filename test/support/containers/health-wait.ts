import type { WaitStrategy } from 'testcontainers';

type Container = Parameters<WaitStrategy['waitUntilReady']>[0];

/**
 * Ready when GET url answers 200 (OpenBao's /v1/sys/health: initialised, unsealed, active). For containers on the
 * host's network, which have no mapped ports for testcontainers' own HTTP wait. Fails at once when the container
 * stops, instead of waiting out the timeout.
 */
export class HttpOkWaitStrategy implements WaitStrategy {
  #timeoutMs = 60_000;
  #timeoutSet = false;

  constructor(readonly url: string, readonly intervalMs = 200) {}

  async waitUntilReady(container: Container): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      const answer = await fetch(this.url, { signal: AbortSignal.timeout(2_000) }).catch((err: unknown) => err as Error);
      if (!(answer instanceof Error) && answer.status === 200) return;
      last = answer instanceof Error ? answer.message : `HTTP ${answer.status}`;
      const state = (await container.inspect()).State;
      if (!state.Running) throw new Error(`container ${container.id.slice(0, 12)} stopped (exit code ${state.ExitCode}) before ${this.url} answered 200`);
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
    throw new Error(`${this.url} did not answer 200 within ${this.#timeoutMs} ms (last: ${last})`);
  }

  withStartupTimeout(startupTimeoutMs: number): this {
    this.#timeoutMs = startupTimeoutMs;
    this.#timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.#timeoutSet;
  }

  getStartupTimeout(): number {
    return this.#timeoutMs;
  }
}
