import { getContainerRuntimeClient, type ContainerRuntimeClient } from 'testcontainers';

/** The Docker API's view of a container (what `docker inspect` / `podman inspect` print). */
export type ContainerInspection = Awaited<ReturnType<ContainerRuntimeClient['container']['inspect']>>;

/**
 * The settings testcontainers reads from the environment, with this project's defaults; call before its first use.
 * An explicit setting in the environment wins.
 */
export function configureTestcontainers(): void {
  // Ryuk, the reaper testcontainers starts to remove leftovers, is an image on Docker Hub, and no registry answers on
  // the machines this project is built on. The global set-up's teardown stops what it started.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  // The containers run on the host's network, so what they serve is on this machine's 127.0.0.1. Saying so also keeps
  // testcontainers, when the tests themselves run in a container, from looking for a gateway (by pulling alpine).
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
}

/** Where the Docker API testcontainers talks to is, for messages. */
export const dockerHostHint = () => process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock (DOCKER_HOST is unset)';

export async function inspectContainer(id: string): Promise<ContainerInspection> {
  const client = await getContainerRuntimeClient();
  return client.container.inspect(client.container.getById(id));
}

/**
 * The container's output (stdout and stderr) from the Docker API, read until a line matches (resolves with it) or
 * timeoutMs passes (rejects with what was read).
 */
export async function waitForContainerLog(id: string, line: RegExp, timeoutMs = 10_000): Promise<string> {
  const client = await getContainerRuntimeClient();
  const stream = await client.container.logs(client.container.getById(id));
  let text = '';
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`container ${id.slice(0, 12)} logged no line matching ${String(line)} within ${timeoutMs} ms; it logged:\n${text.slice(-2000)}`)), timeoutMs);
    const finish = (result: string | Error) => {
      clearTimeout(timer);
      stream.destroy();
      if (typeof result === 'string') resolve(result);
      else reject(result);
    };
    stream.on('data', (chunk: string | Buffer) => {
      text += String(chunk);
      const hit = text.split('\n').find((l) => line.test(l));
      if (hit !== undefined) finish(hit);
    });
    stream.on('end', () => finish(new Error(`container ${id.slice(0, 12)}'s log ended without a line matching ${String(line)}:\n${text.slice(-2000)}`)));
    stream.on('error', (err: Error) => finish(err));
  });
}
