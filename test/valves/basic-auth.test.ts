import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../support/clock.js';
import { hashPassword } from '../../src/credentials/hash.js';
import { verifiedCredentials } from '../../src/credentials/verified-cache.js';
import { ConfigFixture } from '../support/fixture.js';
import { rawPut, rawRequest } from '../support/raw-http.js';
import { startServer, type RunningServer } from '../support/server.js';
import { basic, capturingLogger, refusalDetails } from '../support/credentials.js';

/**
 * basic-auth through real HTTP on the shipped demo (till-login, client-login) plus a few
 * tills added for the RFC 7617 examples and the lockout, hashed at a low cost for speed.
 */
let fixture: ConfigFixture;
let server: RunningServer;
const clock = new ManualClock();
const { logger, lines } = capturingLogger();

type Answer = Awaited<ReturnType<RunningServer['call']>>;

// Every refusal is padded to the failure floor calibrated at start, which grows with the load on
// the machine; the lockout tests make a dozen of them in a row.
jest.setTimeout(60_000);

const fast = (password: string) => hashPassword(password, { ln: 12, r: 8, p: 1 });

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  const directoryFile = join(fixture.dir, 'config', 'directory.json');
  const directory = JSON.parse(readFileSync(directoryFile, 'utf8'));
  const extra: [string, string][] = [
    ['Aladdin', 'open sesame'],
    ['test', '123£'],
    ['colon-till', 'pa:ss:word'],
    ['cafe-till', 'caf\u00e9'], // NFC
    ['lock-1', 'lock-1-pass'],
    ['lock-2', 'lock-2-pass'],
    ['lock-3', 'lock-3-pass'],
    ['lock-4', 'lock-4-pass'],
    ['cache-1', 'cache-1-pass'],
    ['burst-till', 'burst-till-pass'],
  ];
  for (const [username, password] of extra)
    directory.tenants.demo.tills.push({ username, password_hash: await fast(password), store: 'store-01' });
  // The dearest hash here (it sets the failure floor), to compare a refused-before-hashing call with a real verification.
  directory.tenants.demo.tills.push({
    username: 'slow-till',
    password_hash: await hashPassword('slow-till-pass', { ln: 14, r: 8, p: 1 }),
    store: 'store-01',
  });
  directory.tenants.acme.tills.push({ username: 'lock-1', password_hash: await fast('lock-1-pass'), store: 'acme-store-1' });
  fixture.write('config/directory.json', directory);

  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  main.modules[0].config.tenant[0].allowedOperation.push('till-whoami', 'client-whoami', 'till-login-body');
  // Bursts of 20 cold checks below: room for them all in the budget's queue.
  main.password_checks = { queue: 64 };
  fixture.writeMain(main);
  fixture.writePipe('till-whoami', {
    valves: [{ name: 'basic-auth', config: { kind: 'till' } }],
    response: ['sub', 'kind', 'store', 'tenant'],
  });
  fixture.writePipe('client-whoami', {
    valves: [{ name: 'basic-auth', config: { kind: 'client' } }],
    response: ['sub', 'kind', 'tenant', 'scope'],
  });
  fixture.writePipe('till-login-body', { valves: [{ name: 'basic-auth', config: { kind: 'till', from: ['body'] } }], response: ['sub'] });
  server = await startServer({ configFile: fixture.mainFile, clock, logger });
});

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const tillLogin = (headers: Record<string, string>, body: unknown = {}, tenant = 'demo') =>
  server.call('till-login', body, { tenant, ...headers });

function expectRefused(res: Answer, code: string, properties?: string[]): void {
  expect(res.status).toBe(403);
  expect(res.body.status).toBe('Failure');
  expect(res.body.errorTranslationKeys).toEqual([code]);
  expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
  if (properties) expect(res.body.erroneousProperties).toEqual(properties);
}

const expectInvalidCredentials = (res: Answer) => expectRefused(res, 'INVALID_CREDENTIALS', ['username', 'password']);

