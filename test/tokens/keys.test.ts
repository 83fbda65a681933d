import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { keys } from '../../src/cli/keys.js';
import { validate } from '../../src/cli/validate.js';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { thumbprint } from '../../src/tokens/algorithms.js';
import { startServer, type RunningServer } from '../support/server.js';
import type { ConfigFixture } from '../support/fixture.js';
import { AUDIENCE, fixtureKey, ISSUER, tokenFixture } from './support.js';

const fixtures: ConfigFixture[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const f of fixtures.splice(0)) f.cleanup();
});

function fixture(options?: Parameters<typeof tokenFixture>[0]): ConfigFixture {
  const f = tokenFixture(options);
  fixtures.push(f);
  return f;
}
async function serve(f: ConfigFixture): Promise<RunningServer> {
  const s = await startServer({ configFile: f.mainFile });
  servers.push(s);
  return s;
}
const keysDir = (f: ConfigFixture) => join(f.dir, 'var', 'keys');
const keyFiles = (f: ConfigFixture) =>
  readdirSync(keysDir(f))
    .filter((n) => n.endsWith('.json'))
    .sort();
async function jwks(s: RunningServer): Promise<{ kid: string; alg: string; kty: string; crv?: string }[]> {
  return ((await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; alg: string; kty: string }[] }).keys;
}
async function mint(s: RunningServer): Promise<string> {
  const res = await s.call('system-login', { username: 'till-001' });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}
