import { readFileSync } from 'node:fs';
import { ConfigError } from '../runtime/errors.js';

/**
 * The content of a file named by configuration (a password, a token, a PEM bundle), read when a
 * client connects so that a rotated Secret is picked up by the next connection. A missing or
 * unreadable file is a ConfigError naming the setting.
 */
export function readSecretFile(path: string, setting: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  // A Secret written with `echo` ends with a newline that is no part of the password.
  return text.replace(/\r?\n$/, '');
}

/**
 * Why a TLS handshake failed, from Node's error code; undefined when the error is not about TLS.
 * Shared by the adapters: each wraps it in a ConnectionSecurityError naming its server.
 */
export function tlsFailure(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined, depth = 0;
    e && depth < 8;
    depth++
  ) {
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    // An alert is what the server sent: about a certificate, it refused ours (or its absence).
    if (/^ERR_SSL_.*_ALERT_.*(CERTIFICATE|UNKNOWN_CA)/.test(code)) {
      return `the server refused the client certificate (${code}): is one set (cert and key files), signed by a CA the server trusts?`;
    }
    if (CERT_CODES.has(code) || /certificate|self[- ]signed/i.test(code)) {
      return `the server's certificate does not verify (${code}): is the CA file right?`;
    }
    if (code.startsWith('ERR_SSL_') || TLS_MESSAGES.test(message)) {
      return `TLS handshake failed (${code || message}): does the server speak TLS on this port, and does it accept the client certificate?`;
    }
    e = e.cause as typeof e;
  }
  return undefined;
}

// Node's words for a handshake that the peer broke off: a plain-text server, or a TLS server
// that refused the client's certificate (or wanted one).
const TLS_MESSAGES =
  /wrong version number|packet length too long|ssl3?_get_record|tlsv1 alert|alert certificate required|before secure TLS connection was established|handshake/i;

const CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