describe('accepted credentials', () => {
  it('a till by Basic header answers its subject', async () => {
    const res = await tillLogin({ authorization: basic('till-001', 'till-001-pass') });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sub: 'till-001', token_type: 'Bearer', expires_in: '600' });
  });

  it('a till by body username/password', async () => {
    const res = await tillLogin({}, { username: 'till-001', password: 'till-001-pass' });
    expect(res).toMatchObject({ status: 200, body: { sub: 'till-001' } });
  });

  it('puts sub, kind, store and tenant on the item for a till', async () => {
    const res = await server.call('till-whoami', {}, { authorization: basic('till-001', 'till-001-pass') });
    expect(res.body).toEqual({ sub: 'till-001', kind: 'till', store: 'store-01', tenant: 'demo' });
  });

  it('puts sub, kind, scope and tenant on the item for an API client', async () => {
    const res = await server.call('client-whoami', {}, { authorization: basic('pos-server-1', 'pos-server-1-secret') });
    expect(res.body).toEqual({ sub: 'pos-server-1', kind: 'client', scope: 'data:read data:write', tenant: 'demo' });
  });

  it('an API client by Basic header and by body client_id/client_secret', async () => {
    const byHeader = await server.call('client-login', {}, { authorization: basic('pos-server-1', 'pos-server-1-secret') });
    expect(byHeader).toMatchObject({ status: 200, body: { sub: 'pos-server-1' } });
    const byBody = await server.call('client-login', { client_id: 'pos-server-1', client_secret: 'pos-server-1-secret' });
    expect(byBody).toMatchObject({ status: 200, body: { sub: 'pos-server-1' } });
  });

  it('imported argon2id and bcrypt hashes', async () => {
    expect((await tillLogin({ authorization: basic('till-002', 'till-002-pass') })).body).toMatchObject({
      sub: 'till-002',
      token_type: 'Bearer',
      expires_in: '600',
    });
    expect((await tillLogin({ authorization: basic('till-003', 'till-003-pass') })).body).toMatchObject({
      sub: 'till-003',
      token_type: 'Bearer',
      expires_in: '600',
    });
  });

  it('the RFC 7617 examples: Aladdin / open sesame and UTF-8 test / 123£', async () => {
    expect((await tillLogin({ authorization: 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==' })).body).toMatchObject({
      sub: 'Aladdin',
      token_type: 'Bearer',
      expires_in: '600',
    });
    expect((await tillLogin({ authorization: 'Basic dGVzdDoxMjPCow==' })).body).toMatchObject({
      sub: 'test',
      token_type: 'Bearer',
      expires_in: '600',
    });
    expect((await tillLogin({}, { username: 'test', password: '123£' })).body).toMatchObject({
      sub: 'test',
      token_type: 'Bearer',
      expires_in: '600',
    });
  });

  it('a colon in the password, and the scheme in any case', async () => {
    expect((await tillLogin({ authorization: basic('colon-till', 'pa:ss:word') })).body).toMatchObject({
      sub: 'colon-till',
      token_type: 'Bearer',
      expires_in: '600',
    });
    expect((await tillLogin({ authorization: `bAsIc ${Buffer.from('colon-till:pa:ss:word').toString('base64')}` })).body).toMatchObject({
      sub: 'colon-till',
      token_type: 'Bearer',
      expires_in: '600',
    });
  });

  it('a password typed decomposed matches its NFC hash', async () => {
    expect((await tillLogin({ authorization: basic('cafe-till', 'cafe\u0301') })).body).toMatchObject({
      sub: 'cafe-till',
      token_type: 'Bearer',
      expires_in: '600',
    });
  });
});

