import { describe, expect, it } from 'vitest';
import { ConfigError } from '../runtime/errors.js';
import { natsConnectOptions } from './nats-connect-options.js';

describe('natsConnectOptions', () => {
  it('takes the scheme and credentials out of the URLs', () => {
    const o = natsConnectOptions('tls://alice:s%40cret@a:4222, nats://b, nats://[::1]:4333', undefined);
    expect(o.servers).toEqual(['a:4222', 'b:4222', '[::1]:4333']);
    expect(o.tls).toEqual({});
    expect(o.authenticator).toBeTypeOf('function');
  });

  it('plain nats:// without credentials stays plain and anonymous', () => {
    const o = natsConnectOptions('nats://a:4222', undefined);
    expect(o.tls).toBeUndefined();
    expect(o.authenticator).toBeUndefined();
  });

  it('TLS files require TLS with a nats:// URL too', () => {
    expect(natsConnectOptions('nats://a:4222', { tls: { caFile: '/ca.pem' } }).tls).toEqual({ caFile: '/ca.pem' });
  });

  it('a password file without a user is a ConfigError', () => {
    expect(() => natsConnectOptions('nats://a:4222', { passwordFile: '/p' })).toThrow(ConfigError);
  });
});
