/** Error codes of Node and OpenSSL for a failed TLS handshake or an untrusted certificate. */
const tlsCodes = /^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|CERT_|UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE)/;

/**
 * Describes a TLS failure found anywhere in an error's cause chain (`unable to verify the first certificate
 * (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`), or undefined when the error is not about TLS. Clients wrap these in their own
 * "connection failed" errors; operators need the TLS reason to fix a CA or certificate setting.
 */
export function tlsFailure(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const stack = [error];
  while (stack.length > 0) {
    const e = stack.pop();
    if (e === null || typeof e !== 'object' || seen.has(e) || seen.size > 32) continue;
    seen.add(e);
    const { code, message, cause, errors } = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && tlsCodes.test(code)) {
      // Node appends advice about --use-system-ca to verification errors; the fix here is the CA file setting.
      const text = typeof message === 'string' ? message.replace(/; if the root CA is installed locally.*$/s, '') : 'TLS error';
      return `${text} (${code})`;
    }
    if (typeof message === 'string' && /TLS handshake failed/.test(message)) return message;
    if (cause !== undefined) stack.push(cause);
    if (Array.isArray(errors)) stack.push(...(errors as unknown[]));
  }
  return undefined;
}
