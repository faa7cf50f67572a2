import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, TimeoutError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { secretFile } from '../../test/harness/certs.js';
import { ConnectionSecurityError, UnavailableError } from '../runtime/errors.js';
import { classifyPlatformaticError, platformaticSecurity } from './platformatic-producer.js';

describe('classifyPlatformaticError', () => {
  it('calls network failures and timeouts unavailable, however deep the client wrapped them', () => {
    const refused = new NetworkError('Connection to 127.0.0.1:9092 failed.', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' }),
    });
    for (const err of [
      refused,
      new MultipleErrors('produce failed 3 times.', [
        refused,
        new TimeoutError('Request timed out', { canRetry: true }),
      ]),
    ]) {
      const c = classifyPlatformaticError(err, 'produce');
      expect(c).toBeInstanceOf(UnavailableError);
      expect((c as UnavailableError).cause).toBe(err);
    }
  });

  it('calls a refused password or certificate a ConnectionSecurityError, not an outage', () => {
    // The client reports both as a NetworkError (retriable to it) around the real reason.
    const sasl = new NetworkError('Connection to b:9093 failed.', {
      cause: new AuthenticationError('SASL authentication failed.'),
    });
    const cert = new NetworkError('Connection to b:9093 failed.', {
      cause: Object.assign(new Error('self-signed certificate in certificate chain'), {
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
      }),
    });
    const saslErr = classifyPlatformaticError(new MultipleErrors('metadata failed 4 times.', [sasl]), 'connect');
    expect(saslErr).toBeInstanceOf(ConnectionSecurityError);
    expect((saslErr as Error).message).toMatch(/^kafka: connect: SASL authentication failed/);
    const certErr = classifyPlatformaticError(cert, 'connect');
    expect(certErr).toBeInstanceOf(ConnectionSecurityError);
    expect((certErr as Error).message).toMatch(/certificate does not verify/);
  });

  it('passes a refusal through and keeps tickmesh errors as they are', () => {
    const tooLarge = new ProtocolError('MESSAGE_TOO_LARGE');
    expect((tooLarge as unknown as { canRetry: boolean }).canRetry).toBe(false);
    expect(classifyPlatformaticError(tooLarge, 'produce')).toBe(tooLarge);
    const own = new UnavailableError('x');
    expect(classifyPlatformaticError(own, 'produce')).toBe(own);
    expect(classifyPlatformaticError(new TypeError('bad'), 'produce')).toBeInstanceOf(TypeError);
  });
});

describe('platformaticSecurity', () => {
  it('gives the client the mechanism in its spelling and the password read from its file', () => {
    const out = platformaticSecurity({
      protocol: 'sasl_plaintext',
      sasl: { mechanism: 'scram-sha-512', username: 'u', passwordFile: secretFile('pw', 'secret') },
    });
    expect(out.sasl).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'u', password: 'secret' });
    expect(out.tls).toBeUndefined();
  });

  it('takes an OAUTHBEARER token from its file and refuses an error challenge from the broker', async () => {
    const out = platformaticSecurity({
      protocol: 'sasl_ssl',
      tls: {},
      oauth: { tokenFile: secretFile('token', 'opaque-token\n') },
    });
    expect(out.tls).toEqual({ rejectUnauthorized: true });
    expect(out.sasl?.mechanism).toBe('OAUTHBEARER');
    const token = out.sasl?.token as () => Promise<string>;
    expect(await token()).toBe('opaque-token');
    const verdict = (bytes: Buffer) =>
      new Promise<unknown>((resolve) => out.sasl?.authBytesValidator?.(bytes, (err) => resolve(err)));
    expect(await verdict(Buffer.alloc(0))).toBeNull();
    expect(await verdict(Buffer.from('{"status":"invalid_token"}'))).toBeInstanceOf(ConnectionSecurityError);
  });
});
