import { pino, type DestinationStream, type Logger } from 'pino';
import type { SecretScrubber } from './secrets/scrubber.ts';

export type { Logger } from 'pino';

/** Field names whose values are always replaced, at any of the depths we log. */
const secretKeys = ['password', 'sasl_password', 'saslPassword', 'token', 'secret', 'secretId', 'secret_id', 'authorization', 'clientToken', 'client_token'];
const redactPaths = secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

export interface LoggerOptions {
  level: string;
  service: string;
  version: string;
  scrubber: SecretScrubber;
  /** Where lines go; stdout by default. Tests pass a collector. */
  write?: (line: string) => void;
}

/**
 * The one root logger: a JSON line per event on stdout, `time` ISO-8601, `level` an upper-case label, `msg`.
 * Every line passes through the scrubber before it leaves the process.
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const destination: DestinationStream = { write: (line: string) => write(options.scrubber.scrub(line)) };
  return pino(
    {
      level: options.level,
      base: { service: options.service, version: options.version },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label.toUpperCase() }) },
      redact: { paths: redactPaths, censor: '[REDACTED]' },
    },
    destination,
  );
}
