/**
 * Passkeys on the hosted login over real HTTP (the demo's shoppers pool with `passkeys` turned
 * on), with the software authenticator of test/support/webauthn.ts answering: "Add a passkey?"
 * after a password sign-in (offered once per account), then sign-in with it, and every bad
 * answer refused with its code on the page: wrong challenge, origin, rp id, a replayed counter,
 * another account's credential, a challenge not issued to this sign-in, and a post without
 * the CSRF token. The issuer is http://127.0.0.1:<port>, so the rp id is 127.0.0.1.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { SoftAuthenticator, type Tamper } from '../support/webauthn.js';
import {
  CookieJar,
  discover,
  exchangeCode,
  expectCallback,
  expectPage,
  openLogin,
  PASSKEY_PIPES,
  startOidcDemo,
  storeShopper,
  submit,
  type LoginPage,
  type OidcDemo,
} from './support.js';

const REDIRECT = 'http://localhost:3000/callback';

let demo: OidcDemo;
let config: client.Configuration;
beforeAll(async () => {
  demo = await startOidcDemo({
    edit(fixture) {
      const main = fixture.readJson('config/authpipe.json') as any;
      main.oidc.tenants.demo.pools.shoppers.passkeys = { ...PASSKEY_PIPES, acr: 'urn:authpipe:passkey' };
      main.oidc.interactions = { per_address: 1000 };
      // Over PUT too, so a test can enrol a passkey for an account of another pool (ops-admin, staff only).
      main.modules[0].config.tenant
        .find((t: { id: string }) => t.id === 'demo')
        .allowedOperation.push('passkey-enrol-options', 'passkey-enrol');
      fixture.writeMain(main);
    },
  });
  config = await discover(demo.issuer(), 'shop-web');
});
afterAll(() => demo?.close());

const start = (jar: CookieJar) => openLogin(jar, config, REDIRECT, { prompt: 'login' });

/** A form POST to the page's own address (what the page script sends), raw. */
function post(jar: CookieJar, page: LoginPage, fields: Record<string, string>, csrf = page.csrf as string) {
  return jar.fetch(new URL(page.action as string, page.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...(csrf === '' ? {} : { csrf }), ...fields }).toString(),
  });
}

async function optionsOf(jar: CookieJar, page: LoginPage, fields: Record<string, string>) {
  const res = await post(jar, page, fields);
  expect(res.status).toBe(200);
  return (await res.json()) as { challenge_id: string; options: { challenge: string; rpId?: string; rp?: { id: string } } };
}

const tokensOf = (started: Awaited<ReturnType<typeof start>>, callback: string) => exchangeCode(config, callback, started.request);

const origin = () => new URL(demo.base).origin;
const keys = new Map<string, SoftAuthenticator>();

it('offers a passkey after bob signs in with his password; the enrolled credential is stored with its counter and transports', async () => {
  const jar = new CookieJar();
  const started = await start(jar);
  expect(started.page.html).toContain('autocomplete="username webauthn"');
  expect(started.page.html).toMatch(/<script src="\/oidc\/demo\/assets\/webauthn\.js\?v=[\w-]+" defer><\/script>/);
  const offer = expectPage(await submit(jar, started.page, { username: 'bob', password: 'bob-pass-1' }, REDIRECT));
  expect(offer.html).toContain('data-code="passkey.offer_text"');
  expect(offer.html).toContain('data-mode="enrol"');
  const { challenge_id, options } = await optionsOf(jar, offer, { passkey: 'enrol_options' });
  expect(options.rp?.id).toBe('127.0.0.1');
  const key = new SoftAuthenticator('127.0.0.1', origin());
  const callback = expectCallback(
    await submit(jar, offer, { passkey: 'enrol', passkey_challenge_id: challenge_id, passkey_response: key.register(options) }, REDIRECT),
  );
  const tokens = await tokensOf(started, callback);
  expect(tokens.claims()?.sub).toBe('u-1002');
  expect(tokens.claims()?.amr).toEqual(['pwd']);
  keys.set('bob', key);
  const stored = JSON.parse((await demo.server.app.holder.current.services.store.get(`authpipe:{demo}:passkey:cred:${key.id}`)) ?? 'null');
  expect(stored).toMatchObject({ u: 'u-1002', c: 0, t: ['internal'] });
});

