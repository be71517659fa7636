import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { controlPlaneService, type PatternMessage, type ProxyCommand } from '../../adapters/grpc/callback/proto.ts';

type Stream = ServerDuplexStream<PatternMessage, ProxyCommand>;

/**
 * Plays the Prism proxy's side of callback mode: a real grpc-js server for prism.interfaces.ProxyControlPlane that
 * acknowledges every registration, records every PatternMessage, and sends commands on the latest stream.
 */
export class FakeProxy {
  readonly received: PatternMessage[] = [];
  registrations = 0;
  port = 0;
  #server: Server | undefined;
  #stream: Stream | undefined;
  #waiters = new Set<() => void>();

  /** Listens on 127.0.0.1 (port 0 picks a free port; restart() reuses it). */
  async start(port = this.port): Promise<this> {
    const server = new Server();
    server.addService(controlPlaneService().service, { ManagePattern: (stream: Stream) => this.#accept(stream) });
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))));
    this.#server = server;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The proxy goes away (every stream is cut) and comes back on the same port. */
  async restart(downMs = 300): Promise<void> {
    this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.start(this.port);
  }

  stop(): void {
    this.#server?.forceShutdown();
    this.#server = undefined;
    this.#stream = undefined;
  }

  /** Resolves with the first received message (from `from` on) that matches. */
  async waitFor(match: (m: PatternMessage) => boolean, timeoutMs = 10_000, from = 0): Promise<PatternMessage> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.slice(from).find(match);
      if (found !== undefined) return found;
      if (Date.now() > until) throw new Error(`no matching message within ${timeoutMs} ms; received: ${JSON.stringify(this.received.map((m) => Object.keys(m)))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a command on the current stream and waits for the message that carries its correlation id. */
  async command(command: ProxyCommand, timeoutMs = 30_000): Promise<PatternMessage> {
    if (this.#stream === undefined) throw new Error('no plugin is connected');
    const from = this.received.length;
    this.#stream.write(command);
    return this.waitFor((m) => m.correlation_id === command.correlation_id, timeoutMs, from);
  }

  #accept(stream: Stream): void {
    this.#stream = stream;
    stream.on('data', (message: PatternMessage) => {
      this.received.push(message);
      if (message.register !== undefined && message.register !== null) {
        this.registrations++;
        stream.write({ correlation_id: message.correlation_id, register_ack: { success: true, error: '', instance_id: `instance-${this.registrations}` } });
      }
      for (const wake of this.#waiters) wake();
      this.#waiters.clear();
    });
    stream.on('error', () => undefined);
    stream.on('end', () => stream.end());
  }
}