describe('refused credentials: one answer for all', () => {
  it("wrong password, unknown till, disabled till, another tenant's till", async () => {
    expectInvalidCredentials(await tillLogin({ authorization: basic('till-001', 'wrong') }));
    expectInvalidCredentials(await tillLogin({ authorization: basic('till-404', 'till-001-pass') }));
    expectInvalidCredentials(await tillLogin({ authorization: basic('till-009', 'till-009-pass') }));
    expectInvalidCredentials(await tillLogin({ authorization: basic('acme-till-1', 'acme-till-1-pass') }));
    expectInvalidCredentials(await tillLogin({ authorization: basic('till-001', 'till-001-pass') }, {}, 'acme'));
    // The same till logs in through its own tenant.
    expect((await tillLogin({ authorization: basic('acme-till-1', 'acme-till-1-pass') }, {}, 'acme')).status).toBe(200);
  });

  it('a till cannot log in as an API client, nor a client as a till', async () => {
    expectRefused(await server.call('client-login', {}, { authorization: basic('till-001', 'till-001-pass') }), 'INVALID_CREDENTIALS', [
      'client_id',
      'client_secret',
    ]);
    expectInvalidCredentials(await tillLogin({ authorization: basic('pos-server-1', 'pos-server-1-secret') }));
  });

  it('tenant acme may not call client-login at all', async () => {
    expectRefused(
      await server.call('client-login', {}, { tenant: 'acme', authorization: basic('pos-server-1', 'pos-server-1-secret') }),
      'OPERATION_NOT_ALLOWED',
    );
  });

  it('the log tells the cases apart; the caller cannot', async () => {
    const answers = await Promise.all([
      tillLogin({ authorization: basic('till-001', 'wrong-again') }),
      tillLogin({ authorization: basic('till-405', 'x') }),
      tillLogin({ authorization: basic('till-009', 'till-009-pass') }),
    ]);
    const bodies = answers.map((a) => ({ ...a.body, requestId: undefined }));
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
    expect(
      refusalDetails(
        lines,
        answers.map((a) => a.body.requestId),
      ),
    ).toEqual(['wrong password', 'unknown user', 'account disabled']);
  });
});

