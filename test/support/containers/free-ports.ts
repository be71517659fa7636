import { createServer } from 'node:net';

/** Listens on 127.0.0.1:port (0: the kernel picks one) and gives the port back once the socket is closed. */
function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * `count` free TCP ports on 127.0.0.1 for a container on the host's network, each followed by `span - 1` free ports
 * (OpenBao's dev server also binds listen port + 1 for its cluster listener). The kernel picks them from the
 * ephemeral range, so never the scripted services' fixed ports (Kafka 9092-9094, OpenBao 8200-8201). Free now: the
 * container binds them a moment later, the usual small race of every "find a free port".
 */
export async function freePorts(count: number, span = 1): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt > 50) throw new Error(`no ${count} free port runs of ${span} on 127.0.0.1 after 50 attempts`);
    const first = await probe(0);
    if (first === undefined || first + span - 1 > 65_535 || ports.some((p) => Math.abs(p - first) < span)) continue;
    let free = true;
    for (let next = first + 1; free && next < first + span; next++) free = (await probe(next)) === next;
    if (free) ports.push(first);
  }
  return ports;
}
