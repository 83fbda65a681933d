import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { b64, es256, highS } from './support.js';
import { createHmac, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import type { AddressInfo } from 'node:net';
import { rawPut, rawRequest } from '../support/raw-http.js';
import { startServer, type RunningServer } from '../support/server.js';
import type { ConfigFixture } from '../support/fixture.js';
import { AUDIENCE, fixtureKey, ISSUER, tokenFixture } from './support.js';

/**
 * Every way a token can be bad is a 403 TOKEN_INVALID, for access tokens (token-verify) and
 * refresh tokens (token-refresh) alike. Each forged case starts from a token our own key
 * signs and that passes, and changes one thing.
 */

let fixture: ConfigFixture;
let server: RunningServer;
let ours: { kid: string; key: KeyObject; file: string };

beforeAll(async () => {
  // Values up to 20000 characters, so a token over 8 KiB reaches the valve through a property too.
  fixture = tokenFixture({ http: { max_value_length: 20000, max_body_bytes: 65536 } });
  server = await startServer({ configFile: fixture.mainFile });
  ours = fixtureKey(fixture);
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const RFC7515_A1 =
  'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC7519_6_1 = 'eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.';

type Forge = (header: Record<string, unknown>, payload: Record<string, unknown>) => string;

const now = Math.floor(Date.now() / 1000);
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const hs256 = (header: object, payload: object, secret: string) => {
  const input = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};
const publicPem = () => createPublicKey(ours.key).export({ format: 'pem', type: 'spki' }) as string;
const publicJwkText = () => JSON.stringify(createPublicKey(ours.key).export({ format: 'jwk' }));

/** Built before the server exists (jest collects it.each first): forgers read `ours` only when run. */
function cases(): [string, Forge][] {
  return [
    ['alg none, empty signature', (h, p) => `${b64({ ...h, alg: 'none' })}.${b64(p)}.`],
    ['alg none, any signature', (h, p) => `${b64({ ...h, alg: 'none' })}.${b64(p)}.c2ln`],
    ['HS256 keyed with our public key (PEM)', (h, p) => hs256(h, p, publicPem())],
    ['HS256 keyed with our public key (JWK)', (h, p) => hs256(h, p, publicJwkText())],
    ['alg not matching the key (PS256 header on our EC key)', (h, p) => es256({ ...h, alg: 'PS256' }, p, ours.key)],
    ['signed by another key under our kid', (h, p) => es256(h, p, attacker.privateKey)],
    ['unknown kid', (h, p) => es256({ ...h, kid: 'not-our-key' }, p, ours.key)],
    ['no kid', (h, p) => es256({ alg: h.alg, typ: h.typ }, p, ours.key)],
    ['kid with path characters', (h, p) => es256({ ...h, kid: '../../../../etc/passwd' }, p, ours.key)],
    ['kid with SQL characters', (h, p) => es256({ ...h, kid: "x' OR '1'='1'; --" }, p, ours.key)],
    ['kid not a string', (h, p) => es256({ ...h, kid: 7 }, p, ours.key)],
    ['jku header', (h, p) => es256({ ...h, jku: 'https://attacker.example/jwks.json' }, p, ours.key)],
    ['x5u header', (h, p) => es256({ ...h, x5u: 'https://attacker.example/cert.pem' }, p, ours.key)],
    [
      'jwk header with the signing key embedded',
      (h, p) => es256({ ...h, jwk: attacker.publicKey.export({ format: 'jwk' }) }, p, attacker.privateKey),
    ],
    ['x5c header', (h, p) => es256({ ...h, x5c: ['MIIB'] }, p, ours.key)],
    ['crit header', (h, p) => es256({ ...h, crit: ['exp'] }, p, ours.key)],
    ['typ JWT', (h, p) => es256({ ...h, typ: 'JWT' }, p, ours.key)],
    ['no typ', (h, p) => es256({ alg: h.alg, kid: h.kid }, p, ours.key)],
    ['wrong aud', (h, p) => es256(h, { ...p, aud: 'https://elsewhere.example' }, ours.key)],
    ['wrong iss', (h, p) => es256(h, { ...p, iss: 'https://attacker.example' }, ours.key)],
    ['expired', (h, p) => es256(h, { ...p, iat: now - 4000, exp: now - 3000 }, ours.key)],
    ['nbf in the future', (h, p) => es256(h, { ...p, nbf: now + 3600 }, ours.key)],
    ['iat in the future', (h, p) => es256(h, { ...p, iat: now + 3600, exp: now + 7200 }, ours.key)],
    ['no exp', (h, p) => es256(h, { ...p, exp: undefined }, ours.key)],
    ['no jti', (h, p) => es256(h, { ...p, jti: undefined }, ours.key)],
    ['no tenant', (h, p) => es256(h, { ...p, tenant: undefined }, ours.key)],
    ['another tenant', (h, p) => es256(h, { ...p, tenant: 'acme' }, ours.key)],
    ['exp as a string', (h, p) => es256(h, { ...p, exp: String(now + 600) }, ours.key)],
    [
      'payload not JSON',
      (h) => {
        const input = `${b64(h)}.${b64('not json')}`;
        return `${input}.${sign('sha256', Buffer.from(input), { key: ours.key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
      },
    ],
    [
      'signature respelled (same bytes, non-canonical last character)',
      (h, p) => {
        const t = es256(h, p, ours.key);
        const last = t.at(-1) as string;
        // 64 bytes end on a character with 4 spare bits; flip the lowest of them.
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        return t.slice(0, -1) + (alphabet[alphabet.indexOf(last) ^ 1] as string);
      },
    ],
    ['signature in its high-S form (valid ECDSA, not canonical)', (h, p) => highS(es256(h, p, ours.key))],
    [
      'signature tampered',
      (h, p) => {
        const t = es256(h, p, ours.key);
        return t.slice(0, -4) + (t.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      },
    ],
    [
      'payload tampered after signing',
      (h, p) => {
        const [a, , c] = es256(h, p, ours.key).split('.');
        return `${a}.${b64({ ...p, sub: 'admin' })}.${c}`;
      },
    ],
    ['two segments', (h, p) => es256(h, p, ours.key).split('.').slice(0, 2).join('.')],
    ['four segments', (h, p) => `${es256(h, p, ours.key)}.${b64('x')}`],
    ['five segments (a JWE shape)', (h, p) => `${es256(h, p, ours.key)}.e30.e30`],
    ['garbage base64', () => 'eyJ!!!.e30%%.@@@'],
    ['base64 of nothing sensible', () => 'abc.def.ghi'],
    ['over 8 KiB', (h, p) => es256(h, { ...p, pad: 'x'.repeat(8200) }, ours.key)],
    ['RFC 7515 A.1 example (HS256, typ JWT, no kid)', () => RFC7515_A1],
    ['RFC 7519 section 6.1 example (unsecured)', () => RFC7519_6_1],
  ];
}

function expectInvalid(res: { status: number; body: any }, property: string): void {
  expect(res.status).toBe(403);
  expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
  expect(res.body.erroneousProperties).toEqual([property]);
}

describe('access tokens (token-verify)', () => {
  const header = () => ({ alg: 'ES256', typ: 'at+jwt', kid: ours.kid });
  const payload = {
    iss: ISSUER,
    sub: 'till-001',
    aud: AUDIENCE,
    iat: now,
    exp: now + 600,
    jti: 'b9b1b0c2-0f1e-4b8e-9c63-5f0c2a7f1e11',
    tenant: 'demo',
  };

  it('the unaltered forged baseline passes, so each case below fails for its one change', async () => {
    const res = await server.call('introspect', {}, { authorization: `Bearer ${es256(header(), payload, ours.key)}` });
    expect(res.status).toBe(200);
    expect(res.body.sub).toBe('till-001');
  });

  it.each(cases())('%s: 403 TOKEN_INVALID from the Authorization header', async (_name, forge) => {
    expectInvalid(await server.call('introspect', {}, { authorization: `Bearer ${forge(header(), payload)}` }), 'authorization');
  });

  it.each(cases())('%s: 403 TOKEN_INVALID from a request property', async (_name, forge) => {
    expectInvalid(await server.call('introspect-property', { token: forge(header(), payload) }), 'token');
  });

  it('a doubled Authorization header is refused', async () => {
    const token = es256(header(), payload, ours.key);
    const { port } = server.server.address() as AddressInfo;
    const res = await rawRequest(
      port,
      rawPut(
        '/api/authentication/introspect',
        ['tenant: demo', 'Content-Type: application/json', `Authorization: Bearer ${token}`, `Authorization: Bearer ${token}`],
        '{}',
      ),
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).errorTranslationKeys).toEqual(['TOKEN_INVALID']);
  });

  it('arbitrary strings and single-character mutations of a valid token are refused, never a 500', async () => {
    const valid = es256(header(), payload, ours.key);
    const mutation = fc.record({
      at: fc.nat({ max: valid.length - 1 }),
      char: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }),
          mutation.map(({ at, char }) => valid.slice(0, at) + char + valid.slice(at + 1)),
        ),
        async (token) => {
          if (token === valid) return;
          const res = await server.call('introspect-property', { token });
          expect(res.status).toBe(403);
          expect(res.body.errorTranslationKeys).toEqual(['TOKEN_INVALID']);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('refresh tokens (token-refresh)', () => {
  let login: { refresh_token: string };
  let claims: Record<string, unknown>;
  const header = () => ({ alg: 'ES256', typ: 'refresh+jwt', kid: ours.kid });

  beforeAll(async () => {
    login = (await server.call('user-login', { username: 'user-1' })).body;
    claims = decodeJwt(login.refresh_token);
  });

  it.each(cases())('%s: 403 TOKEN_INVALID', async (_name, forge) => {
    expectInvalid(await server.call('token-refresh', { refresh_token: forge(header(), { ...claims, aud: ISSUER }) }), 'refresh_token');
  });

  it('the unaltered forged baseline still rotates: no case consumed the family, and each failed for its one change', async () => {
    const res = await server.call('token-refresh', { refresh_token: es256(header(), { ...claims, aud: ISSUER }, ours.key) });
    expect(res.status).toBe(200);
  });

  it('the key file the server generated is never served (sanity of the JWKS)', async () => {
    const jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).text();
    const { d } = JSON.parse(readFileSync(ours.file, 'utf8')) as { d: string };
    expect(jwks).not.toContain(d);
  });
});
