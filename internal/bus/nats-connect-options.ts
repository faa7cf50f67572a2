import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { ConnectionOptions } from '@nats-io/transport-node';
import {
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from '@nats-io/transport-node';
import type { NatsSecurity } from '../config/connection-security.js';
import { readSecretFile } from '../config/secret-file.js';
import { ConfigError } from '../runtime/errors.js';

/**
 * The servers, TLS and authenticator of a NATS connection. The client reads neither the user
 * and password in a URL nor its `tls://` scheme: both are taken out of the URLs here and made
 * options, so that `nats://user:pass@host` authenticates and `tls://host` never falls back to
 * plain text. Secret files are read again on every (re)connect, so a rotated Secret is used.
 */
export function natsConnectOptions(
  servers: string,
  security: NatsSecurity | undefined,
): Pick<ConnectionOptions, 'servers' | 'tls' | 'authenticator'> {
  let tlsByUrl = false;
  let urlUser: string | undefined;
  let urlPass: string | undefined;
  const plain = servers
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      let u: URL;
      try {
        u = new URL(s.includes('://') ? s : `nats://${s}`);
      } catch (err) {
        throw new ConfigError(`nats: invalid server URL`, { cause: err });
      }
      if (u.protocol === 'tls:' || u.protocol === 'wss:') tlsByUrl = true;
      if (u.username) {
        urlUser = decodeURIComponent(u.username);
        urlPass = u.password ? decodeURIComponent(u.password) : undefined;
      }
      // hostname keeps an IPv6 address's brackets.
      return `${u.hostname}:${u.port || '4222'}`;
    });
  const out: Pick<ConnectionOptions, 'servers' | 'tls' | 'authenticator'> = { servers: plain };
  if (tlsByUrl || security?.tls) {
    const t = security?.tls ?? {};
    // The client hands its whole tls object to Node's tls.connect; its type lists only some keys.
    out.tls = {
      ...(t.caFile ? { caFile: t.caFile } : {}),
      ...(t.certFile ? { certFile: t.certFile } : {}),
      ...(t.keyFile ? { keyFile: t.keyFile } : {}),
      checkServerIdentity: serverIdentity(plain),
    } as NonNullable<ConnectionOptions['tls']>;
  }
  const s = security ?? {};
  const enc = new TextEncoder();
  if (s.credsFile) {
    const file = s.credsFile;
    out.authenticator = credsAuthenticator(() => enc.encode(readSecretFile(file, 'NATS_CREDS_FILE')));
  } else if (s.nkeySeedFile) {
    const file = s.nkeySeedFile;
    out.authenticator = nkeyAuthenticator(() => enc.encode(readSecretFile(file, 'NATS_NKEY_SEED_FILE').trim()));
  } else if (s.tokenFile) {
    const file = s.tokenFile;
    out.authenticator = tokenAuthenticator(() => readSecretFile(file, 'NATS_TOKEN_FILE'));
  } else if (s.passwordFile) {
    const file = s.passwordFile;
    const user = s.user ?? urlUser;
    if (!user) throw new ConfigError('nats: a password file needs NATS_USER (or a user in the URL)');
    out.authenticator = usernamePasswordAuthenticator(user, () => readSecretFile(file, 'NATS_PASSWORD_FILE'));
  } else if (urlUser !== undefined) {
    // `nats://secret@host` (no password) is a token, as in the nats CLI and the other clients.
    out.authenticator =
      urlPass === undefined ? tokenAuthenticator(urlUser) : usernamePasswordAuthenticator(urlUser, urlPass);
  }
  return out;
}

/**
 * The host name check of the server certificate. The client gives Node no server name for a
 * server named by its IP address (only for a DNS name), and Node then checks the certificate
 * against `localhost`: a certificate for localhost from the trusted CA would pass for any
 * address. Here the certificate must name one of the configured servers instead.
 */
function serverIdentity(servers: readonly string[]): (name: string, cert: PeerCertificate) => Error | undefined {
  const hosts = servers.map((hp) => hp.slice(0, hp.lastIndexOf(':')).replace(/^\[|\]$/g, ''));
  return (name, cert) => {
    if (name !== 'localhost') return checkServerIdentity(name, cert);
    let first: Error | undefined;
    for (const host of hosts) {
      const err = checkServerIdentity(host, cert);
      if (err === undefined) return undefined;
      first ??= err;
    }
    return first;
  };
}
