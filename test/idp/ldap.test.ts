import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { describeWithSlapd, ssha, startSlapd, SUFFIX, type Slapd } from '../support/slapd.js';
import { closedPort, startSilentServer, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { makeCertificate, type TestCertificate } from '../support/tls.js';

/**
 * idp-lookup with source "ldap", end to end: real HTTP into authpipe, a real slapd behind
 * it. A TCP proxy in front of slapd shows from the outside how many connections authpipe
 * opens, keeps and closes.
 */
const PEOPLE = `ou=people,${SUFFIX}`;
const SERVICE_DN = `cn=authpipe,${SUFFIX}`;
const SERVICE_PASSWORD = 'service-secret-for-tests';

const LDIF = `
dn: ${SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: authpipe
userPassword: ${ssha(SERVICE_PASSWORD)}

dn: ${PEOPLE}
objectClass: organizationalUnit
ou: people

${person('alice', 'wonderland', ['givenName: Alice', 'sn: Liddell', 'mail: alice@example.org', 'telephoneNumber: +46 70 111', 'telephoneNumber: +46 70 222'])}

${person('bob', 'builder', ['sn: Builder', 'mail: bob@example.org'])}

${person('twin1', 'twin-one', ['sn: One', 'cn: Twin'])}

${person('twin2', 'twin-two', ['sn: Two', 'cn: Twin'])}

${person('a*b', 'star', ['sn: Star'])}

${person('carol', 'caf\u00e9', ['sn: Carol'])}

${person('p(x)', 'paren', ['sn: Paren'])}

${person('floor-a', 'floor-a-pass', ['sn: FloorA'])}

${person('floor-b', 'floor-b-pass', ['sn: FloorB'])}

dn: uid=back\\5cslash,${PEOPLE}
objectClass: inetOrgPerson
uid: back\\slash
cn: back\\slash
sn: Slash
userPassword: ${ssha('slash')}
`;

function person(uid: string, password: string, lines: string[]): string {
  return [
    `dn: uid=${uid},${PEOPLE}`,
    'objectClass: inetOrgPerson',
    `uid: ${uid}`,
    `cn: ${uid}`,
    ...lines,
    `userPassword: ${ssha(password)}`,
  ].join('\n');
}

const LOGIN = {
  source: 'ldap',
  connection: 'corp',
  base_dn: PEOPLE,
  filter: '(&(objectClass=inetOrgPerson)(uid={{request.username}}))',
  password: '{{request.password}}',
  attributes: { username: 'uid', mail: 'mail', givenName: 'givenName', dn: 'dn', phones: 'telephoneNumber' },
  erroneous_properties: ['username', 'password'],
  // No floor (the default is 250 ms): it would hide what a refusal costs, which the timing test
  // below compares, and slow every refusal here. The floor has its own pipe and test.
  failure_floor_ms: 0,
};
const FIND = {
  source: 'ldap',
  connection: 'corp',
  base_dn: PEOPLE,
  filter: '(uid={{request.username}})',
  attributes: { username: 'uid', mail: 'mail' },
};

/** Answers what the lookup maps (the pipe check refuses a response naming what nothing sets). */
function pipe(config: Record<string, unknown>, response = Object.keys((config.attributes as Record<string, string> | undefined) ?? {})) {
  return { valves: [{ name: 'idp-lookup', config }], response };
}

const PIPES = {
  'ldap-login': pipe(LOGIN),
  'ldap-find': pipe(FIND),
  'ldap-by-cn': pipe({ ...FIND, filter: '(cn={{request.username}})' }),
  'ldap-denied': pipe({ ...FIND, not_found_code: 'ACCESS_DENIED', erroneous_properties: ['username'] }),
  'ldap-anon': pipe({ ...FIND, connection: 'anonymous' }),
  'ldap-down': pipe({ ...LOGIN, connection: 'down' }),
  'ldap-silent': pipe({ ...LOGIN, connection: 'silent' }),
  'ldap-tls': pipe({ ...LOGIN, connection: 'tls' }),
  'ldap-tls-untrusted': pipe({ ...LOGIN, connection: 'tls-untrusted' }),
  'ldap-starttls': pipe({ ...LOGIN, connection: 'starttls' }),
  'ldap-login-nfc': pipe({ ...LOGIN, password_normalization: 'nfc' }),
  'ldap-login-lock': pipe({ ...LOGIN, lockout: { threshold: 3 } }),
  'ldap-login-floor': pipe({ ...LOGIN, lockout: { threshold: 2 }, failure_floor_ms: 300 }),
};
const SILENT_TIMEOUT_MS = 800;

let slapd: Slapd;
let cert: TestCertificate;
let silent: { port: number; close(): Promise<void> };

/** A fresh authpipe whose "corp" connection goes through its own proxy. */
async function startAuthpipe(
  proxy: TcpProxy,
  extra: Record<string, unknown>[] = [],
  maxBind = 4,
  pipes: Record<string, unknown> = PIPES,
): Promise<{ server: RunningServer; fixture: ConfigFixture }> {
  const fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: Object.keys(pipes) }], pipes, {
    ldap: [
      {
        id: 'corp',
        url: `ldap://127.0.0.1:${proxy.port}`,
        bind_dn: SERVICE_DN,
        bind_password: '${env:TEST_LDAP_PASSWORD}',
        max_bind_connections: maxBind,
      },
      ...extra,
    ],
  });
  const server = await startServer({
    configFile: fixture.mainFile,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TEST_LDAP_PASSWORD: SERVICE_PASSWORD },
  });
  return { server, fixture };
}

