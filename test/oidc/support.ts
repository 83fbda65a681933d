import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { createApp } from '../../src/app.js';
import { ConfigError } from '../../src/config-kit/issues.js';
import { silentLogger } from '../../src/logger.js';
import { ConfigFixture } from '../support/fixture.js';
import { freePort } from '../support/net.js';
import { startServer, type RunningServer } from '../support/server.js';
import { createAccount, newAccountId, updateAccount, type StoredAccount } from '../../src/accounts/registry.js';
import { hashPassword } from '../../src/credentials/hash.js';
import { prefixedStore, tenantPrefix, type Store } from '../../src/store/store.js';
import type { AppOptions } from '../../src/app.js';

/** The shipped demo on a free port, its SMS outbox in the fixture folder. */
export interface OidcDemo {
  server: RunningServer;
  fixture: ConfigFixture;
  base: string;
  issuer(tenant?: string): string;
  outbox: string;
  close(): Promise<void>;
}

export async function startOidcDemo(
  options: { store?: Store; edit?: (fixture: ConfigFixture) => void; app?: Partial<AppOptions> } = {},
): Promise<OidcDemo> {
  const fixture = ConfigFixture.fromDemo();
  const outbox = fixture.keepOutboxInside('login-sms-send');
  // The demo's log level is info; tests keep quiet.
  options.edit?.(fixture);
  const port = await freePort();
  const server = await startServer({
    configFile: fixture.mainFile,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: undefined },
    ...(options.store ? { store: options.store } : {}),
    ...options.app,
  });
  const base = server.url;
  return {
    server,
    fixture,
    base,
    issuer: (tenant = 'demo') => `${base}/oidc/${tenant}`,
    outbox,
    async close() {
      await server.close();
      fixture.cleanup();
    },
  };
}

/**
 * Sets `oidc.refresh_grace_seconds`: 0 for a suite where a refresh token's immediate repeat
 * must count as reuse (the demo allows a few seconds for concurrent refreshes).
 */
export function setRefreshGrace(fixture: ConfigFixture, seconds: number): void {
  const main = fixture.readJson('config/authpipe.json') as { oidc: Record<string, unknown> };
  main.oidc.refresh_grace_seconds = seconds;
  fixture.writeMain(main);
}

/** The listener trusts X-Forwarded-For from 127.0.0.1, so a test can speak for a client's network. */
export function trustLocalProxy(fixture: ConfigFixture): void {
  const main = fixture.readJson('config/authpipe.json') as { http_configuration: Record<string, unknown>[] };
  (main.http_configuration[0] as Record<string, unknown>).trusted_proxies = ['127.0.0.1'];
  fixture.writeMain(main);
}

/** An active self-service account of the demo's shoppers pool, in the store, as sign-up leaves one. */
export async function storeShopper(demo: OidcDemo, username: string, password: string): Promise<StoredAccount> {
  const services = demo.server.app.holder.current.services;
  const store = prefixedStore(services.store, tenantPrefix('demo'));
  const account: StoredAccount = {
    v: 1,
    id: newAccountId(),
    username,
    password_hash: await hashPassword(password),
    status: 'pending',
    pools: ['shoppers'],
    created: Date.now(),
  };
  if (!(await createAccount(services.directory, store, 'demo', account, 60_000))) throw new Error(`${username} is taken`);
  if (!(await updateAccount(store, account, { ...account, status: 'active' }))) throw new Error(`${username} was not activated`);
  return account;
}

/** openid-client's configuration for a demo client, over plain http. */
export function discover(issuer: string, clientId: string, secret?: string): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, secret, secret === undefined ? client.None() : client.ClientSecretBasic(secret), {
    execute: [client.allowInsecureRequests],
  });
}

/** A tiny cookie jar: one browser's cookies for one host (paths are not needed here). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, at).trim();
      const value = (pair as string).slice(at + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: this.header() },
    });
    this.take(res);
    return res;
  }
}

export interface LoginPage {
  url: string;
  status: number;
  html: string;
  csrf: string | undefined;
  action: string | undefined;
  errorCode: string | undefined;
}

export function parsePage(url: string, status: number, html: string): LoginPage {
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const errorCode = /role="alert"[^>]*data-code="([^"]+)"/.exec(html)?.[1] ?? /data-code="([^"]+)"/.exec(html)?.[1];
  return { url, status, html, csrf, action, errorCode };
}

/**
 * Follows redirects from `url` with the jar until a page is shown (a login form) or the
 * browser is sent to `stopAt` (the client's redirect URI); returns either.
 */
export async function follow(
  jar: CookieJar,
  url: string,
  stopAt: string,
  init: RequestInit = {},
): Promise<{ callback: string } | { page: LoginPage }> {
  let next = url;
  let request = init;
  for (let hops = 0; hops < 12; hops++) {
    if (next.startsWith(stopAt)) return { callback: next };
    const res = await jar.fetch(next, request);
    request = {};
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      next = new URL(location, next).href;
      continue;
    }
    return { page: parsePage(next, res.status, await res.text()) };
  }
  throw new Error('too many redirects');
}