/** Runs a CLI command and returns its exit code and what it printed. */
async function cli(command: { run(args: string[]): unknown }, args: string[]): Promise<{ code: unknown; out: string }> {
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    return { code: await command.run(args), out };
  } finally {
    spy.mockRestore();
  }
}
async function loadIssues(f: ConfigFixture): Promise<ConfigIssue[]> {
  try {
    await serve(f);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error('the config loaded');
}

describe('the key folder', () => {
  it('gets one ES256 key at first start, mode 0600 in a 0700 folder, named by its RFC 7638 thumbprint; a reload reuses it', async () => {
    const f = fixture();
    const s = await serve(f);
    const files = keyFiles(f);
    expect(files).toHaveLength(1);
    const file = join(keysDir(f), files[0] as string);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(keysDir(f)).mode & 0o777).toBe(0o700);
    const jwk = JSON.parse(readFileSync(file, 'utf8'));
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', d: expect.any(String) });
    expect(jwk.kid).toBe(thumbprint(jwk));
    expect(files[0]).toBe(`${jwk.kid}.json`);
    expect(s.app.reload().ok).toBe(true);
    expect(keyFiles(f)).toEqual(files);
    expect((await jwks(s)).map((k) => k.kid)).toEqual([jwk.kid]);
  });

  it('is left alone by `authpipe validate` (no key is written)', async () => {
    const f = fixture();
    const { code, out } = await cli(validate, ['--config', f.mainFile]);
    expect(code).toBe(0);
    expect(out).toContain('valid');
    expect(() => readdirSync(keysDir(f))).toThrow(/ENOENT/);
  });

  it('rotate: the new key is published at the next reload and signs only once activated; the old one is accepted until its file is removed', async () => {
    const f = fixture();
    const s = await serve(f);
    const oldKid = fixtureKey(f).kid;
    const oldToken = await mint(s);

    const rotated = await cli(keys, ['rotate', '--config', f.mainFile]);
    expect(rotated.code).toBe(0);
    expect(keyFiles(f)).toHaveLength(2);
    const newKid = keyFiles(f)
      .map((n) => n.replace('.json', ''))
      .find((k) => k !== oldKid) as string;
    expect(rotated.out).toContain(newKid);
    for (const name of keyFiles(f)) expect(statSync(join(keysDir(f), name)).mode & 0o777).toBe(0o600);

    // Until the reload, the running server signs as before.
    expect(decodeProtectedHeader(await mint(s)).kid).toBe(oldKid);
    expect(s.app.reload().ok).toBe(true);
    expect((await jwks(s)).map((k) => k.kid)).toEqual([newKid, oldKid]);
    // Published, not yet signing: a relying party with yesterday's JWKS meets no unknown kid.
    expect(decodeProtectedHeader(await mint(s)).kid).toBe(oldKid);
    expect((await cli(keys, ['list', '--config', f.mainFile])).out).toMatch(
      new RegExp(`${newKid}\\s+ES256\\s+\\S+\\s+published, signs from`),
    );
    // Written moments ago: relying parties may still hold a JWKS without it.
    let err = '';
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    try {
      expect((await cli(keys, ['activate', newKid, '--config', f.mainFile])).code).toBe(1);
    } finally {
      stderr.mockRestore();
    }
    expect(err).toMatch(new RegExp(`${newKid} was written \\d+ s ago; relying parties cache the JWKS for 300 s.*--force`));
    expect(s.app.reload().ok).toBe(true);
    expect(decodeProtectedHeader(await mint(s)).kid).toBe(oldKid);
    expect((await cli(keys, ['activate', newKid, '--force', '--config', f.mainFile])).code).toBe(0);
    expect(s.app.reload().ok).toBe(true);
    const newToken = await mint(s);
    expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
    const listed = await cli(keys, ['list', '--config', f.mainFile]);
    expect(listed.out).toMatch(new RegExp(`${newKid}\\s+ES256\\s+\\S+\\s+signs`));
    expect(listed.out).toMatch(new RegExp(`${oldKid}\\s+ES256\\s+\\S+\\s+published`));
    for (const token of [oldToken, newToken])
      expect((await s.call('introspect', {}, { authorization: `Bearer ${token}` })).status).toBe(200);

    rmSync(join(keysDir(f), `${oldKid}.json`));
    expect(s.app.reload().ok).toBe(true);
    expect((await jwks(s)).map((k) => k.kid)).toEqual([newKid]);
    const refused = await s.call('introspect', {}, { authorization: `Bearer ${oldToken}` });
    expect(refused.status).toBe(403);
    expect(refused.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    expect((await s.call('introspect', {}, { authorization: `Bearer ${newToken}` })).status).toBe(200);
  });

  it('a rotated key starts signing by itself when its activation delay ends', async () => {
    const f = fixture();
    const main = JSON.parse(readFileSync(f.mainFile, 'utf8'));
    main.tokens.activation_delay_seconds = 1;
    f.writeMain(main);
    const s = await serve(f);
    const oldKid = fixtureKey(f).kid;
    expect((await cli(keys, ['rotate', '--config', f.mainFile])).code).toBe(0);
    const newKid = keyFiles(f)
      .map((n) => n.replace('.json', ''))
      .find((k) => k !== oldKid) as string;
    expect(s.app.reload().ok).toBe(true);
    expect(decodeProtectedHeader(await mint(s)).kid).toBe(oldKid);
    // No signal, no reload call: the server switches at the key's activate_at.
    const deadline = Date.now() + 5000;
    let kid = oldKid;
    while (kid === oldKid && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      kid = decodeProtectedHeader(await mint(s)).kid as string;
    }
    expect(kid).toBe(newKid);
  });

  it('with keys of two algorithms, a header naming the other algorithm for a kid is refused', async () => {
    const f = fixture();
    const s = await serve(f);
    const esToken = await mint(s);
    const before = keyFiles(f);
    expect((await cli(keys, ['rotate', '--algorithm', 'EdDSA', '--config', f.mainFile])).code).toBe(0);
    const edKid = (keyFiles(f).find((n) => !before.includes(n)) as string).replace('.json', '');
    expect((await cli(keys, ['activate', edKid, '--force', '--config', f.mainFile])).code).toBe(0);
    expect(s.app.reload().ok).toBe(true);
    const edToken = await mint(s);
    expect(decodeProtectedHeader(edToken).alg).toBe('EdDSA');
    // Both verify; swapping the alg of the EdDSA token's header to ES256 does not.
    for (const token of [esToken, edToken]) expect((await s.call('introspect', {}, { authorization: `Bearer ${token}` })).status).toBe(200);
    const [h, p, sig] = edToken.split('.') as [string, string, string];
    const swapped = { ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg: 'ES256' };
    const res = await s.call(
      'introspect',
      {},
      { authorization: `Bearer ${Buffer.from(JSON.stringify(swapped)).toString('base64url')}.${p}.${sig}` },
    );
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
  });

  it('`keys list` on an empty folder says so and writes nothing; without a tokens section both actions fail with the pointer', async () => {
    const f = fixture();
    const empty = await cli(keys, ['list', '--config', f.mainFile]);
    expect(empty.code).toBe(0);
    expect(empty.out).toContain('no keys yet');
    expect(() => readdirSync(keysDir(f))).toThrow(/ENOENT/);
    const main = JSON.parse(readFileSync(f.mainFile, 'utf8'));
    delete main.tokens;
    f.writeMain(main);
    for (const action of ['list', 'rotate']) {
      const res = await cli(keys, [action, '--config', f.mainFile]);
      expect(res.code).toBe(1);
      expect(res.out).toContain(': /tokens: ');
    }
    expect(() => readdirSync(keysDir(f))).toThrow(/ENOENT/);
  });

  it('refuses an unknown algorithm in `keys rotate`', async () => {
    const f = fixture();
    let err = '';
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    try {
      expect(await keys.run(['rotate', '--algorithm', 'HS256', '--config', f.mainFile])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(err).toContain('ES256, EdDSA, RS256, PS256');
  });
});

describe.each(['ES256', 'EdDSA', 'RS256', 'PS256'])('algorithm %s', (algorithm) => {
  it('generates its key, signs with it, and verifies independently through the JWKS', async () => {
    const f = fixture({ tokens: { algorithm } });
    const s = await serve(f);
    const token = await mint(s);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: algorithm, typ: 'at+jwt' });
    expect((await jwks(s))[0]?.alg).toBe(algorithm);
    const remote = createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(token, remote, { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: [algorithm] });
    expect(payload.sub).toBe('till-001');
    expect((await s.call('introspect', {}, { authorization: `Bearer ${token}` })).status).toBe(200);
  });
});

describe('bad key files fail the load, naming the file and what is wrong', () => {
  const write = (f: ConfigFixture, name: string, content: unknown, mode = 0o600) => {
    const file = join(keysDir(f), name);
    f.write(join('var', 'keys', name), typeof content === 'string' ? content : JSON.stringify(content));
    chmodSync(file, mode);
    return file;
  };
  const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

  it.each([
    ['an HMAC key', { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', alg: 'HS256' }, '/alg'],
    ['alg none', () => ({ ...ec(), alg: 'none' }), '/alg'],
    ['no alg', () => ec(), '/alg'],
    [
      'a public key only',
      () => {
        const { d: _d, ...pub } = ec();
        return { ...pub, alg: 'ES256' };
      },
      '/d',
    ],
    ['an EC key labelled EdDSA', () => ({ ...ec(), alg: 'EdDSA' }), '/alg'],
    [
      'RSA under 2048 bits',
      () => ({ ...generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' }), alg: 'RS256' }),
      '/alg',
    ],
    ['a kid with path characters', () => ({ ...ec(), alg: 'ES256', kid: '../x' }), '/kid'],
    ['use enc', () => ({ ...ec(), alg: 'ES256', use: 'enc' }), '/use'],
    ['invalid JSON', '{"kty":', '', 'CONFIG_PARSE'],
    ['a broken key', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA', alg: 'ES256' }, ''],
  ])('%s', async (_name, content, pointer, code = 'CONFIG_INVALID') => {
    const f = fixture();
    const file = write(f, 'bad.json', typeof content === 'function' ? content() : content);
    const issues = await loadIssues(f);
    expect(issues).toContainEqual({ file, pointer, code, message: expect.any(String) });
  });

  it('a key file others can read', async () => {
    const f = fixture();
    const file = write(f, 'k.json', { ...ec(), alg: 'ES256' }, 0o644);
    const issues = await loadIssues(f);
    expect(issues).toEqual([{ file, pointer: '', code: 'CONFIG_EXPOSED', message: expect.stringContaining('chmod 600') }]);
  });

  it('two files with one kid', async () => {
    const f = fixture();
    const key = { ...ec(), alg: 'ES256', kid: 'same' };
    write(f, 'a.json', key);
    const second = write(f, 'b.json', key);
    expect(await loadIssues(f)).toEqual([
      { file: second, pointer: '/kid', code: 'CONFIG_INVALID', message: expect.stringContaining('same') },
    ]);
  });

  it('a reload onto a bad key file is refused and the running keys keep serving', async () => {
    const f = fixture();
    const s = await serve(f);
    const token = await mint(s);
    write(f, 'zz-bad.json', { kty: 'oct', k: 'c2VjcmV0', alg: 'HS256' });
    const result = s.app.reload();
    expect(result.ok).toBe(false);
    expect(await jwks(s)).toHaveLength(1);
    expect((await s.call('introspect', {}, { authorization: `Bearer ${token}` })).status).toBe(200);
  });
});

describe('token valve configuration', () => {
  it('refuses a configured claim with a registered name, at its pointer', async () => {
    const f = fixture({
      pipes: { 'bad-claims': { valves: [{ name: 'token-mint', config: { kind: 'system', claims: { sub: 'admin', tenant: 'acme' } } }] } },
    });
    const issues = await loadIssues(f);
    expect(issues).toEqual([
      {
        file: expect.stringMatching(/bad-claims\.json$/),
        pointer: '/valves/0/config/claims/sub',
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('registered claim'),
      },
    ]);
  });

  it('refuses refresh settings on kind system and a refresh_ttl beyond the family lifetime', async () => {
    const f = fixture({
      pipes: {
        a: { valves: [{ name: 'token-mint', config: { kind: 'system', refresh_ttl: 3600 } }] },
        b: { valves: [{ name: 'token-mint', config: { kind: 'user', refresh_ttl: 7200, family_lifetime: 3600 } }] },
      },
    });
    const issues = await loadIssues(f);
    expect(issues.map((i) => `${i.file.replace(/.*\//, '')}${i.pointer}`).sort()).toEqual([
      'a.json/valves/0/config/refresh_ttl',
      'b.json/valves/0/config/refresh_ttl',
    ]);
  });

  it('refuses token valves when the main file has no tokens section, and serves no JWKS', async () => {
    const f = fixture();
    const main = JSON.parse(readFileSync(f.mainFile, 'utf8'));
    delete main.tokens;
    f.writeMain(main);
    const issues = await loadIssues(f);
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue.message).toContain('"tokens" section');

    const plain = fixture({ pipes: {} });
    const plainMain = JSON.parse(readFileSync(plain.mainFile, 'utf8'));
    delete plainMain.tokens;
    plainMain.modules[0].config.tenant = [{ id: 'demo', allowedOperation: ['echo'] }];
    plain.writeMain(plainMain);
    for (const name of readdirSync(join(plain.dir, 'pipes'))) rmSync(join(plain.dir, 'pipes', name));
    plain.writePipe('echo', { valves: [{ name: 'property-set', config: { properties: { a: 'b' } } }], response: ['a'] });
    const s = await serve(plain);
    expect((await fetch(`${s.url}/.well-known/jwks.json`)).status).toBe(404);
  });
});
