import { join } from 'node:path';
import { GenericContainer, PullPolicy } from 'testcontainers';
import { freePorts } from './free-ports.ts';
import { HttpOkWaitStrategy } from './health-wait.ts';
import { keepLog, logTail } from './log-file.ts';

export interface OpenBaoContainer {
  id: string;
  image: string;
  addr: string;
  token: string;
  logFile: string;
  stop: () => Promise<void>;
}

/**
 * An in-memory OpenBao dev server from the image scripts/testcontainers/images.sh builds (the scripted server's bao
 * binary), started as scripts/infra/up.sh starts it: fixed root token, on the host's network at a free port (and
 * the port after it, the dev server's cluster listener). Ready when /v1/sys/health answers 200.
 */
export async function startOpenBaoContainer(options: { image: string; token: string; logDir: string; labels: Record<string, string>; startupTimeoutMs?: number }): Promise<OpenBaoContainer> {
  const [port] = (await freePorts(1, 2)) as [number];
  const addr = `http://127.0.0.1:${port}`;
  const logFile = join(options.logDir, `openbao-${port}.log`);
  const started = await new GenericContainer(options.image)
    .withPullPolicy(PullPolicy.neverPull())
    .withNetworkMode('host')
    .withCommand(['server', '-dev', `-dev-root-token-id=${options.token}`, `-dev-listen-address=127.0.0.1:${port}`, '-dev-no-store-token'])
    .withLabels({ ...options.labels, 'org.prism.test.service': 'openbao' })
    .withLogConsumer(keepLog(logFile))
    .withWaitStrategy(new HttpOkWaitStrategy(`${addr}/v1/sys/health`))
    .withStartupTimeout(options.startupTimeoutMs ?? 60_000)
    .start()
    .catch((err: unknown) => {
      throw new Error(`the OpenBao container (${options.image}) did not start: ${(err as Error).message}\nlast lines of ${logFile}:\n${logTail(logFile)}`);
    });
  return {
    id: started.getId(),
    image: options.image,
    addr,
    token: options.token,
    logFile,
    stop: async () => { await started.stop({ timeout: 5_000 }); },
  };
}
