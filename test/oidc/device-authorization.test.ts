/**
 * The device authorization grant (RFC 8628) for in-store displays: the display (openid-client,
 * oauth4webapi) asks for a code and polls; a person enters the code on the hosted login in
 * Chromium and signs in with the display's pool. Each wrong turn gets the RFC's code: polling
 * too fast `slow_down`, a cancelled sign-in `access_denied`, an expired code `expired_token`,
 * an app that did not opt in `unauthorized_client`; the user-code page says what was wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithChromium, launchChromium } from '../support/chromium.js';
import { MemoryStore } from '../../src/store/memory.js';
import { prefixedStore, tenantPrefix } from '../../src/store/store.js';
import { CookieJar, discover, editClients, parsePage, startOidcDemo, type OidcDemo } from './support.js';

const DISPLAY = { client_id: 'till-display' } satisfies oauth.Client;
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let demo: OidcDemo;
let store: MemoryStore;
let as: oauth.AuthorizationServer;
beforeAll(async () => {
  store = new MemoryStore();
  demo = await startOidcDemo({
    store,
    edit: (fixture) =>
      editClients(fixture, {
        'till-display': {
          type: 'userapp',
          pool: 'shoppers',
          redirect_uris: ['http://localhost:3007/callback'],
          device_authorization: true,
        },
      }),
  });
  const issuer = new URL(demo.issuer());
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
});
afterAll(async () => {
  await demo?.close();
  await store?.close();
});

async function startDevice(clientId = DISPLAY.client_id) {
  const res = await oauth.deviceAuthorizationRequest(as, { client_id: clientId }, oauth.None(), { scope: 'openid profile' }, insecure);
  return res;
}

function poll(deviceCode: string) {
  return fetch(`${demo.issuer()}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: deviceCode,
      client_id: 'till-display',
    }),
  });
}

/** A person at /device with a cookie jar: enters the code; answers the page it leads to. */
async function enterCode(jar: CookieJar, userCode: string) {
  const first = await jar.fetch(`${demo.issuer()}/device`);
  const html = await first.text();
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] as string;
  const res = await jar.fetch(`${demo.issuer()}/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ xsrf, user_code: userCode }).toString(),
  });
  return parsePage(`${demo.issuer()}/device`, res.status, await res.text());
}

describe('device authorization', () => {
  it('is advertised, with the endpoint and the grant type', () => {
    expect(as.device_authorization_endpoint).toBe(`${demo.issuer()}/device/auth`);
    expect(as.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:device_code');
  });

  it('answers a code, where to enter it, and the polling interval', async () => {
    const answer = await oauth.processDeviceAuthorizationResponse(as, DISPLAY, await startDevice());
    expect(answer.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(answer.verification_uri).toBe(`${demo.issuer()}/device`);
    expect(answer.interval).toBe(5);
    expect(answer.expires_in).toBe(600);
  });

  it('refuses an app that did not opt in (unauthorized_client)', async () => {
    const res = await startDevice('shop-web');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'unauthorized_client' });
  });

  it('answers slow_down to a display polling faster than the interval', async () => {
    const { device_code } = await oauth.processDeviceAuthorizationResponse(as, DISPLAY, await startDevice());
    const first = await poll(device_code);
    expect(first.status).toBe(400);
    expect(await first.json()).toMatchObject({ error: 'authorization_pending' });
    const second = await poll(device_code);
    expect(second.status).toBe(400);
    expect(await second.json()).toMatchObject({ error: 'slow_down' });
  });

  it('answers access_denied once the person cancels on the confirmation page', async () => {
    const { device_code, user_code } = await oauth.processDeviceAuthorizationResponse(as, DISPLAY, await startDevice());
    const jar = new CookieJar();
    const confirm = await enterCode(jar, user_code);
    expect(confirm.html).toContain(`data-code="user_code">${user_code}</p>`);
    expect(confirm.html).toContain('till-display');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)?.[1] as string;
    const cancelled = await jar.fetch(`${demo.issuer()}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, user_code, abort: 'yes' }).toString(),
    });
    expect(parsePage('', cancelled.status, await cancelled.text()).errorCode).toBe('AbortedError');
    const res = await poll(device_code);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'access_denied' });
  });

  it('answers expired_token for a code past its lifetime, and the page says it expired', async () => {
    const { device_code, user_code } = await oauth.processDeviceAuthorizationResponse(as, DISPLAY, await startDevice());
    // Age the stored code instead of waiting ten minutes.
    const tenantStore = prefixedStore(store, tenantPrefix('demo'));
    const key = `oidc:DeviceCode:${device_code}`;
    const record = JSON.parse((await tenantStore.get(key)) as string) as { exp: number };
    record.exp = Math.floor(Date.now() / 1000) - 1;
    await tenantStore.set(key, JSON.stringify(record), 60_000);
    expect((await enterCode(new CookieJar(), user_code)).errorCode).toBe('ExpiredError');
    const res = await poll(device_code);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'expired_token' });
  });

  it('says an unknown code is not known, and refuses an unknown device code (invalid_grant)', async () => {
    expect((await enterCode(new CookieJar(), 'BCDF-GHJK')).errorCode).toBe('NotFoundError');
    const res = await poll('no-such-device-code');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('shows the user-code page in the language asked for', async () => {
    const page = await (await fetch(`${demo.issuer()}/device`, { headers: { 'accept-language': 'sv' } })).text();
    expect(page).toContain('<html lang="sv"');
    expect(page).toContain('Koden som visas på enheten');
  });
});

const describeBrowser = describeWithChromium('the device authorization walk');
const AXE = readFileSync(join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical findings on the page, as the hosted login's own pages are checked. */
async function axeFindings(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    type Violation = { id: string; impact: string; nodes: { target: string[] }[] };
    const axe = (globalThis as unknown as { axe: { run(doc: unknown, o: object): Promise<{ violations: Violation[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

describeBrowser('device authorization in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(() => browser?.close());

  it('a person enters the display’s code and signs in; openid-client’s polling gets the tokens', async () => {
    const config = await discover(demo.issuer(), 'till-display');
    const started = await client.initiateDeviceAuthorization(config, { scope: 'openid profile' });
    const tokens = client.pollDeviceAuthorizationGrant(config, started);

    const page = await (await browser.newContext()).newPage();
    await page.goto(started.verification_uri);
    expect(await axeFindings(page)).toEqual([]);
    await page.fill('#user_code', started.user_code);
    await page.click('button[type="submit"]');
    await page.waitForSelector('button[name="confirm"]');
    expect(await page.textContent('[data-code="user_code"]')).toBe(started.user_code);
    expect(await axeFindings(page)).toEqual([]);
    await page.click('button[name="confirm"]');
    await page.waitForSelector('input[name="password"]');
    await page.fill('input[name="username"]', 'alice');
    await page.fill('input[name="password"]', 'alice-pass-1');
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-code="device_done"]');

    const result = await tokens;
    expect(result.token_type).toBe('bearer');
    expect(result.claims()?.sub).toBe('u-1001');
    expect(result.refresh_token).toBeDefined();
  }, 60_000);
});

// Last in the file: it uses up this address's sign-in starts for the minute.
describe('device authorization flood', () => {
  it('counts device codes on the per-address limit of sign-ins started: 429 temporarily_unavailable', async () => {
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const res = await startDevice();
      if (res.status === 429) refused = res;
      else expect(res.status).toBe(200);
    }
    expect(refused?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused?.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });
});
