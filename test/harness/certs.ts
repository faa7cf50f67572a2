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
