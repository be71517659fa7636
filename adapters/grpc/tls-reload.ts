import { createHash, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { checkServerTls, readProblem, type ServerTlsContents, type ServerTlsFiles, type ServerTlsMaterial } from '../../core/config/tls.ts';
import type { Logger } from '../../core/logger.ts';
import type { TlsMetrics } from '../../core/metrics/tls.ts';

export interface TlsReloadOptions {
  files: ServerTlsFiles;
  /** How often the files are looked at (PRISM_TLS_RELOAD_INTERVAL). */
  intervalMs: number;
  /** The material served now, read at start. */
  serving: ServerTlsMaterial;
  /** Serves checked material to new connections (the listener's setSecureContext); open connections keep theirs. */
  apply: (material: ServerTlsMaterial) => void;
  log: Logger;
  metrics: TlsMetrics;
}

export interface TlsReloader {
  /** One look at the files (the timer calls it); resolves when done. A poll already running makes this one a no-op. */
  poll(): Promise<void>;
  /** Stops polling; a poll under way applies nothing. */
  stop(): void;
}

/** The certificate's identity for a log line: never anything of the key. */
export function certificateFields(pem: Buffer) {
  const cert = new X509Certificate(pem);
  return { subject: cert.subject, issuer: cert.issuer, serial: cert.serialNumber, fingerprint256: cert.fingerprint256, valid_to: cert.validTo };
}

/** The notAfter of the (first) certificate in `pem`, in ms since the epoch. */
export const validToMs = (pem: Buffer) => new X509Certificate(pem).validToDate.getTime();

const fileList = (files: ServerTlsFiles) => [files.certFile, files.keyFile, ...(files.clientCaFile === undefined ? [] : [files.clientCaFile])];

/**
 * What stat says of each file, following symlinks: a Kubernetes Secret volume swaps its `..data` symlink to a new
 * directory, so the file seen through the link gets a new inode even when its size and mtime look the same.
 */
async function signature(files: ServerTlsFiles): Promise<string> {
  const parts = await Promise.all(fileList(files).map(async (f) => {
    try {
      const s = await stat(f, { bigint: true });
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (err) {
      return `!${readProblem(err)}`;
    }
  }));
  return parts.join('|');
}

async function readContents(files: ServerTlsFiles): Promise<ServerTlsContents> {
  const one = (f: string) => readFile(f).catch((err: unknown) => readProblem(err));
  const [cert, key, clientCa] = await Promise.all([one(files.certFile), one(files.keyFile), files.clientCaFile === undefined ? undefined : one(files.clientCaFile)]);
  return { cert, key, clientCa };
}

/** A digest of the three contents (or why each could not be read), to tell a real change from a touched file. */
function digest(c: ServerTlsContents): string {
  const h = createHash('sha256');
  for (const part of [c.cert, c.key, c.clientCa]) {
    const bytes = part === undefined ? Buffer.alloc(0) : typeof part === 'string' ? Buffer.from(`!${part}`) : part;
    h.update(`${String(part === undefined ? -1 : bytes.length)}:`).update(bytes);
  }
  return h.digest('hex');
}

/**
 * Watches the main port's TLS files (PRISM_TLS_CERT_FILE, PRISM_TLS_KEY_FILE, PRISM_TLS_CLIENT_CA_FILE) by polling:
 * a changed stat makes it read all three, and contents unlike the last ones tried are checked as at load time
 * (core/config/tls.ts) before they are served. A pair that does not match (the certificate replaced a moment before
 * its key), a half-written or unparsable PEM, a missing file: the served certificate stays, a warning names the
 * setting and the problem, a failure is counted, and the next change is tried again. The timer never keeps the
 * process alive.
 */
export function watchServerTls(options: TlsReloadOptions): TlsReloader {
  const { files, log, metrics } = options;
  let seen: string | undefined;
  let tried = digest(options.serving);
  let running = false;
  let stopped = false;

  const poll = async () => {
    if (running || stopped) return;
    running = true;
    try {
      const now = await signature(files);
      if (now === seen) return;
      const contents = await readContents(files);
      seen = now;
      const hash = digest(contents);
      if (hash === tried || stopped) return;
      tried = hash;
      const checked = checkServerTls(files, contents);
      if ('problems' in checked) {
        metrics.reloads.inc({ result: 'failed' });
        for (const p of checked.problems) log.warn({ setting: p.path, problem: p.message }, 'main port TLS files changed but cannot be used: the previous certificate is still served');
        return;
      }
      options.apply(checked.material);
      metrics.serving(validToMs(checked.material.cert));
      metrics.reloads.inc({ result: 'ok' });
      log.info({ ...certificateFields(checked.material.cert), client_certificates: checked.material.clientCa === undefined ? 'not requested' : 'required' }, 'main port TLS certificate reloaded');
    } catch (err) {
      // setSecureContext refusing what createSecureContext accepted: not expected, but never fatal.
      metrics.reloads.inc({ result: 'failed' });
      log.warn({ error: (err as Error).message }, 'main port TLS reload failed: the previous certificate is still served');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void poll(), options.intervalMs);
  timer.unref();
  return {
    poll,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
