import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A CA nobody's server certificate chains to: for "unknown CA" tests. Returns its PEM path. */
export function strangerCa(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickmesh-stranger-ca-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=stranger CA',
      '-keyout',
      join(dir, 'ca.key'),
      '-out',
      join(dir, 'ca.pem'),
    ],
    { stdio: 'ignore' },
  );
  return join(dir, 'ca.pem');
}

/** `text` in a fresh file (a mounted Secret); returns its path. */
export function secretFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tickmesh-secret-')), name);
  writeFileSync(path, `${text}\n`, { mode: 0o600 });
  return path;
}

/**
 * A CA and a server certificate it signed for `host` (a DNS name): for a TLS stand-in of a
 * remote server under its own name. Returns the PEM paths.
 */
export function serverCertFor(host: string): { ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tickmesh-server-cert-'));
  const at = (f: string) => join(dir, f);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=tickmesh venue test CA'],
    ...['-keyout', at('ca.key'), '-out', at('ca.pem')],
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${host}`,
    '-keyout',
    at('key.pem'),
    '-out',
    at('csr.pem'),
  );
  writeFileSync(at('ext.cnf'), `subjectAltName=DNS:${host}\nextendedKeyUsage=serverAuth\n`);
  openssl(
    ...['x509', '-req', '-in', at('csr.pem'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial'],
    ...['-days', '1', '-extfile', at('ext.cnf'), '-out', at('cert.pem')],
  );
  return { ca: at('ca.pem'), cert: at('cert.pem'), key: at('key.pem') };
}