describe('bad input: a coded 403, never a 500', () => {
  const b64 = (bytes: number[] | string) => Buffer.from(bytes as never).toString('base64');
  it.each([
    ['missing header and body', {}, {}, 'INVALID_CREDENTIALS', ['username', 'password']],
    ['Basic alone', { authorization: 'Basic' }, {}, 'INVALID_REQUEST', ['authorization']],
    ['another scheme', { authorization: 'Bearer abc.def.ghi' }, {}, 'INVALID_REQUEST', ['authorization']],
    ['Digest', { authorization: 'Digest username="till-001"' }, {}, 'INVALID_REQUEST', ['authorization']],
    ['no colon', { authorization: `Basic ${b64('till-001')}` }, {}, 'INVALID_REQUEST', ['authorization']],
    ['an empty user', { authorization: basic('', 'till-001-pass') }, {}, 'INVALID_CREDENTIALS', ['username', 'password']],
    ['an empty password', { authorization: basic('till-001', '') }, {}, 'INVALID_CREDENTIALS', ['username', 'password']],
    ['an empty body user', {}, { username: '', password: 'till-001-pass' }, 'INVALID_CREDENTIALS', ['username', 'password']],
    ['a body user without password', {}, { username: 'till-001' }, 'INVALID_CREDENTIALS', ['username', 'password']],
    ['invalid base64 @@', { authorization: 'Basic @@' }, {}, 'INVALID_REQUEST', ['authorization']],
    ['embedded spaces', { authorization: 'Basic dGls bC0wMDE6 dGlsbC0wMDEtcGFzcw==' }, {}, 'INVALID_REQUEST', ['authorization']],
    ['an asterisk', { authorization: 'Basic dGlsbC0wMDE6*GlsbC0wMDEtcGFzcw==' }, {}, 'INVALID_REQUEST', ['authorization']],
    [
      'base64url characters',
      { authorization: `Basic ${b64('till-001:>>>???').replace(/\+/g, '-').replace(/\//g, '_')}` },
      {},
      'INVALID_REQUEST',
      ['authorization'],
    ],
    [
      'missing padding',
      { authorization: `Basic ${b64('till-001:till-001-pass').replace(/=+$/, '')}` },
      {},
      'INVALID_REQUEST',
      ['authorization'],
    ],
    [
      'invalid UTF-8',
      { authorization: `Basic ${b64([0x74, 0x69, 0x6c, 0x6c, 0x3a, 0xff, 0xfe])}` },
      {},
      'INVALID_REQUEST',
      ['authorization'],
    ],
    [
      'a NUL in the header password',
      { authorization: basic('till-001', 'till-001-pass\u0000x') },
      {},
      'INVALID_REQUEST',
      ['authorization'],
    ],
    ['a control character in the header user', { authorization: basic('till\u0007001', 'x') }, {}, 'INVALID_REQUEST', ['authorization']],
    ['a NUL in the body password', {}, { username: 'till-001', password: 'till-001-pass\u0000' }, 'INVALID_REQUEST', ['password']],
    ['a newline in the body user', {}, { username: 'till-001\n', password: 'x' }, 'INVALID_REQUEST', ['username']],
    ['a C1 control in the body password', {}, { username: 'till-001', password: 'a\u0085b' }, 'INVALID_REQUEST', ['password']],
    ['a password over the valve cap (256 bytes)', {}, { username: 'till-001', password: 'p'.repeat(257) }, 'INVALID_REQUEST', ['password']],
    ['a user over the valve cap (128 bytes)', { authorization: basic('u'.repeat(129), 'x') }, {}, 'INVALID_REQUEST', ['authorization']],
    [
      'header and body both',
      { authorization: basic('till-001', 'till-001-pass') },
      { username: 'till-001', password: 'till-001-pass' },
      'INVALID_REQUEST',
      ['authorization', 'username', 'password'],
    ],
  ])('%s', async (_name, headers, body, code, properties) => {
    expectRefused(await tillLogin(headers as Record<string, string>, body), code as string, properties as string[]);
  });

  it('two Authorization headers', async () => {
    const { port } = server.server.address() as AddressInfo;
    const res = await rawRequest(
      port,
      rawPut(
        '/api/authentication/till-login',
        [
          'tenant: demo',
          'Content-Type: application/json',
          `Authorization: ${basic('till-001', 'till-001-pass')}`,
          `Authorization: ${basic('till-002', 'till-002-pass')}`,
        ],
        '{}',
      ),
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ errorTranslationKeys: ['INVALID_REQUEST'], erroneousProperties: ['authorization'] });
  });

  it('a header with raw non-ASCII bytes', async () => {
    const { port } = server.server.address() as AddressInfo;
    const head = Buffer.from(
      'PUT /api/authentication/till-login HTTP/1.1\r\nHost: x\r\nConnection: close\r\ntenant: demo\r\nContent-Type: application/json\r\nContent-Length: 2\r\nAuthorization: Basic ',
    );
    const res = await rawRequest(port, Buffer.concat([head, Buffer.from([0xc3, 0xa9, 0xff]), Buffer.from('\r\n\r\n{}')]));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ errorTranslationKeys: ['INVALID_REQUEST'] });
  });

  it('a body-only pipe ignores the header and asks for body credentials', async () => {
    expectInvalidCredentials(await server.call('till-login-body', {}, { authorization: basic('till-001', 'till-001-pass') }));
    expect((await server.call('till-login-body', { username: 'till-001', password: 'till-001-pass' })).body).toEqual({ sub: 'till-001' });
  });

  it('a 12,000-character password is refused fast, before hashing', async () => {
    const timed = async (body: unknown) => {
      const started = performance.now();
      const res = await tillLogin({}, body);
      return { res, ms: performance.now() - started };
    };
    const slow = await timed({ username: 'slow-till', password: 'wrong-password' });
    expectInvalidCredentials(slow.res);
    const long = await timed({ username: 'slow-till', password: 'p'.repeat(12_000) });
    expectRefused(long.res, 'INVALID_REQUEST', ['password']);
    const capped = await timed({ username: 'slow-till', password: 'p'.repeat(1000) });
    expectRefused(capped.res, 'INVALID_REQUEST', ['password']);
    expect(long.ms).toBeLessThan(slow.ms / 2);
    expect(capped.ms).toBeLessThan(slow.ms / 2);
  });

  it('malformed credentials neither verify nor count towards the lockout', async () => {
    for (let i = 0; i < 8; i++) expectRefused(await tillLogin({ authorization: basic('lock-4', `bad\u0000${i}`) }), 'INVALID_REQUEST');
    for (let i = 0; i < 8; i++) expectInvalidCredentials(await tillLogin({ authorization: basic('lock-4', '') }));
    expect(await server.app.store.get('authpipe:{demo}:lockout:till:lock-4:attempts')).toBeNull();
    expect((await tillLogin({ authorization: basic('lock-4', 'lock-4-pass') })).status).toBe(200);
  });
});