/** Submits a login form page with `fields`, then follows on. */
export function submit(
  jar: CookieJar,
  page: LoginPage,
  fields: Record<string, string>,
  stopAt: string,
  csrf = page.csrf,
): Promise<{ callback: string } | { page: LoginPage }> {
  const body = new URLSearchParams({ ...(csrf !== undefined ? { csrf } : {}), ...fields }).toString();
  return follow(jar, new URL(page.action as string, page.url).href, stopAt, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
}

export function expectPage(result: { callback: string } | { page: LoginPage }): LoginPage {
  if (!('page' in result)) throw new Error(`expected a page, was sent to ${result.callback}`);
  return result.page;
}

export function expectCallback(result: { callback: string } | { page: LoginPage }): string {
  if (!('callback' in result))
    throw new Error(`expected the callback, got a page (${result.page.status}) at ${result.page.url}: ${result.page.html.slice(0, 400)}`);
  return result.callback;
}

/** An authorization request with PKCE S256, state and nonce, as an app would make it. */
export async function authorizationRequest(config: client.Configuration, redirectUri: string, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email phone offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url: url.href, verifier, state, nonce };
}

/** Logs `username` in through the password-only pool and returns the callback URL. */
export async function passwordLogin(
  jar: CookieJar,
  authUrl: string,
  redirectUri: string,
  username: string,
  password: string,
): Promise<string> {
  const page = expectPage(await follow(jar, authUrl, redirectUri));
  return expectCallback(await submit(jar, page, { username, password }, redirectUri));
}

/** Adds members to (or, with undefined, removes them from) directory clients of `tenant`, and adds clients not yet there. */
export function editClients(fixture: ConfigFixture, edits: Record<string, Record<string, unknown>>, tenant = 'demo'): void {
  const directory = fixture.readJson('config/directory.json') as { tenants: Record<string, { clients?: Record<string, unknown>[] }> };
  const clients = (directory.tenants[tenant] as { clients?: Record<string, unknown>[] }).clients ?? [];
  for (const [id, members] of Object.entries(edits)) {
    let entry = clients.find((c) => c.client_id === id);
    if (!entry) clients.push((entry = { client_id: id }));
    for (const [name, value] of Object.entries(members)) {
      if (value === undefined) delete entry[name];
      else entry[name] = value;
    }
  }
  (directory.tenants[tenant] as { clients?: Record<string, unknown>[] }).clients = clients;
  fixture.write('config/directory.json', directory);
}

/** Lists `hostPort` on outbound.allow of the demo's main file, beside what it lists. */
export function allowOutbound(fixture: ConfigFixture, ...hostPorts: string[]): void {
  const main = fixture.readJson('config/authpipe.json') as { outbound?: { allow?: string[] } };
  const allow = new Set([...(main.outbound?.allow ?? []), ...hostPorts]);
  main.outbound = { ...main.outbound, allow: [...allow] };
  fixture.writeMain(main);
}

/** A request a test's listening receiver got. */
export interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A real HTTP server on 127.0.0.1 recording what it is sent; `answer` chooses each status (200 by default). */
export async function startReceiver(answer: (r: Received) => number = () => 200) {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(r);
      res.statusCode = answer(r);
      res.end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    hostPort: `127.0.0.1:${port}`,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    /** Resolves once `count` requests arrived (or rejects after `ms`). */
    async until(count: number, ms = 5000): Promise<Received[]> {
      const deadline = Date.now() + ms;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${received.length} of ${count} requests`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The load issues of a fixture's config (none when it loads). */
export async function loadIssuesOf(fixture: ConfigFixture): Promise<{ code: string; file: string; pointer: string; message: string }[]> {
  try {
    await createApp({ configFile: fixture.mainFile, logger: silentLogger(), env: {} }).close();
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => ({ ...i, file: i.file.replace(/^.*\/(pipes|config)\//, '$1/') }));
  }
}

/** The browser `jar` at the first hosted-login page of a new authorization request (PKCE, state, nonce) for `redirectUri`. */
export async function openLogin(jar: CookieJar, config: client.Configuration, redirectUri: string, extra: Record<string, string> = {}) {
  const request = await authorizationRequest(config, redirectUri, extra);
  return { request, page: expectPage(await follow(jar, request.url, redirectUri)) };
}

/** `username` signs in with `password` through the password-only pool in the browser `jar`, and the app redeems the code: its tokens. */
export async function passwordTokens(
  jar: CookieJar,
  config: client.Configuration,
  redirectUri: string,
  username: string,
  password: string,
  extra: Record<string, string> = {},
) {
  const request = await authorizationRequest(config, redirectUri, extra);
  return exchangeCode(config, await passwordLogin(jar, request.url, redirectUri, username, password), request);
}

/** The app's side of the callback: the code redeemed with the request's verifier, state and nonce checked. */
export function exchangeCode(config: client.Configuration, callback: string, request: { verifier: string; state: string; nonce: string }) {
  return client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
}

/** The demo's passkey pipes on a pool (`passkeys` of a pool in config/authpipe.json); a suite adds what it tests. */
export const PASSKEY_PIPES = {
  sign_in_options: 'passkey-sign-in-options',
  sign_in: 'passkey-sign-in',
  enrol_options: 'passkey-enrol-options',
  enrol: 'passkey-enrol',
} as const;

/**
 * Overrides the login SMS sender's limits (pipes/login-sms-send.json), e.g. `cooldown_seconds: 0`
 * for a suite that sends one user several codes in a row (the demo waits 30 s between codes).
 */
export function setSmsSendLimits(fixture: ConfigFixture, limits: { cooldown_seconds?: number; max_per_hour?: number }): void {
  const send = fixture.readJson('pipes/login-sms-send.json') as { valves: { config: Record<string, unknown> }[] };
  Object.assign((send.valves[0] as { config: Record<string, unknown> }).config, limits);
  fixture.writePipe('login-sms-send', send);
}