it('does not offer it again, to bob who has one nor to alice who skipped it once', async () => {
  let jar = new CookieJar();
  let started = await start(jar);
  expectCallback(await submit(jar, started.page, { username: 'bob', password: 'bob-pass-1' }, REDIRECT));
  jar = new CookieJar();
  started = await start(jar);
  const offer = expectPage(await submit(jar, started.page, { username: 'alice', password: 'alice-pass-1' }, REDIRECT));
  expect(offer.html).toContain('data-mode="enrol"');
  const skipped = expectCallback(await submit(jar, offer, {}, REDIRECT));
  expect((await tokensOf(started, skipped)).claims()?.sub).toBe('u-1001');
  started = await start(jar);
  expectCallback(await submit(jar, started.page, { username: 'alice', password: 'alice-pass-1' }, REDIRECT));
});

it('signs bob in with the passkey, username first and usernameless, with amr swk and the pool acr', async () => {
  const key = keys.get('bob') as SoftAuthenticator;
  for (const username of ['bob', '']) {
    const jar = new CookieJar();
    const started = await start(jar);
    const { challenge_id, options } = await optionsOf(jar, started.page, { passkey: 'options', username });
    expect(options.rpId).toBe('127.0.0.1');
    const answer = key.authenticate(options, 'u-1002');
    const callback = expectCallback(
      await submit(jar, started.page, { passkey: 'sign_in', passkey_challenge_id: challenge_id, passkey_response: answer }, REDIRECT),
    );
    const claims = (await tokensOf(started, callback)).claims();
    expect(claims?.sub).toBe('u-1002');
    expect(claims?.amr).toEqual(['swk']);
    expect(claims?.acr).toBe('urn:authpipe:passkey');
  }
});

async function refused(fields: (page: LoginPage, jar: CookieJar) => Promise<Record<string, string>>): Promise<LoginPage> {
  const jar = new CookieJar();
  const started = await start(jar);
  const page = expectPage(await submit(jar, started.page, await fields(started.page, jar), REDIRECT));
  expect(page.status).toBe(403);
  // The sign-in page again, passkeys still offered.
  expect(page.html).toContain('autocomplete="username webauthn"');
  return page;
}

const alertOf = (page: LoginPage) => /role="alert"[^>]*data-code="([^"]+)"/.exec(page.html)?.[1];