describe('verified-credential cache', () => {
  it('serves a repeat call from the cache, and only successes', async () => {
    const hits = verifiedCredentials.hits;
    const size = verifiedCredentials.size;
    expectInvalidCredentials(await tillLogin({ authorization: basic('cache-1', 'wrong') }));
    expect(verifiedCredentials.size).toBe(size);
    expect((await tillLogin({ authorization: basic('cache-1', 'cache-1-pass') })).status).toBe(200);
    expect(verifiedCredentials.size).toBe(size + 1);
    expect(verifiedCredentials.hits).toBe(hits);
    expect((await tillLogin({ authorization: basic('cache-1', 'cache-1-pass') })).status).toBe(200);
    expect((await tillLogin({}, { username: 'cache-1', password: 'cache-1-pass' })).status).toBe(200);
    expect(verifiedCredentials.hits).toBe(hits + 2);
    // A wrong password never hits, even right after a success.
    expectInvalidCredentials(await tillLogin({ authorization: basic('cache-1', 'cache-1-pas') }));
    expect(verifiedCredentials.hits).toBe(hits + 2);
  });

  it('forgets after the TTL (60 s by default)', async () => {
    expect((await tillLogin({ authorization: basic('cache-1', 'cache-1-pass') })).status).toBe(200);
    const hits = verifiedCredentials.hits;
    clock.advance(59_000);
    expect((await tillLogin({ authorization: basic('cache-1', 'cache-1-pass') })).status).toBe(200);
    expect(verifiedCredentials.hits).toBe(hits + 1);
    clock.advance(61_000);
    expect((await tillLogin({ authorization: basic('cache-1', 'cache-1-pass') })).status).toBe(200);
    expect(verifiedCredentials.hits).toBe(hits + 1);
  });
});

describe('lockout', () => {
  it('locks after 5 failures, refuses the right password while locked, and logs it', async () => {
    for (let i = 0; i < 5; i++) expectInvalidCredentials(await tillLogin({ authorization: basic('lock-1', `guess-${i}`) }));
    const locked = await tillLogin({ authorization: basic('lock-1', 'lock-1-pass') });
    expectInvalidCredentials(locked);
    expect(refusalDetails(lines, [locked.body.requestId])).toEqual(['account locked']);
    const fifth = lines.filter((l) => l.msg === 'call' && String(l.detail).includes('now locked'));
    expect(fifth.at(-1)?.detail).toBe('wrong password; account now locked for 60 s');
    // The same till code in another tenant is another account.
    expect((await tillLogin({ authorization: basic('lock-1', 'lock-1-pass') }, {}, 'acme')).status).toBe(200);
    clock.advance(60_000);
    expect((await tillLogin({ authorization: basic('lock-1', 'lock-1-pass') })).status).toBe(200);
  });

  it('a cached credential is refused too while the account is locked', async () => {
    expect((await tillLogin({ authorization: basic('lock-1', 'lock-1-pass') })).status).toBe(200);
    for (let i = 0; i < 5; i++) await tillLogin({ authorization: basic('lock-1', `guess-${i}`) });
    const hits = verifiedCredentials.hits;
    const res = await tillLogin({ authorization: basic('lock-1', 'lock-1-pass') });
    expectInvalidCredentials(res);
    expect(verifiedCredentials.hits).toBe(hits + 1);
    expect(refusalDetails(lines, [res.body.requestId])).toEqual(['account locked']);
    clock.advance(60_000);
  });

  it('doubles the wait with each lock', async () => {
    const lockRound = async () => {
      for (let i = 0; i < 5; i++) await tillLogin({ authorization: basic('lock-2', `guess-${i}`) });
    };
    await lockRound();
    clock.advance(60_000);
    await lockRound(); // second lock: 120 s
    clock.advance(61_000);
    expectInvalidCredentials(await tillLogin({ authorization: basic('lock-2', 'lock-2-pass') }));
    clock.advance(59_000);
    expect((await tillLogin({ authorization: basic('lock-2', 'lock-2-pass') })).status).toBe(200);
  });

  it('unknown users lock the same way, so a lock reveals nothing', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 6; i++) answers.push(await tillLogin({ authorization: basic('ghost-till', `guess-${i}`) }));
    for (const a of answers) expectInvalidCredentials(a);
    expect(
      refusalDetails(
        lines,
        answers.map((a) => a.body.requestId),
      ).at(-1),
    ).toBe('account locked');
  });

  it('20 parallel wrong guesses: at most 5 reach verification', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => tillLogin({ authorization: basic('lock-3', `parallel-${i}`) })));
    for (const a of answers) expectInvalidCredentials(a);
    const details = refusalDetails(
      lines,
      answers.map((a) => a.body.requestId),
    );
    expect(details).toHaveLength(20);
    const verified = details.filter((d) => d.startsWith('wrong password'));
    expect(verified.length).toBeLessThanOrEqual(5);
    expect(verified).toHaveLength(5); // and the threshold was used, not fewer
    expect(details.filter((d) => d.startsWith('account locked'))).toHaveLength(15);
    expectInvalidCredentials(await tillLogin({ authorization: basic('lock-3', 'lock-3-pass') }));
  });
});

