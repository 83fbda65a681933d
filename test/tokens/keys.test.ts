import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { keys } from '../../src/cli/keys.js';
import { validate } from '../../src/cli/validate.js';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { thumbprint } from '../../src/tokens/algorithms.js';
import { startServer, type RunningServer } from '../support/server.js';
import type { ConfigFixture } from '../support/fixture.js';
import { AUDIENCE, es256, fixtureKey, ISSUER, tokenFixture } from './support.js';

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
/** The shared folder (keys of an install from before per-tenant keys), or a tenant's own. */
const keysDir = (f: ConfigFixture, tenant?: string) => join(f.dir, 'var', 'keys', ...(tenant ? [tenant] : []));
const keyFiles = (f: ConfigFixture, tenant = 'demo') =>
  readdirSync(keysDir(f, tenant))
    .filter((n) => n.endsWith('.json'))
    .sort();
const kidsOf = (f: ConfigFixture, tenant = 'demo') => keyFiles(f, tenant).map((n) => n.replace('.json', ''));
async function jwks(s: RunningServer, tenant = 'demo'): Promise<{ kid: string; alg: string; kty: string; crv?: string }[]> {
  const res = await fetch(`${s.url}/.well-known/jwks/${tenant}.json`);
  return ((await res.json()) as { keys: { kid: string; alg: string; kty: string }[] }).keys;
}
const esKids = async (s: RunningServer, tenant = 'demo') => (await jwks(s, tenant)).filter((k) => k.alg === 'ES256').map((k) => k.kid);
async function mint(s: RunningServer): Promise<string> {
  const res = await s.call('system-login', { username: 'till-001' });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}
