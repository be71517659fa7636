import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerSecret } from '../test-logs.ts';

export interface AdminCredentials {
  user: string;
  password: string;
  /** The password alone (mode 600), like scripts/infra/up.sh's .cache/infra/kafka/admin.password. */
  passwordFile: string;
  /** A client config for Kafka's tools on the SASL listener (mode 600), like up.sh's admin-client.properties. */
  clientConfig: string;
}

/**
 * A new admin SCRAM user for a broker container, with the two files the scripted broker provides. Random per start
 * and only ever in the git-ignored cache, as up.sh does it: 24 random bytes in base64 without '+', '/' and '=', which
 * would need escaping in the --add-scram and JAAS syntax.
 */
export function adminCredentials(dir: string, user: string): AdminCredentials {
  const password = randomBytes(24).toString('base64').replace(/[+/=]/g, '');
  registerSecret(password);
  mkdirSync(dir, { recursive: true });
  return { user, password, passwordFile: join(dir, 'admin.password'), clientConfig: join(dir, 'admin-client.properties') };
}

/** Writes the two files once the broker's SASL address is known. */
export function writeAdminFiles(creds: AdminCredentials, saslBrokers: string): void {
  write(creds.passwordFile, `${creds.password}\n`);
  write(creds.clientConfig, [
    `# Written by test/support/containers/: admin SCRAM user of the broker container at ${saslBrokers}.`,
    `bootstrap.servers=${saslBrokers}`,
    'security.protocol=SASL_PLAINTEXT',
    'sasl.mechanism=SCRAM-SHA-512',
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${creds.user}" password="${creds.password}";`,
    '',
  ].join('\n'));
}

function write(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
