import { createRequire } from 'node:module';
import type { Mechanism } from 'kafkajs';
import type { KafkaOAuth } from '../config/connection-security.js';
import { readSecretFile } from '../config/secret-file.js';
import { ConnectionSecurityError, UnavailableError } from '../runtime/errors.js';

/** What kafkajs asks of an OAUTHBEARER provider: called for every authentication of a connection. */
export type OAuthBearerProvider = () => Promise<{ value: string }>;

export interface OAuthBearerDeps {
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

/** A token is fetched anew once this share of its lifetime has passed. */
const REFRESH_AT = 0.8;

/**
 * The OAUTHBEARER token provider for `oauth`: a token file read at every call (a rotated,
 * Kubernetes-projected token is picked up by the next connection), or a client-credentials token
 * from the endpoint, cached until 80% of its `expires_in` has passed. A token known to have
 * expired, and a refusal by the token endpoint, are a ConnectionSecurityError naming Kafka.
 */
export function createOAuthBearerProvider(oauth: KafkaOAuth, deps: OAuthBearerDeps = {}): OAuthBearerProvider {
  const now = deps.now ?? Date.now;
  if ('tokenFile' in oauth) {
    return async () => {
      const value = readSecretFile(oauth.tokenFile, 'KAFKA_OAUTH_TOKEN_FILE').trim();
      const exp = jwtExpiry(value);
      if (exp !== undefined && exp <= now()) {
        throw new ConnectionSecurityError(
          'kafka',
          `the OAUTHBEARER token in ${oauth.tokenFile} expired at ${new Date(exp).toISOString()}`,
        );
      }
      return { value };
    };
  }
  let cached: { value: string; refreshAt: number } | undefined;
  let pending: Promise<{ value: string }> | undefined;
  const fetchToken = async (): Promise<{ value: string }> => {
    const secret = readSecretFile(oauth.clientSecretFile, 'KAFKA_OAUTH_CLIENT_SECRET_FILE');
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (oauth.scope) body.set('scope', oauth.scope);
    const basic = Buffer.from(`${encodeURIComponent(oauth.clientId)}:${encodeURIComponent(secret)}`).toString('base64');
    const started = now();
    let res: Response;
    try {
      res = await (deps.fetch ?? fetch)(oauth.tokenEndpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (cause) {
      throw new UnavailableError(`kafka: OAuth token endpoint ${oauth.tokenEndpoint} not reachable`, { cause });
    }
    const text = await res.text();
    if (res.status >= 500) {
      throw new UnavailableError(`kafka: OAuth token endpoint answered ${res.status}`, { cause: text.slice(0, 200) });
    }
    if (!res.ok) {
      throw new ConnectionSecurityError(
        'kafka',
        `the OAuth token endpoint ${oauth.tokenEndpoint} refused client ${oauth.clientId} (${res.status}): ${text.slice(0, 200)}`,
      );
    }
    let token: { access_token?: unknown; expires_in?: unknown };
    try {
      token = JSON.parse(text) as typeof token;
    } catch (cause) {
      throw new ConnectionSecurityError('kafka', `the OAuth token endpoint's answer is not JSON`, { cause });
    }
    if (typeof token.access_token !== 'string' || token.access_token === '') {
      throw new ConnectionSecurityError('kafka', `the OAuth token endpoint's answer has no access_token`);
    }
    const lifetimeMs =
      typeof token.expires_in === 'number'
        ? token.expires_in * 1000
        : (jwtExpiry(token.access_token) ?? started + 300_000) - started;
    cached = { value: token.access_token, refreshAt: started + lifetimeMs * REFRESH_AT };
    return { value: token.access_token };
  };
  return async () => {
    if (cached && now() < cached.refreshAt) return { value: cached.value };
    // Connections to several brokers authenticate at once: one request serves them all.
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/** The `exp` of a JWT in ms, or undefined when the token is not a JWT with one. */
function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

type OAuthRequest = (sasl: object, token: { value: string }) => Promise<{ encode(): Promise<Buffer> }>;

const require = createRequire(import.meta.url);

/**
 * kafkajs's SASL OAUTHBEARER with the broker's verdict read. kafkajs's own authenticator sends the
 * token and never reads the answer: a broker that refuses the token answers with an error
 * challenge (RFC 7628, `{"status":"invalid_token"}`) that kafkajs takes for success, and the
 * refusal then shows only as a connection the broker closes (KafkaJSBrokerNotFound, retried as
 * an outage). Here a non-empty answer is the refusal: a ConnectionSecurityError naming Kafka.
 */
export function oauthBearerMechanism(provider: OAuthBearerProvider): Mechanism {
  // kafkajs's encoding of the client's first message (RFC 7628 framing, its length prefix).
  const request = require('kafkajs/src/protocol/sasl/oauthBearer/request.js') as OAuthRequest;
  return {
    mechanism: 'oauthbearer',
    authenticationProvider: ({ host, port, saslAuthenticate }) => ({
      authenticate: async () => {
        const token = await provider();
        await saslAuthenticate({
          request: await request({}, token),
          response: {
            // The answer's auth bytes as kafkajs hands them over: with their int32 length first.
            decode: async (bytes: Buffer) =>
              bytes && bytes.length >= 4 && bytes.readInt32BE(0) === bytes.length - 4 ? bytes.subarray(4) : bytes,
            parse: async (bytes: Buffer) => {
              if (bytes && bytes.length > 0) {
                throw new ConnectionSecurityError(
                  'kafka',
                  `broker ${host}:${port} refused the OAUTHBEARER token (${bytes.toString('utf8')}): its signature, issuer, audience or expiry (the broker's log says which)`,
                );
              }
              return true;
            },
          },
        });
      },
    }),
  };
}
