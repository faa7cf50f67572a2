import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../runtime/errors.js';
import { natsConnectOptions } from './nats-connect-options.js';

describe('natsConnectOptions', () => {
  it('takes the scheme and credentials out of the URLs', () => {
    const o = natsConnectOptions('tls://alice:s%40cret@a:4222, nats://b, nats://[::1]:4333', undefined);
    expect(o.servers).toEqual(['a:4222', 'b:4222', '[::1]:4333']);
    expect(o.tls).toEqual({ checkServerIdentity: expect.any(Function) });
    expect(o.authenticator).toBeTypeOf('function');
  });

  it('plain nats:// without credentials stays plain and anonymous', () => {
    const o = natsConnectOptions('nats://a:4222', undefined);
    expect(o.tls).toBeUndefined();
    expect(o.authenticator).toBeUndefined();
  });

  it('TLS files require TLS with a nats:// URL too', () => {
    expect(natsConnectOptions('nats://a:4222', { tls: { caFile: '/ca.pem' } }).tls).toEqual({
      caFile: '/ca.pem',
      checkServerIdentity: expect.any(Function),
    });
  });

  it('a server at an IP address: its certificate must name that address, not localhost', () => {
    // The client passes no server name for an address, and Node then checks the name localhost.
    const check = checkOf('tls://10.213.0.1:4222');
    const forLocalhost = { subject: { CN: 'localhost' }, subjectaltname: 'IP Address:127.0.0.1, DNS:localhost' };
    const forTheAddress = { subject: { CN: 'localhost' }, subjectaltname: 'DNS:localhost, IP Address:10.213.0.1' };
    expect(check('localhost', forLocalhost as never)).toBeInstanceOf(Error);
    expect(check('localhost', forTheAddress as never)).toBeUndefined();
    // A DNS name the client passes is checked as it is.
    const byName = checkOf('tls://nats.messaging:4222');
    expect(check('nats.messaging', forTheAddress as never)).toBeInstanceOf(Error);
    expect(byName('nats.messaging', { subject: {}, subjectaltname: 'DNS:nats.messaging' } as never)).toBeUndefined();
  });

  it('a password file without a user is a ConfigError', () => {
    expect(() => natsConnectOptions('nats://a:4222', { passwordFile: '/p' })).toThrow(ConfigError);
  });
});

/** The host name check the options hand to Node's tls.connect. */
function checkOf(url: string): (name: string, cert: PeerCertificate) => Error | undefined {
  const tls = natsConnectOptions(url, undefined).tls as {
    checkServerIdentity: (name: string, cert: PeerCertificate) => Error | undefined;
  };
  return tls.checkServerIdentity;
}
