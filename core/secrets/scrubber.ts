/**
 * Remembers every secret value the process holds (SASL passwords, Vault tokens, secret ids) and replaces each
 * occurrence in outgoing log text. Key-based redaction catches `password` fields; this catches a secret that lands
 * in a message, an error text or an unexpected field.
 */
export class SecretScrubber {
  readonly #needles = new Set<string>();

  /** Registers a secret; values shorter than 4 characters are ignored (they would mangle ordinary text). */
  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < 4) return;
    this.#needles.add(secret);
    // In a JSON log line the secret appears escaped.
    this.#needles.add(JSON.stringify(secret).slice(1, -1));
  }

  scrub(text: string): string {
    let out = text;
    for (const needle of this.#needles) if (out.includes(needle)) out = out.replaceAll(needle, '[REDACTED]');
    return out;
  }
}
