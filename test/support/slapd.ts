import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { freePort } from './net.js';

/**
 * A throwaway OpenLDAP slapd for tests: a slapd.conf with an mdb database in a temp folder,
 * entries loaded with slapadd before start, listening on ldap://127.0.0.1:<free port> (and
 * ldaps:// when given a certificate). Never the system slapd on 389.
 */
const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
export const SUFFIX = 'dc=example,dc=org';

function slapdAvailable(): boolean {
  return existsSync(SLAPD) && existsSync(SLAPADD) && existsSync('/usr/lib/ldap/back_mdb.so');
}

/**
 * `describe` when slapd is installed. Without it: a loud skip on a laptop, a failing test
 * when CI=true, so CI can never pass by skipping the LDAP suite.
 */
export function describeWithSlapd(name: string, body: () => void): void {
  if (slapdAvailable()) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs a real slapd', () => {
        throw new Error(
          `slapd is not installed (${SLAPD}, ${SLAPADD}, back_mdb); CI must run the LDAP suite (apt-get install slapd ldap-utils)`,
        );
      });
    });
  } else {
    process.stderr.write(
      `\n*** SKIPPED "${name}": slapd is not installed (apt-get install slapd ldap-utils). CI=true fails instead. ***\n\n`,
    );
    describe.skip(name, body);
  }
}

/** `{SSHA}` userPassword value, as slappasswd writes it. */
export function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

export interface SlapdOptions {
  /** LDIF of the entries under dc=example,dc=org (the suffix entry is added for you). */
  ldif: string;
  /** PEM files: also listen on ldaps:// and offer StartTLS. */
  tls?: { certFile: string; keyFile: string };
}

export interface Slapd {
  readonly url: string;
  readonly port: number;
  readonly ldapsUrl: string | undefined;
  stop(): Promise<void>;
}

export async function startSlapd(options: SlapdOptions): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'authpipe-slapd-'));
  try {
    mkdirSync(join(dir, 'data'));
    const conf = join(dir, 'slapd.conf');
    writeFileSync(conf, slapdConf(dir, options.tls));
    writeFileSync(
      join(dir, 'data.ldif'),
      `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n${options.ldif.trim()}\n`,
    );
    const added = spawnSync(SLAPADD, ['-f', conf, '-l', join(dir, 'data.ldif')], { encoding: 'utf8' });
    if (added.status !== 0) throw new Error(`slapadd failed (${added.status}): ${added.stderr}`);
    // A free port can be taken between probing and binding: try a few.
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const ldapsPort = options.tls ? await freePort() : undefined;
      const urls = [`ldap://127.0.0.1:${port}/`, ...(ldapsPort ? [`ldaps://127.0.0.1:${ldapsPort}/`] : [])];
      const child = spawn(SLAPD, ['-f', conf, '-h', urls.join(' '), '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      try {
        await waitListening(child, port);
        if (ldapsPort) await waitListening(child, ldapsPort);
      } catch (err) {
        await stopChild(child);
        if (attempt < 3) continue;
        throw new Error(`slapd did not start: ${(err as Error).message}\n${stderr}`, { cause: err });
      }
      return {
        url: `ldap://127.0.0.1:${port}`,
        port,
        ldapsUrl: ldapsPort ? `ldaps://127.0.0.1:${ldapsPort}` : undefined,
        async stop() {
          await stopChild(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function slapdConf(dir: string, tls: SlapdOptions['tls']): string {
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `pidfile ${join(dir, 'slapd.pid')}`,
    ...(tls ? [`TLSCertificateFile ${tls.certFile}`, `TLSCertificateKeyFile ${tls.keyFile}`] : []),
    'database mdb',
    'maxsize 10485760',
    `suffix "${SUFFIX}"`,
    `rootdn "cn=admin,${SUFFIX}"`,
    `directory ${join(dir, 'data')}`,
    'index uid,mail,cn eq',
    // Passwords are only for binding; people are readable by bound users (the service
    // account), not anonymously, so a test can tell a service bind from none. The ou itself
    // stays readable, so an anonymous search finds nothing rather than no base.
    'access to attrs=userPassword by anonymous auth by * none',
    `access to dn.children="ou=people,${SUFFIX}" by users read by * none`,
    'access to * by * read',
    '',
  ].join('\n');
}

async function waitListening(child: ChildProcess, port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} not listening after 10 s`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
