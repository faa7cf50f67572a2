import { describe, expect, it } from 'vitest';
import { tlsFailure } from './secret-file.js';

const withCode = (code: string, message = 'handshake') => Object.assign(new Error(message), { code });

describe('tlsFailure', () => {
  it('a server certificate this client does not trust: the CA file', () => {
    expect(tlsFailure(withCode('SELF_SIGNED_CERT_IN_CHAIN'))).toMatch(/^the server's certificate does not verify/);
    expect(tlsFailure(withCode('ERR_TLS_CERT_ALTNAME_INVALID'))).toMatch(/^the server's certificate does not verify/);
  });

  it("the server's alert about the client certificate: the client certificate, not the CA file", () => {
    for (const code of [
      'ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
    ]) {
      const why = tlsFailure({ message: 'Connection error', cause: withCode(code) });
      expect(why, code).toMatch(/^the server refused the client certificate/);
      expect(why, code).toContain(code);
    }
  });

  it('a handshake broken off otherwise, and errors that are not about TLS', () => {
    expect(tlsFailure(withCode('ERR_SSL_WRONG_VERSION_NUMBER'))).toMatch(/^TLS handshake failed/);
    expect(tlsFailure(withCode('ECONNREFUSED', 'connect ECONNREFUSED'))).toBeUndefined();
  });
});
