import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnectionSecurityError, UnavailableError } from '../runtime/errors.js';
import { createOAuthBearerProvider } from './kafka-oauth.js';

function secretFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tickmesh-oauth-')), name);
  writeFileSync(path, `${text}\n`);
  return path;
}

const endpoint = { tokenEndpoint: 'https://idp.example/token', clientId: 'worker' };

function tokenServer(answers: (() => Response)[]) {
  const calls: { auth: string | null; body: string }[] = [];
  const fetchFn = (async (_url: string, init: RequestInit) => {
    calls.push({ auth: new Headers(init.headers).get('authorization'), body: String(init.body) });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    return next();
  }) as unknown as typeof fetch;
  return { calls, fetchFn };
}

const ok =
  (token: string, expiresIn = 100) =>
  () =>
    new Response(JSON.stringify({ access_token: token, expires_in: expiresIn }), { status: 200 });

describe('createOAuthBearerProvider', () => {
  it('client credentials: Basic auth and scope, one token until 80% of its life, then a new one', async () => {
    let now = 1_000_000;
    const { calls, fetchFn } = tokenServer([ok('t1'), ok('t2')]);
    const provider = createOAuthBearerProvider(
      { ...endpoint, clientSecretFile: secretFile('secret', 's3cret'), scope: 'kafka' },
      { fetch: fetchFn, now: () => now },
    );
    const [a, b] = await Promise.all([provider(), provider()]);
    expect([a.value, b.value]).toEqual(['t1', 't1']);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.auth).toBe(`Basic ${Buffer.from('worker:s3cret').toString('base64')}`);
    expect(calls[0]?.body).toBe('grant_type=client_credentials&scope=kafka');
    now += 79_000;
    expect((await provider()).value).toBe('t1');
    now += 2_000;
    expect((await provider()).value).toBe('t2');
    expect(calls).toHaveLength(2);
  });

  it('a refusal is a ConnectionSecurityError, a 5xx an UnavailableError', async () => {
    const { fetchFn } = tokenServer([
      () => new Response('{"error":"invalid_client"}', { status: 401 }),
      () => new Response('down', { status: 503 }),
    ]);
    const provider = createOAuthBearerProvider(
      { ...endpoint, clientSecretFile: secretFile('secret', 'x') },
      { fetch: fetchFn },
    );
    await expect(provider()).rejects.toBeInstanceOf(ConnectionSecurityError);
    await expect(provider()).rejects.toBeInstanceOf(UnavailableError);
  });

  it('a token file is read at every call; an expired JWT is refused before it is sent', async () => {
    const jwt = (exp: number) => `h.${Buffer.from(JSON.stringify({ sub: 'ingest', exp })).toString('base64url')}.sig`;
    const file = secretFile('token', jwt(2_000));
    const provider = createOAuthBearerProvider({ tokenFile: file }, { now: () => 1_000_000 });
    expect((await provider()).value).toBe(jwt(2_000));
    writeFileSync(file, jwt(999));
    await expect(provider()).rejects.toThrow(/kafka: the OAUTHBEARER token in .* expired at 1970-01-01T00:16:39/);
  });
});