it.each<[string, Tamper, string]>([
  ['a wrong challenge', { challenge: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 'PASSKEY_CHALLENGE_INVALID'],
  ['a wrong origin', { origin: 'http://evil.example' }, 'PASSKEY_ORIGIN_INVALID'],
  ['a wrong rp id', { rpId: 'evil.example' }, 'PASSKEY_RP_ID_INVALID'],
  ['a replayed counter', { counter: 1 }, 'PASSKEY_REPLAYED'],
])('refuses %s', async (_what, tamper, code) => {
  const key = keys.get('bob') as SoftAuthenticator;
  const page = await refused(async (first, jar) => {
    const { challenge_id, options } = await optionsOf(jar, first, { passkey: 'options', username: 'bob' });
    return { passkey: 'sign_in', passkey_challenge_id: challenge_id, passkey_response: key.authenticate(options, 'u-1002', tamper) };
  });
  expect(alertOf(page)).toBe(code);
});

it("refuses bob's credential for a sign-in that named alice", async () => {
  const key = keys.get('bob') as SoftAuthenticator;
  const page = await refused(async (first, jar) => {
    const { challenge_id, options } = await optionsOf(jar, first, { passkey: 'options', username: 'alice' });
    return { passkey: 'sign_in', passkey_challenge_id: challenge_id, passkey_response: key.authenticate(options, 'u-1002') };
  });
  expect(alertOf(page)).toBe('PASSKEY_CREDENTIAL_UNKNOWN');
});

it('refuses a challenge issued to another sign-in, and the same challenge twice', async () => {
  const key = keys.get('bob') as SoftAuthenticator;
  const other = new CookieJar();
  const elsewhere = await optionsOf(other, (await start(other)).page, { passkey: 'options', username: 'bob' });
  const page = await refused(async () => ({
    passkey: 'sign_in',
    passkey_challenge_id: elsewhere.challenge_id,
    passkey_response: key.authenticate(elsewhere.options, 'u-1002'),
  }));
  expect(alertOf(page)).toBe('PASSKEY_CHALLENGE_INVALID');

  const jar = new CookieJar();
  const started = await start(jar);
  const { challenge_id, options } = await optionsOf(jar, started.page, { passkey: 'options', username: 'bob' });
  const wrong = expectPage(
    await submit(
      jar,
      started.page,
      {
        passkey: 'sign_in',
        passkey_challenge_id: challenge_id,
        passkey_response: key.authenticate(options, 'u-1002', { origin: 'http://x' }),
      },
      REDIRECT,
    ),
  );
  expect(alertOf(wrong)).toBe('PASSKEY_ORIGIN_INVALID');
  const again = expectPage(
    await submit(
      jar,
      started.page,
      { passkey: 'sign_in', passkey_challenge_id: challenge_id, passkey_response: key.authenticate(options, 'u-1002') },
      REDIRECT,
    ),
  );
  expect(alertOf(again)).toBe('PASSKEY_CHALLENGE_INVALID');
});

it('refuses passkey posts without the CSRF token, and bounds the options one sign-in may fetch', async () => {
  const jar = new CookieJar();
  const { page } = await start(jar);
  const res = await post(jar, page, { passkey: 'options', username: 'bob' }, '');
  expect(res.status).toBe(403);
  expect(await res.text()).toContain('data-code="csrf"');
  let last = 0;
  for (let i = 0; i < 21; i += 1) last = (await post(jar, page, { passkey: 'options', username: '' })).status;
  expect(last).toBe(429);
});

const STRONG = 'violet-Harbour-93-kettle';

/** An active self-service account of the shoppers pool, as sign-up leaves one, with password STRONG. */
const storeAccount = (username: string) => storeShopper(demo, username, STRONG);

it('offers and signs in with a passkey of a self-service account (in the store) too', async () => {
  const dave = await storeAccount('dave');
  let jar = new CookieJar();
  let started = await start(jar);
  const offer = expectPage(await submit(jar, started.page, { username: 'dave', password: STRONG }, REDIRECT));
  const created = await optionsOf(jar, offer, { passkey: 'enrol_options' });
  const key = new SoftAuthenticator('127.0.0.1', origin());
  expectCallback(
    await submit(
      jar,
      offer,
      { passkey: 'enrol', passkey_challenge_id: created.challenge_id, passkey_response: key.register(created.options) },
      REDIRECT,
    ),
  );
  jar = new CookieJar();
  started = await start(jar);
  const { challenge_id, options } = await optionsOf(jar, started.page, { passkey: 'options', username: '' });
  const callback = expectCallback(
    await submit(
      jar,
      started.page,
      { passkey: 'sign_in', passkey_challenge_id: challenge_id, passkey_response: key.authenticate(options, dave.id) },
      REDIRECT,
    ),
  );
  expect((await tokensOf(started, callback)).claims()?.sub).toBe(dave.id);
});

it('refuses an enrolment answer from another origin, and an offer page post without the CSRF token; the offer stays open', async () => {
  await storeAccount('erin');
  const jar = new CookieJar();
  const started = await start(jar);
  const offer = expectPage(await submit(jar, started.page, { username: 'erin', password: STRONG }, REDIRECT));
  expect(offer.html).toContain('data-mode="enrol"');
  const { challenge_id, options } = await optionsOf(jar, offer, { passkey: 'enrol_options' });
  const key = new SoftAuthenticator('127.0.0.1', 'http://evil.example');
  const refusedEnrol = expectPage(
    await submit(jar, offer, { passkey: 'enrol', passkey_challenge_id: challenge_id, passkey_response: key.register(options) }, REDIRECT),
  );
  expect(refusedEnrol.status).toBe(403);
  expect(alertOf(refusedEnrol)).toBe('PASSKEY_ORIGIN_INVALID');
  const forged = await post(jar, offer, { passkey: 'skip' }, '');
  expect(forged.status).toBe(403);
  expect(await forged.text()).toContain('data-code="csrf"');
  expectCallback(await submit(jar, offer, {}, REDIRECT));
});

it('refuses a passkey of an account outside the pool like a wrong password (ops-admin is staff only)', async () => {
  const created = await demo.server.call('passkey-enrol-options', { login_sub: 'u-ops' });
  expect(created.status).toBe(200);
  const answer = created.body as { passkey_challenge_id: string; passkey_options: string };
  const key = new SoftAuthenticator('127.0.0.1', origin());
  const enrolled = await demo.server.call('passkey-enrol', {
    login_sub: 'u-ops',
    passkey_challenge_id: answer.passkey_challenge_id,
    passkey_response: key.register(JSON.parse(answer.passkey_options)),
  });
  expect(enrolled.status).toBe(200);
  const page = await refused(async (first, jar) => {
    const { challenge_id, options } = await optionsOf(jar, first, { passkey: 'options', username: '' });
    return { passkey: 'sign_in', passkey_challenge_id: challenge_id, passkey_response: key.authenticate(options, 'u-ops') };
  });
  expect(alertOf(page)).toBe('INVALID_CREDENTIALS');
});

it('answers an unknown passkey action with the page and INVALID_REQUEST', async () => {
  const jar = new CookieJar();
  const started = await start(jar);
  const bad = await post(jar, started.page, { passkey: 'nonsense' });
  expect(bad.status).toBe(400);
  expect(alertOf({ html: await bad.text() } as LoginPage)).toBe('INVALID_REQUEST');
});
