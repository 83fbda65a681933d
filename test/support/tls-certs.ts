import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway CA and a server certificate for 127.0.0.1/localhost, made with the openssl
 * command (node:crypto cannot issue certificates). Null when openssl is missing.
 */
export interface TestCerts {
  dir: string;
  ca: string;
  cert: string;
  key: string;
  cleanup(): void;
}

export function makeTestCerts(): TestCerts | null {
  if (spawnSync('openssl', ['version']).status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'authpipe-tls-'));
  const path = (name: string) => join(dir, name);
  writeFileSync(path('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const steps = [
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path('ca.key'),
      '-out',
      path('ca.crt'),
      '-days',
      '1',
      '-subj',
      '/CN=authpipe test CA',
    ],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=localhost'],
    [
      'x509',
      '-req',
      '-in',
      path('server.csr'),
      '-CA',
      path('ca.crt'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-out',
      path('server.crt'),
      '-days',
      '1',
      '-extfile',
      path('ext.cnf'),
    ],
  ];
  for (const args of steps) {
    const run = spawnSync('openssl', args, { encoding: 'utf8' });
    if (run.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`openssl ${args[0]} failed: ${run.stderr}`);
    }
  }
  return {
    dir,
    ca: path('ca.crt'),
    cert: path('server.crt'),
    key: path('server.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
