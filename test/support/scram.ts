import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { registerSecret } from './test-logs.ts';

const run = promisify(execFile);
const tool = fileURLToPath(new URL('../../scripts/infra/kafka-tool.sh', import.meta.url));

/**
 * SCRAM users managed through Kafka's admin API (AlterUserScramCredentials), with Kafka's own kafka-configs tool
 * authenticated as the broker's admin user on the SASL listener.
 */
export class ScramUsers {
  constructor(readonly saslBrokers: string, readonly adminClientConfig: string) {}

  async create(user: string, password: string, mechanism = 'SCRAM-SHA-512'): Promise<void> {
    registerSecret(password);
    await this.#configs(['--alter', '--add-config', `${mechanism}=[iterations=4096,password=${password}]`, '--entity-type', 'users', '--entity-name', user]);
  }

  async remove(user: string, mechanism = 'SCRAM-SHA-512'): Promise<void> {
    await this.#configs(['--alter', '--delete-config', mechanism, '--entity-type', 'users', '--entity-name', user]);
  }

  async #configs(args: string[]): Promise<void> {
    await run('bash', [tool, 'kafka-configs', '--bootstrap-server', this.saslBrokers, '--command-config', this.adminClientConfig, ...args], { timeout: 60_000 });
  }
}