describe('parallel logins with the right password on a cold cache', () => {
  it('all succeed: identical credentials share one verification and one attempt slot', async () => {
    const size = verifiedCredentials.size;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => tillLogin({ authorization: basic('burst-till', 'burst-till-pass') })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(verifiedCredentials.size).toBe(size + 1);
    expect(await server.app.store.get('authpipe:{demo}:lockout:till:burst-till:attempts')).toBeNull();
  });

  it('a wrong guess among them still counts, and the right ones still pass', async () => {
    clock.advance(120_000); // past the cache TTL
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => tillLogin({ authorization: basic('burst-till', 'burst-till-pass') })),
      tillLogin({ authorization: basic('burst-till', 'not-it') }),
    ]);
    expect(answers.slice(0, 10).map((a) => a.status)).toEqual(Array(10).fill(200));
    expectInvalidCredentials(answers[10] as Answer);
  });
});

describe('config reloads', () => {
  it('a changed hash misses the cache; a disabled till is refused though cached', async () => {
    const directoryFile = 'config/directory.json';
    const directory = JSON.parse(readFileSync(join(fixture.dir, directoryFile), 'utf8'));
    expect((await tillLogin({ authorization: basic('cache-1', 'cache-1-pass') })).status).toBe(200);
    expect((await tillLogin({ authorization: basic('cache-1', 'cache-1-pass') })).status).toBe(200);

    const till = directory.tenants.demo.tills.find((t: { username: string }) => t.username === 'cache-1');
    till.password_hash = await fast('cache-1-new-pass');
    fixture.write(directoryFile, directory);
    expect(server.app.reload()).toMatchObject({ ok: true });
    expectInvalidCredentials(await tillLogin({ authorization: basic('cache-1', 'cache-1-pass') }));
    expect((await tillLogin({ authorization: basic('cache-1', 'cache-1-new-pass') })).status).toBe(200);
    expect((await tillLogin({ authorization: basic('cache-1', 'cache-1-new-pass') })).status).toBe(200);

    till.status = 'disabled';
    fixture.write(directoryFile, directory);
    expect(server.app.reload()).toMatchObject({ ok: true });
    const res = await tillLogin({ authorization: basic('cache-1', 'cache-1-new-pass') });
    expectInvalidCredentials(res);
    expect(refusalDetails(lines, [res.body.requestId])).toEqual(['account disabled']);
  });

  it('a broken directory file is refused and the old one keeps serving', async () => {
    fixture.write('config/directory.json', '{"tenants": {"demo": {"tills": [{"username": "x"}]}}}');
    const result = server.app.reload();
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues[0]).toMatchObject({ pointer: '/tenants/demo/tills/0', message: expect.stringContaining('password_hash') });
    expect((await tillLogin({ authorization: basic('till-001', 'till-001-pass') })).status).toBe(200);
  });
});