/** Runs a CLI command and returns its exit code and what it printed on stdout and stderr. */
async function cli(command: { run(args: string[]): unknown }, args: string[]): Promise<{ code: unknown; out: string; err: string }> {
  const printed = { out: '', err: '' };
  const capture = (stream: NodeJS.WriteStream, into: 'out' | 'err') =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed[into] += String(chunk);
      return true;
    });
  const spies = [capture(process.stdout, 'out'), capture(process.stderr, 'err')];
  try {
    const code = await command.run(args);
    return { code, ...printed };
  } finally {
    for (const spy of spies) spy.mockRestore();
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
  it('gets an ES256 and an RS256 key per tenant at first start, mode 0600 in 0700 folders, named by their RFC 7638 thumbprints; a reload reuses them', async () => {
    const f = fixture();
    const s = await serve(f);
    const kids: Record<string, string[]> = {};
    for (const tenant of ['demo', 'acme']) {
      const files = keyFiles(f, tenant);
      expect(files).toHaveLength(2);
      expect(statSync(keysDir(f, tenant)).mode & 0o777).toBe(0o700);
      const jwks = files.map((name) => {
        const file = join(keysDir(f, tenant), name);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const jwk = JSON.parse(readFileSync(file, 'utf8'));
        expect(jwk.kid).toBe(thumbprint(jwk));
        expect(name).toBe(`${jwk.kid}.json`);
        return jwk;
      });
      expect(jwks.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
      expect(jwks.find((k) => k.alg === 'ES256')).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig', d: expect.any(String) });
      const rsa = jwks.find((k) => k.alg === 'RS256');
      expect(rsa).toMatchObject({ kty: 'RSA', use: 'sig', d: expect.any(String) });
      expect(Buffer.from(rsa.n, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
      kids[tenant] = files.map((n) => n.replace('.json', ''));
    }
    // No key file is shared: each tenant's JWKS holds its own kids only.
    expect((kids.demo as string[]).filter((k) => kids.acme?.includes(k))).toEqual([]);
    expect(s.app.reload().ok).toBe(true);
    expect(kidsOf(f)).toEqual(kids.demo);
    for (const tenant of ['demo', 'acme']) expect((await jwks(s, tenant)).map((k) => k.kid).sort()).toEqual(kids[tenant]);
    // /.well-known/jwks.json publishes every tenant's keys; an unknown tenant has none.
    const all = (await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(all.keys.map((k) => k.kid).sort()).toEqual([...(kids.demo as string[]), ...(kids.acme as string[])].sort());
    expect((await fetch(`${s.url}/.well-known/jwks/nobody.json`)).status).toBe(404);
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
    const before = { demo: kidsOf(f), acme: kidsOf(f, 'acme') };

    const rotated = await cli(keys, ['rotate', '--config', f.mainFile]);
    expect(rotated.code).toBe(0);
    // One new key per tenant, each in its own folder.
    const newKid = kidsOf(f).find((k) => !before.demo.includes(k)) as string;
    const acmeKid = kidsOf(f, 'acme').find((k) => !before.acme.includes(k)) as string;
    expect(kidsOf(f)).toHaveLength(3);
    expect(kidsOf(f, 'acme')).toHaveLength(3);
    expect(rotated.out).toContain(newKid);
    expect(rotated.out).toContain(acmeKid);
    for (const name of keyFiles(f)) expect(statSync(join(keysDir(f, 'demo'), name)).mode & 0o777).toBe(0o600);

    // Until the reload, the running server signs as before.
    expect(decodeProtectedHeader(await mint(s)).kid).toBe(oldKid);
    expect(s.app.reload().ok).toBe(true);
    expect(await esKids(s)).toEqual([newKid, oldKid]);
    // Published, not yet signing: a relying party with yesterday's JWKS meets no unknown kid.
    expect(decodeProtectedHeader(await mint(s)).kid).toBe(oldKid);
    expect((await cli(keys, ['list', '--config', f.mainFile])).out).toMatch(
      new RegExp(`demo  ${newKid}\\s+ES256\\s+\\S+\\s+published, signs from`),
    );
    // Written moments ago: relying parties may still hold a JWKS without it.
    const early = await cli(keys, ['activate', newKid, '--config', f.mainFile]);
    expect(early.code).toBe(1);
    expect(early.err).toMatch(new RegExp(`${newKid} was written \\d+ s ago; relying parties cache the JWKS for 300 s.*--force`));
    expect(s.app.reload().ok).toBe(true);
    expect(decodeProtectedHeader(await mint(s)).kid).toBe(oldKid);
    expect((await cli(keys, ['activate', newKid, '--force', '--config', f.mainFile])).code).toBe(0);
    expect(s.app.reload().ok).toBe(true);
    const newToken = await mint(s);
    expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
    const listed = await cli(keys, ['list', '--config', f.mainFile]);
    expect(listed.out).toMatch(new RegExp(`demo  ${newKid}\\s+ES256\\s+\\S+\\s+signs`));
    expect(listed.out).toMatch(new RegExp(`demo  ${oldKid}\\s+ES256\\s+\\S+\\s+published`));
    // Activating demo's key leaves acme's waiting.
    expect(listed.out).toMatch(new RegExp(`acme  ${acmeKid}\\s+ES256\\s+\\S+\\s+published, signs from`));
    for (const token of [oldToken, newToken])
      expect((await s.call('introspect', {}, { authorization: `Bearer ${token}` })).status).toBe(200);

    rmSync(join(keysDir(f, 'demo'), `${oldKid}.json`));
    expect(s.app.reload().ok).toBe(true);
    expect(await esKids(s)).toEqual([newKid]);
    const refused = await s.call('introspect', {}, { authorization: `Bearer ${oldToken}` });
    expect(refused.status).toBe(403);
    expect(refused.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    expect((await s.call('introspect', {}, { authorization: `Bearer ${newToken}` })).status).toBe(200);
  });

  it("rotate --tenant --algorithm RS256 rotates one tenant's id_token key only; activate and list work per algorithm", async () => {
    const f = fixture();
    const s = await serve(f);
    const before = { demo: kidsOf(f), acme: kidsOf(f, 'acme') };
    const rsOld = (await jwks(s)).find((k) => k.alg === 'RS256')?.kid as string;
    const esOld = fixtureKey(f).kid;
    expect((await cli(keys, ['rotate', '--tenant', 'demo', '--algorithm', 'RS256', '--config', f.mainFile])).code).toBe(0);
    expect(kidsOf(f, 'acme')).toEqual(before.acme);
    const rsNew = kidsOf(f).find((k) => !before.demo.includes(k)) as string;
    expect(JSON.parse(readFileSync(join(keysDir(f, 'demo'), `${rsNew}.json`), 'utf8'))).toMatchObject({ alg: 'RS256', kty: 'RSA' });
    expect((await cli(keys, ['activate', rsNew, '--force', '--config', f.mainFile])).code).toBe(0);
    expect(s.app.reload().ok).toBe(true);
    const listed = (await cli(keys, ['list', '--tenant', 'demo', '--config', f.mainFile])).out;
    expect(listed).toMatch(new RegExp(`demo  ${rsNew}\\s+RS256\\s+\\S+\\s+signs`));
    expect(listed).toMatch(new RegExp(`demo  ${rsOld}\\s+RS256\\s+\\S+\\s+published`));
    expect(listed).toMatch(new RegExp(`demo  ${esOld}\\s+ES256\\s+\\S+\\s+signs`));
    expect(listed).not.toContain('acme');
    // PUT-minted tokens keep the configured algorithm.
    expect(decodeProtectedHeader(await mint(s))).toMatchObject({ alg: 'ES256', kid: esOld });
    const nobody = await cli(keys, ['rotate', '--tenant', 'nobody', '--config', f.mainFile]);
    expect(nobody.code).toBe(2);
    expect(nobody.err).toContain('--tenant nobody');
  });

  it('a rotated key starts signing by itself when its activation delay ends', async () => {
    const f = fixture();
    const main = JSON.parse(readFileSync(f.mainFile, 'utf8'));
    main.tokens.activation_delay_seconds = 1;
    f.writeMain(main);
    const s = await serve(f);
    const oldKid = fixtureKey(f).kid;
    const before = kidsOf(f);
    expect((await cli(keys, ['rotate', '--config', f.mainFile])).code).toBe(0);
    const newKid = kidsOf(f).find((k) => !before.includes(k)) as string;
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
    // Switching our tokens' algorithm: the configured algorithm signs them, so rotate it in and change tokens.algorithm.
    expect((await cli(keys, ['rotate', '--algorithm', 'EdDSA', '--config', f.mainFile])).code).toBe(0);
    const edKid = (keyFiles(f).find((n) => !before.includes(n)) as string).replace('.json', '');
    expect((await cli(keys, ['activate', edKid, '--force', '--config', f.mainFile])).code).toBe(0);
    expect(s.app.reload().ok).toBe(true);
    expect(decodeProtectedHeader(await mint(s)).alg).toBe('ES256');
    const main = JSON.parse(readFileSync(f.mainFile, 'utf8'));
    main.tokens.algorithm = 'EdDSA';
    f.writeMain(main);
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
    const res = await cli(keys, ['rotate', '--algorithm', 'HS256', '--config', f.mainFile]);
    expect(res.code).toBe(2);
    expect(res.err).toContain('ES256, EdDSA, RS256, PS256');
  });

  it('`keys activate` takes a kid that begins with "-" (a thumbprint may) as the kid, not as an option', async () => {
    const f = fixture();
    const res = await cli(keys, ['activate', '-cNotAKidOfThisFolder', '--config', f.mainFile]);
    expect(res.code).toBe(1);
    expect(res.err).toContain('no key "-cNotAKidOfThisFolder"');
  });
});

describe('per-tenant keys and audiences', () => {
  it("a token signed by acme's key is refused by demo's token-verify, even with demo's issuer, audience and tenant", async () => {
    const f = fixture();
    const s = await serve(f);
    const acme = fixtureKey(f, 'acme');
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: ISSUER, sub: 'till-001', aud: AUDIENCE, iat: now, exp: now + 600, jti: 'j-1', tenant: 'demo' };
    const forged = es256({ alg: 'ES256', typ: 'at+jwt', kid: acme.kid }, claims, acme.key);
    const refused = await s.call('introspect', {}, { authorization: `Bearer ${forged}` });
    expect(refused.status).toBe(403);
    expect(refused.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
    // The same claims under demo's own key pass: only the key differs.
    const demo = fixtureKey(f, 'demo');
    const own = es256({ alg: 'ES256', typ: 'at+jwt', kid: demo.kid }, claims, demo.key);
    expect((await s.call('introspect', {}, { authorization: `Bearer ${own}` })).status).toBe(200);
    // And acme's real token (its own key, its own audience) is refused at demo.
    const acmeToken = (await s.call('system-login', { username: 'till-001' }, { tenant: 'acme' })).body.access_token as string;
    expect(decodeProtectedHeader(acmeToken).kid).toBe(acme.kid);
    expect((await s.call('introspect', {}, { authorization: `Bearer ${acmeToken}`, tenant: 'acme' })).status).toBe(200);
    expect((await s.call('introspect', {}, { authorization: `Bearer ${acmeToken}` })).status).toBe(403);
  });

  it('tokens.audiences gives a tenant its own aud; the others keep tokens.audience', async () => {
    const f = fixture({ tokens: { audiences: { acme: 'https://api.acme.example' } } });
    const s = await serve(f);
    const acmeToken = (await s.call('system-login', { username: 'till-001' }, { tenant: 'acme' })).body.access_token as string;
    const demoToken = await mint(s);
    expect(decodeJwt(acmeToken).aud).toBe('https://api.acme.example');
    expect(decodeJwt(demoToken).aud).toBe(AUDIENCE);
    expect((await s.call('introspect', {}, { authorization: `Bearer ${acmeToken}`, tenant: 'acme' })).status).toBe(200);
    const bad = fixture({ tokens: { audiences: { nobody: 'https://x.example' } } });
    expect(await loadIssues(bad)).toContainEqual({
      file: bad.mainFile,
      pointer: '/tokens/audiences/nobody',
      code: 'CONFIG_REFERENCE',
      message: expect.any(String),
    });
  });

  it("an install with shared keys keeps working: they verify and sign until each tenant's own key activates, then only verify", async () => {
    const f = fixture();
    const main = JSON.parse(readFileSync(f.mainFile, 'utf8'));
    // Long enough for the first token below to be minted before it, on a loaded machine too
    // (at 1 s a CI run beside other jobs saw the tenant's key already active).
    main.tokens.activation_delay_seconds = 3;
    f.writeMain(main);
    // The layout before per-tenant keys: one ES256 key directly in keys_dir, for every tenant.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = privateKey.export({ format: 'jwk' });
    const sharedKid = thumbprint(jwk);
    f.write(join('var', 'keys', `${sharedKid}.json`), JSON.stringify({ ...jwk, kid: sharedKid, alg: 'ES256', use: 'sig' }));
    chmodSync(join(keysDir(f), `${sharedKid}.json`), 0o600);
    const s = await serve(f);
    // Until the tenant's own ES256 key activates, the shared one signs: relying parties know it.
    const before = await mint(s);
    expect(decodeProtectedHeader(before).kid).toBe(sharedKid);
    expect(await esKids(s)).toContain(sharedKid);
    expect(await esKids(s, 'acme')).toContain(sharedKid);
    const demoKid = fixtureKey(f).kid;
    const deadline = Date.now() + 8000;
    let kid = sharedKid;
    while (kid === sharedKid && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      kid = decodeProtectedHeader(await mint(s)).kid as string;
    }
    expect(kid).toBe(demoKid);
    // The shared key's token still verifies until the key file is removed.
    expect((await s.call('introspect', {}, { authorization: `Bearer ${before}` })).status).toBe(200);
    expect((await cli(keys, ['list', '--config', f.mainFile])).out).toContain('shared by every tenant');
    rmSync(join(keysDir(f), `${sharedKid}.json`));
    expect(s.app.reload().ok).toBe(true);
    expect((await s.call('introspect', {}, { authorization: `Bearer ${before}` })).status).toBe(403);
    const demoKids = (await jwks(s)).map((k) => k.kid);
    expect((await jwks(s, 'acme')).filter((k) => demoKids.includes(k.kid))).toEqual([]);
  });
});

describe.each(['ES256', 'EdDSA', 'RS256', 'PS256'])('algorithm %s', (algorithm) => {
  it('generates its key, signs with it, and verifies independently through the JWKS', async () => {
    const f = fixture({ tokens: { algorithm } });
    const s = await serve(f);
    const token = await mint(s);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: algorithm, typ: 'at+jwt' });
    // The configured algorithm's key beside the RS256 and ES256 ones every tenant holds.
    expect((await jwks(s)).map((k) => k.alg).sort()).toEqual([...new Set([algorithm, 'RS256', 'ES256'])].sort());
    const remote = createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks/demo.json`));
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

  it("a key folder that cannot be made (under /proc, where node's recursive mkdir spun for ever)", async () => {
    const f = fixture({ tokens: { keys_dir: '/proc/authpipe-nope/keys' } });
    const issues = await loadIssues(f);
    expect(issues).toContainEqual({
      file: f.mainFile,
      pointer: '/tokens/keys_dir',
      code: 'CONFIG_READ',
      message: expect.stringMatching(/^cannot create the first ES256 signing key in \/proc\/authpipe-nope\/keys\/demo \(ENOENT\)/),
    });
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
    expect(await jwks(s)).toHaveLength(2);
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
