/**
 * Sign-in through a SAML 2.0 identity provider (saml.ts, federated-account). A real
 * SimpleSAMLphp (php -S, its own keys and test user) for the happy paths: Chromium signs a
 * shopper in to shop-web by the HTTP-Redirect binding, and plain HTTP does it again by the
 * HTTP-POST binding (the same account). A "forged" identity provider whose key the test holds
 * for what a correct one never sends: each bad assertion is posted to our ACS and refused
 * with a coded page, never a 500.
 */
import { afterAll, beforeAll, expect, it, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import * as client from 'openid-client';
import { signSamlPost } from '@node-saml/node-saml/lib/saml-post-signing.js';
import { launchChromium } from '../support/chromium.js';
import {
  describeWithSimpleSamlPhp,
  makeKeyPair,
  startSimpleSamlPhp,
  type SimpleSamlPhp,
  type TestKeyPair,
} from '../support/simplesamlphp.js';
import {
  authorizationRequest,
  CookieJar,
  discover,
  expectCallback,
  expectPage,
  follow,
  parsePage,
  startOidcDemo,
  submit,
  type LoginPage,
  type OidcDemo,
} from './support.js';

const SHOP = 'http://localhost:3000/callback';
const REDIRECT = 'http://localhost:3005/callback';
const FORGED_SSO = 'http://127.0.0.1:9/forged-sso';
const FORGED_ENTITY = 'urn:test:forged-idp';
const SHOPPER = { password: 'shopper-pass-1', attributes: { email: 'saml-shopper@example.com', name: 'Sam L. Shopper' } };

describeWithSimpleSamlPhp('SAML identity providers', () => {
  let keys: string;
  let sp: TestKeyPair;
  let forged: TestKeyPair;
  let stranger: TestKeyPair;
  let ssp: SimpleSamlPhp;
  let demo: OidcDemo;
  const spEntity = (idp: string) => `${demo.issuer()}/federation/${idp}/metadata`;
  const acsOf = (idp: string) => `${demo.issuer()}/federation/${idp}/acs`;

  beforeAll(async () => {
    keys = mkdtempSync(join(tmpdir(), 'authpipe-saml-keys-'));
    sp = makeKeyPair(keys, 'sp');
    forged = makeKeyPair(keys, 'forged-idp');
    stranger = makeKeyPair(keys, 'stranger');
    ssp = await startSimpleSamlPhp({ users: { shopper: SHOPPER } });
    demo = await startOidcDemo({
      edit(fixture) {
        mkdirSync(join(fixture.dir, 'config', 'saml'));
        for (const [from, to] of [
          [sp.keyFile, 'sp.key'],
          [sp.certFile, 'sp.crt'],
          [ssp.certFile, 'ssp.crt'],
          [forged.certFile, 'forged.crt'],
        ] as const)
          copyFileSync(from, join(fixture.dir, 'config', 'saml', to));
        const main = fixture.readJson('config/authpipe.json') as Record<string, any>;
        const ours = { sp_key: '${file:saml/sp.key}', sp_cert: '${file:saml/sp.crt}' };
        const real = { entity_id: ssp.entityId, sso_url: ssp.ssoUrl, idp_cert: '${file:saml/ssp.crt}', email_verified: true, ...ours };
        const fake = { entity_id: FORGED_ENTITY, sso_url: FORGED_SSO, idp_cert: '${file:saml/forged.crt}', ...ours };
        main.oidc.tenants.demo.saml_upstreams = {
          ssp: { display_name: 'SimpleSAMLphp', ...real },
          'ssp-post': { ...real, binding: 'HTTP-POST' },
          forged: fake,
          'forged-b': fake,
        };
        const pool = (idp: string) => ({ steps: [{ operation: 'login-upstream', upstream: idp }] });
        Object.assign(main.oidc.tenants.demo.pools, {
          // The shoppers' SAML button beside their password form, where the demo has its OpenID upstream.
          shoppers: {
            ...main.oidc.tenants.demo.pools.shoppers,
            steps: [
              {
                ...main.oidc.tenants.demo.pools.shoppers.steps[0],
                upstream_alternatives: [{ upstream: 'ssp', operation: 'login-upstream' }],
              },
              ...main.oidc.tenants.demo.pools.shoppers.steps.slice(1),
            ],
          },
          'saml-post': pool('ssp-post'),
          'saml-forged': pool('forged'),
        });
        fixture.writeMain(main);
        fixture.writePipe('login-upstream', {
          id: 'login-upstream',
          valves: [{ name: 'federated-account', config: { create: true } }],
          response: ['sub'],
        });
        const directory = fixture.readJson('config/directory.json') as { tenants: { demo: { clients: unknown[] } } };
        for (const [id, pool] of [
          ['saml-post-web', 'saml-post'],
          ['saml-forged-web', 'saml-forged'],
        ])
          directory.tenants.demo.clients.push({ client_id: id, type: 'userapp', pool, redirect_uris: [REDIRECT] });
        fixture.write('config/directory.json', directory);
      },
    });
    ssp.trust([
      { entityId: spEntity('ssp'), acs: acsOf('ssp'), cert: sp.cert },
      { entityId: spEntity('ssp-post'), acs: acsOf('ssp-post'), cert: sp.cert },
    ]);
  }, 60_000);

  afterAll(async () => {
    await demo?.close();
    await ssp?.stop();
    if (keys) rmSync(keys, { recursive: true, force: true });
  });

  /** Starts a sign-in of `clientId` (redirect URI `redirect`) and answers its first page: the button. */
  async function buttonPage(clientId: string, redirect = REDIRECT) {
    const config = await discover(demo.issuer(), clientId);
    const request = await authorizationRequest(config, redirect);
    const jar = new CookieJar();
    const page = expectPage(await follow(jar, request.url, redirect));
    return { config, request, jar, page };
  }

  async function tokensOf(started: Awaited<ReturnType<typeof buttonPage>>, callback: string) {
    return client.authorizationCodeGrant(started.config, new URL(callback), {
      pkceCodeVerifier: started.request.verifier,
      expectedState: started.request.state,
      expectedNonce: started.request.nonce,
    });
  }

  const hidden = (html: string, name: string) =>
    new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]?.replace(/&#x?[0-9a-f]+;|&\w+;/gi, (e) => decodeEntity(e));

  test('our SP metadata is served at a stable URL: entity, signed requests, signed assertions, ACS, our certificate', async () => {
    const res = await fetch(spEntity('ssp'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/samlmetadata+xml');
    const xml = await res.text();
    expect(xml).toContain(`entityID="${spEntity('ssp')}"`);
    expect(xml).toContain('AuthnRequestsSigned="true"');
    expect(xml).toContain('WantAssertionsSigned="true"');
    expect(xml).toContain(`Location="${acsOf('ssp')}"`);
    expect(xml.replace(/\s/g, '')).toContain(sp.cert.replace(/-----[^-]+-----|\s/g, ''));
    expect((await fetch(`${demo.issuer()}/federation/nobody/metadata`)).status).toBe(404);
  });

  it('signs a shopper in to shop-web through SimpleSAMLphp in Chromium (HTTP-Redirect, the button beside the password), with a just-in-time account', async () => {
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext()).newPage();
      const callbacks: string[] = [];
      page.on('request', (r) => {
        if (r.url().startsWith(`${SHOP}?`)) callbacks.push(r.url());
      });
      const config = await discover(demo.issuer(), 'shop-web');
      const request = await authorizationRequest(config, SHOP);
      await page.goto(request.url);
      await page.locator('input[name="password"]').waitFor();
      await page.getByRole('button', { name: 'Sign in with SimpleSAMLphp' }).click();
      await page.waitForURL((url) => url.href.startsWith(ssp.baseUrl));
      await page.locator('input[name="username"]').fill('shopper');
      await page.locator('input[name="password"]').fill(SHOPPER.password);
      await Promise.all([
        page
          .waitForRequest((r) => r.url().startsWith(`${SHOP}?`), { timeout: 15_000 })
          .catch((err: unknown) => {
            throw new Error(`no callback; the browser is at ${page.url()}; SimpleSAMLphp said: ${ssp.output().slice(-2000)}`, {
              cause: err,
            });
          }),
        page.locator('button, input[type="submit"]').first().click(),
      ]);
      const tokens = await client.authorizationCodeGrant(config, new URL(callbacks[0] as string), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
      const claims = tokens.claims();
      expect(claims?.sub).toMatch(/^fed-/);
      const info = await client.fetchUserInfo(config, tokens.access_token, claims?.sub as string);
      expect(info.email).toBe(SHOPPER.attributes.email);
    } finally {
      await browser.close();
    }
  }, 60_000);

  test('the same shopper signs in again by the HTTP-POST binding, with plain HTTP: a signed AuthnRequest posted, the account reused', async () => {
    const first = await signInByPost();
    const second = await signInByPost();
    expect(first).toMatch(/^fed-/);
    expect(second).toBe(first);
  });

  async function signInByPost(): Promise<string> {
    const started = await buttonPage('saml-post-web');
    expect(started.page.html).toContain('Sign in with ssp-post');
    // Our page: a form to the IdP holding the signed request, no script.
    const posted = expectPage(await submit(started.jar, started.page, {}, REDIRECT));
    expect(posted.status).toBe(200);
    expect(posted.html).not.toContain('<script');
    expect(posted.action).toBe(ssp.ssoUrl);
    const request = Buffer.from(hidden(posted.html, 'SAMLRequest') as string, 'base64').toString('utf8');
    expect(request).toContain('<SignatureValue>');
    expect(request).toContain('xmlenc#sha256');
    const relay = hidden(posted.html, 'RelayState') as string;
    const idp = new CookieJar();
    let res = await idp.fetch(ssp.ssoUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLRequest: hidden(posted.html, 'SAMLRequest') as string, RelayState: relay }).toString(),
    });
    let url = ssp.ssoUrl;
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 5; hops++) {
      url = new URL(res.headers.get('location') as string, url).href;
      res = await idp.fetch(url);
    }
    const login = await res.text();
    expect(login).toContain('name="password"');
    const authState = hidden(login, 'AuthState') as string;
    res = await idp.fetch(url.split('?')[0] as string, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'shopper', password: SHOPPER.password, AuthState: authState }).toString(),
    });
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 5; hops++) {
      url = new URL(res.headers.get('location') as string, url).href;
      res = await idp.fetch(url);
    }
    const answer = await res.text();
    const samlResponse = hidden(answer, 'SAMLResponse');
    expect(samlResponse).toBeDefined();
    expect(hidden(answer, 'RelayState')).toBe(relay);
    const back = expectCallback(await postAcs(started.jar, 'ssp-post', samlResponse as string, relay));
    return (await tokensOf(started, back)).claims()?.sub as string;
  }

  function postAcs(jar: CookieJar, idp: string, samlResponse: string, relay: string) {
    return follow(jar, acsOf(idp), REDIRECT, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: relay }).toString(),
    });
  }

  /** A sign-in at the forged IdP under way: the request ID and RelayState our SP sent. */
  async function forgedFlow() {
    const started = await buttonPage('saml-forged-web');
    const toIdp = new URL(expectCallback(await submit(started.jar, started.page, {}, FORGED_SSO)));
    expect(toIdp.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(toIdp.searchParams.get('Signature')).toBeTruthy();
    const request = inflateRawSync(Buffer.from(toIdp.searchParams.get('SAMLRequest') as string, 'base64')).toString('utf8');
    const requestId = /ID="([^"]+)"/.exec(request)?.[1] as string;
    return { ...started, requestId, relay: toIdp.searchParams.get('RelayState') as string };
  }

  interface Assertion {
    requestId: string;
    id?: string;
    issuer?: string;
    audience?: string;
    recipient?: string;
    nameId?: string;
    notOnOrAfter?: Date;
    issued?: Date;
    key?: TestKeyPair | null;
    /** A second, unsigned assertion before the signed one (signature wrapping). */
    wrap?: boolean;
    /** The signed assertion hidden in samlp:Extensions, an unsigned one in its place (signature wrapping). */
    hide?: boolean;
  }

  function assertionXml(a: Assertion, signed: boolean): string {
    const now = a.issued ?? new Date();
    const until = (a.notOnOrAfter ?? new Date(Date.now() + 300_000)).toISOString();
    const xml =
      `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${signed ? (a.id ?? `_a${randomBytes(12).toString('hex')}`) : '_evil'}" Version="2.0" IssueInstant="${now.toISOString()}">` +
      `<saml:Issuer>${a.issuer ?? FORGED_ENTITY}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${signed ? (a.nameId ?? 'forged-user') : 'admin'}</saml:NameID>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${until}" Recipient="${a.recipient ?? acsOf('forged')}" InResponseTo="${a.requestId}"/></saml:SubjectConfirmation></saml:Subject>` +
      `<saml:Conditions NotBefore="${new Date(now.getTime() - 1000).toISOString()}" NotOnOrAfter="${until}"><saml:AudienceRestriction><saml:Audience>${a.audience ?? spEntity('forged')}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
      `<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>forged@example.com</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>` +
      `</saml:Assertion>`;
    return xml;
  }

  function forgedResponse(a: Assertion): string {
    const head =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomBytes(12).toString('hex')}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${a.recipient ?? acsOf('forged')}" InResponseTo="${a.requestId}">` +
      `<saml:Issuer>${a.issuer ?? FORGED_ENTITY}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`;
    let xml = `${head}${a.wrap ? assertionXml(a, false) : ''}${assertionXml(a, true)}</samlp:Response>`;
    const key = a.key === undefined ? forged : a.key;
    if (key)
      xml = signSamlPost(xml, `/*[local-name(.)='Response']/*[local-name(.)='Assertion' and @ID!='_evil']`, {
        privateKey: key.key,
        signatureAlgorithm: 'sha256',
      });
    if (a.hide) {
      const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)?.[0] as string;
      xml = xml.replace(signed, `<samlp:Extensions>${signed}</samlp:Extensions>${assertionXml(a, false)}`);
    }
    return Buffer.from(xml, 'utf8').toString('base64');
  }

  async function refused(flow: Awaited<ReturnType<typeof forgedFlow>>, samlResponse: string): Promise<LoginPage> {
    const shown = expectPage(await postAcs(flow.jar, 'forged', samlResponse, flow.relay));
    expect(shown.status).toBe(403);
    expect(shown.errorCode).toBe('UPSTREAM_REFUSED');
    return shown;
  }

  test('a well-formed assertion of the forged IdP signs in (so what the tests below change is what refuses)', async () => {
    const flow = await forgedFlow();
    const back = expectCallback(await postAcs(flow.jar, 'forged', forgedResponse({ requestId: flow.requestId }), flow.relay));
    expect((await tokensOf(flow, back)).claims()?.sub).toMatch(/^fed-/);
  });

  test.each<[string, (requestId: string) => Assertion]>([
    ['unsigned', (requestId) => ({ requestId, key: null })],
    ['signed with a key that is not the IdP certificate', (requestId) => ({ requestId, key: stranger })],
    ['wrapped: a second, unsigned assertion beside the signed one', (requestId) => ({ requestId, wrap: true })],
    ['wrapped: the signed assertion hidden in Extensions, an unsigned one in its place', (requestId) => ({ requestId, hide: true })],
    ['for another audience', (requestId) => ({ requestId, audience: 'urn:test:someone-else' })],
    ['for another recipient', (requestId) => ({ requestId, recipient: `${demo.base}/elsewhere/acs` })],
    [
      'for another SP of ours (audience and recipient of forged-b)',
      (requestId) => ({ requestId, audience: spEntity('forged-b'), recipient: acsOf('forged-b') }),
    ],
    ['expired', (requestId) => ({ requestId, issued: new Date(Date.now() - 3600_000), notOnOrAfter: new Date(Date.now() - 600_000) })],
    ['in response to another request', () => ({ requestId: '_not-this-flows-request' })],
    ['from another issuer', (requestId) => ({ requestId, issuer: 'urn:test:other-idp' })],
  ])('an assertion that is %s is refused with UPSTREAM_REFUSED', async (_what, make) => {
    const flow = await forgedFlow();
    await refused(flow, forgedResponse(make(flow.requestId)));
  });

  test('a replayed assertion (its ID seen before) is refused, even in a new flow', async () => {
    const id = `_a${randomBytes(12).toString('hex')}`;
    const first = await forgedFlow();
    expectCallback(await postAcs(first.jar, 'forged', forgedResponse({ requestId: first.requestId, id }), first.relay));
    const second = await forgedFlow();
    await refused(second, forgedResponse({ requestId: second.requestId, id }));
  });

  test('garbage, an unknown or used RelayState and a GET get coded answers, never a 500', async () => {
    const flow = await forgedFlow();
    await refused(flow, Buffer.from('<not-saml/>').toString('base64'));
    // The flow's RelayState is used up now.
    const again = await postAcs(flow.jar, 'forged', forgedResponse({ requestId: flow.requestId }), flow.relay);
    expect(expectPage(again).status).toBe(400);
    expect(expectPage(again).errorCode).toBe('INVALID_REQUEST');
    const unknown = expectPage(await postAcs(new CookieJar(), 'forged', forgedResponse({ requestId: '_x' }), 'no-such-relay'));
    expect([unknown.status, unknown.errorCode]).toEqual([400, 'INVALID_REQUEST']);
    const get = await fetch(acsOf('forged'));
    expect(get.status).toBe(400);
    expect(parsePage(acsOf('forged'), 400, await get.text()).errorCode).toBe('INVALID_REQUEST');
  });
});

function decodeEntity(entity: string): string {
  const named: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };
  if (named[entity]) return named[entity];
  const hex = /^&#x([0-9a-f]+);$/i.exec(entity);
  if (hex) return String.fromCodePoint(parseInt(hex[1] as string, 16));
  const dec = /^&#(\d+);$/.exec(entity);
  return dec ? String.fromCodePoint(Number(dec[1])) : entity;
}
