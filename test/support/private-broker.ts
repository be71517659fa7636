import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface PrivateBroker {
  brokers: string;
  /** scripts/infra/up.sh kafka for this instance (idempotent); resolves when it answers metadata requests. */
  up(): Promise<void>;
  /** scripts/infra/down.sh kafka for this instance; resolves when the process is gone. */
  down(): Promise<void>;
}

/**
 * A Kafka broker of its own for tests that must stop and start one: the project's infra scripts with a separate
 * state dir and ports, so the shared broker (which other test files use) is never touched. The downloaded jars of
 * the shared infra dir are reused through a symlink (lib.sh keeps jars in `<infra dir>/kafka-<version>`). Its data
 * is kept between runs (a restart takes ~7 s, a first start ~18 s, which formats the storage).
 */
export function privateBroker(options: { dir: string; plaintextPort: number }): PrivateBroker {
  const dir = join(root, options.dir);
  const env = {
    ...process.env,
    PRISM_INFRA_DIR: dir,
    KAFKA_PLAINTEXT_PORT: String(options.plaintextPort),
    KAFKA_SASL_PORT: String(options.plaintextPort + 1),
    KAFKA_CONTROLLER_PORT: String(options.plaintextPort + 2),
    // Unused (only kafka is started) but kept off the shared instance's port anyway.
    OPENBAO_PORT: String(options.plaintextPort + 3),
  };
  const script = (name: string, args: string[]) => run('bash', [join(root, 'scripts/infra', name), ...args], { env, timeout: 120_000 });
  return {
    brokers: `127.0.0.1:${options.plaintextPort}`,
    async up() {
      linkSharedJars(dir);
      await script('up.sh', ['kafka']);
    },
    async down() {
      await script('down.sh', ['kafka']);
    },
  };
}

/** Points `<dir>/kafka-<version>` at the shared infra dir's complete jar sets, so nothing is downloaded twice. */
function linkSharedJars(dir: string): void {
  const shared = resolve(root, process.env.PRISM_INFRA_DIR ?? '.cache/infra');
  if (!existsSync(shared)) return;
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(shared)) {
    if (!/^kafka-\d/.test(name) || !existsSync(join(shared, name, '.libs-complete'))) continue;
    const link = join(dir, name);
    if (!lstatSync(link, { throwIfNoEntry: false })) symlinkSync(join(shared, name), link);
  }
}
