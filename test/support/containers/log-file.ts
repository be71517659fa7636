import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * A container's output kept in a file (under .cache/testcontainers/logs/) for as long as the container runs: testcontainers
 * removes a container that does not become ready, and with it the runtime's copy of its log.
 */
export function keepLog(file: string): (stream: Readable) => void {
  mkdirSync(dirname(file), { recursive: true });
  return (stream) => {
    stream.pipe(createWriteStream(file));
  };
}

/** The last lines of a kept log, for an error message. */
export function logTail(file: string, lines = 40): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