describeWithSlapd('idp-lookup source "ldap" against a real slapd', () => {
  let proxy: TcpProxy;
  let server: RunningServer;
  let fixture: ConfigFixture;

  beforeAll(async () => {
    cert = makeCertificate();
    slapd = await startSlapd({ ldif: LDIF, tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
    silent = await startSilentServer();
    proxy = await startTcpProxy(slapd.port);
    ({ server, fixture } = await startAuthpipe(proxy, [
      { id: 'anonymous', url: slapd.url },
      { id: 'down', url: `ldap://127.0.0.1:${await closedPort()}`, timeout_ms: 1000 },
      { id: 'silent', url: `ldap://127.0.0.1:${silent.port}`, timeout_ms: SILENT_TIMEOUT_MS, connect_timeout_ms: 500 },
      { id: 'tls', url: slapd.ldapsUrl, bind_dn: SERVICE_DN, bind_password: SERVICE_PASSWORD, tls: { ca_file: cert.certFile } },
      { id: 'tls-untrusted', url: slapd.ldapsUrl, bind_dn: SERVICE_DN, bind_password: SERVICE_PASSWORD, timeout_ms: 2000 },
      {
        id: 'starttls',
        url: slapd.url,
        bind_dn: SERVICE_DN,
        bind_password: SERVICE_PASSWORD,
        tls: { start_tls: true, ca_file: cert.certFile },
      },
    ]));
  });
  afterAll(async () => {
    await server?.close();
    fixture?.cleanup();
    await proxy?.close();
    await silent?.close();
    await slapd?.stop();
    cert?.cleanup();
  });

  const refusedAsInvalid = (res: { status: number; body: any }) => {
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
    expect(res.body.erroneousProperties).toEqual(['username', 'password']);
  };

  it('logs in with the right password and maps the entry onto the answer', async () => {
    const res = await server.call('ldap-login', { username: 'alice', password: 'wonderland' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      username: 'alice',
      mail: 'alice@example.org',
      givenName: 'Alice',
      dn: `uid=alice,${PEOPLE}`,
      phones: '+46 70 111,+46 70 222',
    });
  });

  it('gives one and the same refusal for a wrong password, an unknown user and an empty password', async () => {
    const wrong = await server.call('ldap-login', { username: 'alice', password: 'builder' });
    const unknown = await server.call('ldap-login', { username: 'carol', password: 'wonderland' });
    const empty = await server.call('ldap-login', { username: 'alice', password: '' });
    for (const res of [wrong, unknown, empty]) refusedAsInvalid(res);
    expect(Object.keys(wrong.body).sort()).toEqual(Object.keys(unknown.body).sort());
  });

  it('locks an LDAP login after its failures: the right password is refused while locked', async () => {
    for (let i = 0; i < 3; i++) refusedAsInvalid(await server.call('ldap-login-lock', { username: 'twin1', password: `guess-${i}` }));
    refusedAsInvalid(await server.call('ldap-login-lock', { username: 'twin1', password: 'twin-one' }));
    expect(await server.app.store.get('authpipe:{demo}:lockout:idp:ldap:twin1:lock')).not.toBeNull();
    // Another account is untouched, and its success resets nothing it should not.
    expect((await server.call('ldap-login-lock', { username: 'twin2', password: 'twin-two' })).status).toBe(200);
  });

  it('holds every refusal to the failure floor: unknown user, wrong password and locked account alike; a success is not held', async () => {
    const timed = async (username: string, password: string, status = 403) => {
      const started = performance.now();
      const res = await server.call('ldap-login-floor', { username, password });
      expect(res.status).toBe(status);
      if (status === 403) refusedAsInvalid(res);
      return performance.now() - started;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] as number;
    expect(await timed('floor-a', 'floor-a-pass', 200)).toBeLessThan(300);
    // floor-b is locked after two failures; the locked refusal never reaches slapd.
    await timed('floor-b', 'guess-1');
    await timed('floor-b', 'guess-2');
    expect(await server.app.store.get('authpipe:{demo}:lockout:idp:ldap:floor-b:lock')).not.toBeNull();
    const wrong: number[] = [];
    const unknown: number[] = [];
    const locked: number[] = [];
    for (let i = 0; i < 3; i++) {
      wrong.push(await timed('floor-a', `wrong-${i}`));
      unknown.push(await timed(`nobody-${i}`, 'wrong'));
      locked.push(await timed('floor-b', 'floor-b-pass'));
      // floor-a must not lock: a success resets its failures.
      expect(await timed('floor-a', 'floor-a-pass', 200)).toBeLessThan(300);
    }
    for (const ms of [...wrong, ...unknown, ...locked]) expect(ms).toBeGreaterThanOrEqual(299);
    const medians = [median(wrong), median(unknown), median(locked)];
    expect(Math.max(...medians) / Math.min(...medians)).toBeLessThan(1.1);
  });

  it('refuses an ambiguous match (two entries) instead of picking one', async () => {
    const res = await server.call('ldap-by-cn', { username: 'Twin' });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
    // …while a unique cn is found.
    expect((await server.call('ldap-by-cn', { username: 'bob' })).body).toEqual({ username: 'bob', mail: 'bob@example.org' });
  });

  it('uses the configured refusal code when nothing matches', async () => {
    const res = await server.call('ldap-denied', { username: 'nobody' });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
    expect(res.body.erroneousProperties).toEqual(['username']);
  });

  it.each([
    ['a wildcard', '*'],
    ['a prefix wildcard', 'al*'],
    ['a closing clause', 'alice)(uid=*'],
    ['an OR injection', '*)(|(uid=*'],
    ['a backslash', 'alice\\'],
    ['an escape written by the caller', 'al\\2a'],
    ['a NUL', 'alice\u0000'],
    ['a 1,000-character name', 'a'.repeat(1000)],
    ['a 1,000-character name of specials', '*()\\\u0000'.repeat(200)],
  ])('refuses %s in the username: no entry leaks, no fault', async (_label, username) => {
    const found = await server.call('ldap-find', { username });
    expect(found.status).toBe(403);
    expect(found.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
    refusedAsInvalid(await server.call('ldap-login', { username, password: 'wonderland' }));
  });

  it('finds users whose names hold filter specials, literally', async () => {
    for (const [username, password] of [
      ['a*b', 'star'],
      ['p(x)', 'paren'],
      ['back\\slash', 'slash'],
    ] as const) {
      const res = await server.call('ldap-login', { username, password });
      expect(res.status).toBe(200);
      expect(res.body.username).toBe(username);
    }
    // `a*b` is not a wildcard: `aXb` does not exist and must not match it.
    expect((await server.call('ldap-find', { username: 'aXb' })).status).toBe(403);
  });

  it('searches as the service account, not anonymously', async () => {
    // slapd lets only bound users read ou=people: anonymous finds nobody.
    expect((await server.call('ldap-anon', { username: 'alice' })).status).toBe(403);
    expect((await server.call('ldap-find', { username: 'alice' })).status).toBe(200);
  });

  it('answers 500 COMMUNICATION_ERROR at once when the server refuses connections', async () => {
    const started = performance.now();
    const res = await server.call('ldap-down', { username: 'alice', password: 'wonderland' });
    expect(res.status).toBe(500);
    expect(res.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('answers 500 COMMUNICATION_ERROR within the timeout when the server never answers', async () => {
    const started = performance.now();
    const res = await server.call('ldap-silent', { username: 'alice', password: 'wonderland' });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(500);
    expect(res.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
    expect(elapsed).toBeGreaterThanOrEqual(SILENT_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(SILENT_TIMEOUT_MS + 700);
  });

  it('speaks ldaps:// with the configured CA, and refuses a certificate it cannot trust', async () => {
    const ok = await server.call('ldap-tls', { username: 'alice', password: 'wonderland' });
    expect(ok.status).toBe(200);
    expect(ok.body.username).toBe('alice');
    refusedAsInvalid(await server.call('ldap-tls', { username: 'alice', password: 'nope' }));
    const untrusted = await server.call('ldap-tls-untrusted', { username: 'alice', password: 'wonderland' });
    expect(untrusted.status).toBe(500);
    expect(untrusted.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
  });

  it('upgrades ldap:// with StartTLS', async () => {
    const ok = await server.call('ldap-starttls', { username: 'bob', password: 'builder' });
    expect(ok.status).toBe(200);
    expect(ok.body.mail).toBe('bob@example.org');
    refusedAsInvalid(await server.call('ldap-starttls', { username: 'bob', password: 'wonderland' }));
  });

  it('runs the shipped ldap-login pipe once corp-ldap points at a server (README steps)', async () => {
    const fx = ConfigFixture.fromDemo();
    const main = JSON.parse(readFileSync(fx.mainFile, 'utf8'));
    main.ldap[0] = { ...main.ldap[0], url: slapd.url, bind_dn: SERVICE_DN, bind_password: '${env:LDAP_BIND_PASSWORD}' };
    fx.writeMain(main);
    const app = await startServer({
      configFile: fx.mainFile,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LDAP_BIND_PASSWORD: SERVICE_PASSWORD },
    });
    try {
      const ok = await app.call('ldap-login', { username: 'alice', password: 'wonderland' });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({
        username: 'alice',
        displayName: 'alice',
        givenName: 'Alice',
        mail: 'alice@example.org',
        dn: `uid=alice,${PEOPLE}`,
      });
      // The shipped pipe keeps the default failure floor of 250 ms.
      const started = performance.now();
      refusedAsInvalid(await app.call('ldap-login', { username: 'alice', password: 'wrong' }));
      expect(performance.now() - started).toBeGreaterThanOrEqual(249);
      refusedAsInvalid(await app.call('ldap-login', { username: '*', password: 'wonderland' }));
    } finally {
      await app.close();
      fx.cleanup();
    }
  });

  it('takes as long for an unknown user as for a wrong password (one bind either way)', async () => {
    const slow = await startTcpProxy(slapd.port, 40);
    const { server: app, fixture: fx } = await startAuthpipe(slow, [], 1, { 'ldap-login': PIPES['ldap-login'] });
    const timed = async (username: string, password: string) => {
      const started = performance.now();
      refusedAsInvalid(await app.call('ldap-login', { username, password }));
      return performance.now() - started;
    };
    try {
      await timed('alice', 'warm-up'); // opens both connections
      const wrong: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 3; i++) {
        wrong.push(await timed('alice', 'wrong'));
        unknown.push(await timed('nobody', 'wrong'));
      }
      // Each lookup is two round trips of 80 ms (search, bind); skipping the bind would halve it.
      expect(Math.min(...unknown)).toBeGreaterThan(0.8 * Math.min(...wrong));
      expect(Math.min(...unknown)).toBeGreaterThanOrEqual(150);
    } finally {
      await app.close();
      fx.cleanup();
      await slow.close();
    }
  });

  it('reuses connections, survives them being cut, and closes them with the app', async () => {
    const own = await startTcpProxy(slapd.port);
    const { server: app, fixture: fx } = await startAuthpipe(own, [], 2, { 'ldap-login': PIPES['ldap-login'] });
    try {
      const logins = await Promise.all(
        Array.from({ length: 10 }, () => app.call('ldap-login', { username: 'alice', password: 'wonderland' })),
      );
      expect(logins.map((r) => r.status)).toEqual(Array(10).fill(200));
      // One search connection shared by all, plus the two password-check connections allowed.
      expect(own.accepted).toBe(3);
      for (let i = 0; i < 5; i++) expect((await app.call('ldap-login', { username: 'bob', password: 'builder' })).status).toBe(200);
      expect(own.accepted).toBe(3);

      own.cutAll();
      await new Promise((r) => setTimeout(r, 50));
      expect((await app.call('ldap-login', { username: 'alice', password: 'wonderland' })).status).toBe(200);
      expect(own.accepted).toBe(5);

      // A reload swaps in new connections; closing the app closes old and new.
      expect(app.app.reload().ok).toBe(true);
      expect((await app.call('ldap-login', { username: 'alice', password: 'wonderland' })).status).toBe(200);
      expect(own.open).toBeGreaterThanOrEqual(2);
    } finally {
      await app.close();
      fx.cleanup();
    }
    const deadline = Date.now() + 2000;
    while (own.open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(own.open).toBe(0);
    await own.close();
  });

  it('passes the password through unless password_normalization is "nfc"', async () => {
    const decomposed = { username: 'carol', password: 'cafe\u0301' };
    refusedAsInvalid(await server.call('ldap-login', decomposed));
    expect((await server.call('ldap-login', { username: 'carol', password: 'caf\u00e9' })).status).toBe(200);
    expect((await server.call('ldap-login-nfc', decomposed)).status).toBe(200);
  });
});
