/**
 * The front door at `/oidc/<tenant>`, served straight from node:http like the PUT API (express
 * in front of the provider cost a fifth of the client-credentials throughput). The providers of a
 * loaded config are built on its first OpenID request and kept with that config (a WeakMap):
 * a reload swaps them with everything else, and state lives in the store, so a sign-in begun
 * before a reload finishes after it. Every page under /oidc is unframeable and has a CSP
 * without inline style, and inline script only by a per-answer nonce (the provider's
 * auto-submitting form_post page, provider.ts); hosted-login pages restrict form-action.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ConfigHolder } from '../config/holder.js';
import type { LoadedConfig, Tenant } from '../config/load.js';
import { prefixedStore, tenantPrefix } from '../store/store.js';
import { sendJson } from '../http/respond.js';
import { AuthpipeError, fault, refuse } from '../errors.js';
import type { CallEvent } from '../engine/execute.js';
import { callReporter, type ReportCall } from '../http/call-report.js';
import { clientIp, trustedProxies, type TrustedProxies } from '../http/client-ip.js';
import { OIDC_PATH } from './issuer.js';
import { createTenantProvider, defaultCookieKeys, TTL } from './provider.js';
import type { HostedUi } from './hosted-ui.js';
import { noticePage, sendHtml } from './login-pages.js';
import { chooseLanguage, translator } from './messages.js';
import { pendingInteractions, type PendingInteractions } from './pending.js';
import { handleInteraction } from './login.js';
import { handleUpstreamCallback } from './federation.js';
import { handleAccount, handleAccountSignIn } from './account-page.js';
import { ACCOUNT_CLIENT } from './account-sign-in.js';
import { handleSamlAcs, serveSamlMetadata } from './saml.js';
import { addressOf, rememberAddress } from './clients.js';
import { registerTokenExchange } from './token-exchange.js';
import { askForOAuthMetadata } from './conformance.js';
import { fastGrantOf } from './client-credentials-fast.js';
import type { OidcPoolConfig } from './schema.js';

interface TenantDoor {
  readonly tenant: Tenant;
  readonly provider: Provider;
  readonly callback: (req: IncomingMessage, res: ServerResponse) => unknown;
  readonly pools: Readonly<Record<string, OidcPoolConfig>>;
  poolOf(clientId: string): string | undefined;
  readonly pending: PendingInteractions;
  readonly ui: HostedUi;
}

interface Doors {
  readonly byTenant: ReadonlyMap<string, TenantDoor>;
  readonly proxies: TrustedProxies;
}

const built = new WeakMap<LoadedConfig, Map<string, Doors>>();

/** RFC 8414 §3: the issuer's path follows the well-known name, `/.well-known/oauth-authorization-server/oidc/<tenant>`. */
export const OAUTH_METADATA_PATH = '/.well-known/oauth-authorization-server';
const OAUTH_METADATA_TENANT = /^\/oidc\/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})\/?(\?.*)?$/;

const TENANT_PATH = /^\/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})(\/.*)?$/;
const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]{1,64})\/?$/;
/** The hosted login's stylesheets and the templates folder's assets (hosted-ui.ts). */
const ASSET_PATH = /^\/assets\/([A-Za-z0-9][A-Za-z0-9_.-]{0,99})(\?.*)?$/;
/** A year: an asset's URL carries the hash of its content, so a change is a new URL. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Where an upstream OpenID provider sends the browser back (federation.ts). */
/** A SAML identity provider's side of us (saml.ts): our SP metadata, and the assertion consumer service. */
const SAML_PATH = /^\/federation\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})\/(metadata|acs)\/?$/;
const FEDERATION_CALLBACK_PATH = /^\/federation\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})\/callback\/?(\?.*)?$/;
/** The authorization endpoint: each call starts a sign-in (its resume, /auth/<uid>, does not). */
const AUTH_PATH = /^\/auth\/?(\?|$)/;
/** The account page of whoever holds a sign-in session here (account-page.ts). */
const ACCOUNT_PATH = /^\/account\/?$/;
/** The device authorization endpoint (RFC 8628): each call stores a device code, so it counts as a sign-in started. */
const DEVICE_AUTH_PATH = /^\/device\/auth\/?(\?|$)/;
/** The pushed authorization request endpoint (RFC 9126): each call stores a request; counted apart from /auth, which follows it. */
const PAR_PATH = /^\/request\/?(\?|$)/;
/** The account page's own sign-in and its return (account-sign-in.ts). */
const ACCOUNT_SIGN_IN_PATH = /^\/account\/(sign-in|callback)$/;

const CSP = "default-src 'none'; img-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'";
const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ['content-security-policy', CSP],
  ['x-frame-options', 'DENY'],
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
];

/**
 * The handler of everything under /oidc on one listener, and of the RFC 8414 metadata of its
 * issuers (served as discovery without the OpenID-only members); `requestId` and the base headers are set.
 */
export function oidcHandler(
  holder: ConfigHolder,
  listenerId: string,
  logger: Logger,
  /** The management listener's origins, where the console's client may come back to. */
  consoleOrigins: () => readonly string[],
  /** Where hosted-login steps and token grants are told, as PUT calls are. */
  callEnd?: (event: CallEvent) => void,
): (req: IncomingMessage, res: ServerResponse, requestId: string) => void {
  const report = callReporter(logger, callEnd);
  const fail = (res: ServerResponse, requestId: string, err: unknown) => {
    logger.error({ requestId, err }, 'unhandled error in the OpenID Connect front door');
    if (res.headersSent) return void res.destroy();
    sendJson(res, 500, { error: 'server_error' });
  };
  return (req, res, requestId) => {
    const started = performance.now();
    const config = holder.current;
    if (req.url?.startsWith(OAUTH_METADATA_PATH)) {
      const tenant = OAUTH_METADATA_TENANT.exec(req.url.slice(OAUTH_METADATA_PATH.length))?.[1];
      if (tenant === undefined) return void sendJson(res, 404, { error: 'not_found' });
      req.url = `${OIDC_PATH}/${tenant}/.well-known/openid-configuration`;
      askForOAuthMetadata(req);
    }
    const path = (req.url ?? '').slice(OIDC_PATH.length);
    const match = config.main.oidc ? TENANT_PATH.exec(path) : null;
    const doors = match ? doorsOf(config, listenerId, consoleOrigins, report, logger) : undefined;
    const door = match ? doors?.byTenant.get(match[1] as string) : undefined;
    if (!match || !door || !doors) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
    // The provider sets its own caching (discovery and JWKS may be cached, the rest is no-store).
    res.removeHeader('cache-control');
    const rest = match[2] ?? '/';
    const address = clientIp(req, doors.proxies);
    const asset = ASSET_PATH.exec(rest);
    if (asset) return sendAsset(req, res, door, asset[1] as string);
    // The first page's links carry a query (`?flow=sign_up`, login.ts); the form posts to the bare path.
    const restPath = rest.split('?', 1)[0] as string;
    const interaction = INTERACTION_PATH.exec(restPath);
    if (interaction) {
      res.setHeader('cache-control', 'no-store');
      // Hosted-login forms post only here (login.ts adds the app's origin, where the answer redirects,
      // so form-action stays last). The passkey script is ours, same-origin, and fetches only from here.
      res.setHeader('content-security-policy', `${CSP}; script-src 'self'; connect-src 'self'; form-action 'self'`);
      handleInteraction(req, res, interaction[1] as string, {
        path: `${OIDC_PATH}/${door.tenant.id}${restPath}`,
        config,
        tenant: door.tenant,
        provider: door.provider,
        pools: door.pools,
        poolOf: door.poolOf,
        store: prefixedStore(config.services.store, tenantPrefix(door.tenant.id)),
        logger,
        clientIp: address,
        requestId,
        report,
        ui: door.ui,
        ttlSeconds: TTL.Interaction,
        https: isHttps(req, doors.proxies),
      }).catch((err: unknown) => fail(res, requestId, err));
      return;
    }
    if (ACCOUNT_PATH.test(restPath)) {
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-security-policy', `${CSP}; script-src 'self'; connect-src 'self'; form-action 'self'`);
      handleAccount(req, res, {
        path: `${OIDC_PATH}/${door.tenant.id}/account`,
        config,
        tenant: door.tenant,
        provider: door.provider,
        store: prefixedStore(config.services.store, tenantPrefix(door.tenant.id)),
        ui: door.ui,
        logger,
        report,
        clientIp: address,
        requestId,
      }).catch((err: unknown) => fail(res, requestId, err));
      return;
    }
    const accountSignIn = ACCOUNT_SIGN_IN_PATH.exec(restPath);
    if (accountSignIn) {
      res.setHeader('cache-control', 'no-store');
      handleAccountSignIn(req, res, accountSignIn[1] as string, {
        path: `${OIDC_PATH}/${door.tenant.id}/account`,
        config,
        tenant: door.tenant,
        provider: door.provider,
        ui: door.ui,
        https: isHttps(req, doors.proxies),
      }).catch((err: unknown) => fail(res, requestId, err));
      return;
    }
    const saml = SAML_PATH.exec(rest);
    if (saml) {
      const [, idp, what] = saml as unknown as [string, string, string];
      if (what === 'metadata') {
        if (req.method === 'GET' && serveSamlMetadata(res, config, door.tenant.id, idp)) return;
        sendJson(res, 404, { error: 'not_found' });
        return;
      }
      res.setHeader('cache-control', 'no-store');
      handleSamlAcs(req, res, {
        config,
        tenant: door.tenant,
        idp,
        store: prefixedStore(config.services.store, tenantPrefix(door.tenant.id)),
        ui: door.ui,
        logger,
        requestId,
      }).catch((err: unknown) => fail(res, requestId, err));
      return;
    }
    const upstream = FEDERATION_CALLBACK_PATH.exec(rest);
    if (upstream) {
      res.setHeader('cache-control', 'no-store');
      handleUpstreamCallback(req, res, {
        config,
        tenant: door.tenant,
        idp: upstream[1] as string,
        store: prefixedStore(config.services.store, tenantPrefix(door.tenant.id)),
        ui: door.ui,
        logger,
        requestId,
      }).catch((err: unknown) => fail(res, requestId, err));
      return;
    }
    // The provider routes on the path below its issuer's (the mount path it adds to URLs itself).
    // As a mounting framework would: the provider builds its URLs from originalUrl minus url.
    const toProvider = (request: IncomingMessage = req) => {
      (request as IncomingMessage & { originalUrl?: string }).originalUrl = request.url;
      rememberAddress(request, address);
      calls.set(request, { requestId, started });
      request.url = rest;
      try {
        door.callback(request, res);
      } catch (err) {
        fail(res, requestId, err);
      }
    };
    const fast = rest === '/token' ? fastGrantOf(door.provider) : undefined;
    if (fast) {
      return fast.handle(req, res, address, toProvider, (clientId) =>
        report({
          door: 'token',
          requestId,
          tenant: door.tenant.id,
          operation: 'client_credentials',
          pipe: undefined,
          started,
          ctx: undefined,
          subject: clientId,
        }),
      );
    }
    const stored = req.method !== 'POST' ? undefined : DEVICE_AUTH_PATH.test(rest) ? 'device' : PAR_PATH.test(rest) ? 'par' : undefined;
    if (stored) {
      admitStoredStart(config, door, address, res, stored)
        .then((admitted) => {
          if (admitted) toProvider();
        })
        .catch((err: unknown) => fail(res, requestId, err));
      return;
    }
    if (!AUTH_PATH.test(rest)) return toProvider();
    admitSignIn(config, door, clientIp(req, doors.proxies), req, res)
      .then((admitted) => {
        if (admitted) toProvider();
      })
      .catch((err: unknown) => fail(res, requestId, err));
  };
}

/** TLS on the socket, or X-Forwarded-Proto https when the listener trusts proxies (as the provider's cookies read it). */
function isHttps(req: IncomingMessage, proxies: TrustedProxies): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  const proto = req.headersDistinct['x-forwarded-proto']?.[0]?.split(',')[0]?.trim().toLowerCase();
  return proxies.any && proto === 'https';
}

/**
 * Before a sign-in starts (and stores its interaction): the per-address limit, then the
 * tenant's cap on pending sign-ins. A refusal is a page with its code; the store is not touched
 * beyond one counter, so a flood costs a bounded amount of memory.
 */
async function admitSignIn(
  config: LoadedConfig,
  door: TenantDoor,
  ip: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const limits = config.main.oidc?.interactions;
  if (!limits) return true;
  const store = prefixedStore(config.services.store, tenantPrefix(door.tenant.id));
  const windowMs = limits.window_seconds * 1000;
  const key = `oidc-auth-rate:${ip}`;
  let started: number;
  try {
    started = await store.incr(key, windowMs);
  } catch (err) {
    // The memory store refuses a new counter when its table is full: closed, like the cap.
    if (err instanceof AuthpipeError && err.code === 'RATE_LIMITED') started = Infinity;
    else throw err;
  }
  if (started > limits.per_address) {
    const left = Number.isFinite(started) ? ((await store.ttl(key)) ?? windowMs) : 1000;
    config.services.metrics?.inc('oidc_interactions_refused', { tenant: door.tenant.id, reason: 'rate_limited' });
    refusalPage(req, res, door, 429, 'RATE_LIMITED', Math.ceil(left / 1000));
    return false;
  }
  if ((await door.pending.count()) >= limits.max_pending) {
    config.services.metrics?.inc('oidc_interactions_refused', { tenant: door.tenant.id, reason: 'full' });
    refusalPage(req, res, door, 503, 'INTERACTIONS_FULL', 60);
    return false;
  }
  return true;
}

/**
 * A device authorization request stores a device code for 10 minutes, a pushed authorization
 * request its parameters for a minute, and a public app's needs no secret: each is bounded by
 * `oidc.interactions.per_address` like starting a sign-in at /auth (device codes on the same
 * count; pushes on a count of their own, since the /auth that follows a push counts there).
 * Past it, 429 `temporarily_unavailable` with Retry-After, as JSON (the caller is an app).
 */
async function admitStoredStart(
  config: LoadedConfig,
  door: TenantDoor,
  ip: string,
  res: ServerResponse,
  kind: 'device' | 'par',
): Promise<boolean> {
  const limits = config.main.oidc?.interactions;
  if (!limits) return true;
  const store = prefixedStore(config.services.store, tenantPrefix(door.tenant.id));
  const windowMs = limits.window_seconds * 1000;
  const key = kind === 'device' ? `oidc-auth-rate:${ip}` : `oidc-par-rate:${ip}`;
  let started: number;
  try {
    started = await store.incr(key, windowMs);
  } catch (err) {
    if (err instanceof AuthpipeError && err.code === 'RATE_LIMITED') started = Infinity;
    else throw err;
  }
  if (started <= limits.per_address) return true;
  const left = Number.isFinite(started) ? ((await store.ttl(key)) ?? windowMs) : 1000;
  config.services.metrics?.inc('oidc_interactions_refused', { tenant: door.tenant.id, reason: 'rate_limited' });
  res.setHeader('retry-after', String(Math.max(1, Math.ceil(left / 1000))));
  res.setHeader('cache-control', 'no-store');
  sendJson(res, 429, {
    error: 'temporarily_unavailable',
    error_description: `too many ${kind === 'device' ? 'device authorization' : 'pushed authorization'} requests from this address`,
  });
  return false;
}

/** A refused start, in the language the app or the browser asks for, with the tenant's branding. */
function refusalPage(req: IncomingMessage, res: ServerResponse, door: TenantDoor, status: number, code: string, retryAfter: number): void {
  const asked = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('ui_locales') ?? undefined;
  const language = chooseLanguage(asked, req.headers['accept-language'], 'en');
  const scope = { ui: door.ui, tenant: door.tenant, language, t: translator(language) };
  res.setHeader('retry-after', String(Math.max(1, retryAfter)));
  res.setHeader('cache-control', 'no-store');
  sendHtml(res, status, noticePage(scope, 'unavailable.title', code, scope.t(`unavailable.${code}`)));
}

/** GET or HEAD of an asset: for a year when the URL names its current version, else revalidated by ETag. */
function sendAsset(req: IncomingMessage, res: ServerResponse, door: TenantDoor, name: string): void {
  const asset = door.ui.asset(door.tenant.id, name);
  if (!asset) return void sendJson(res, 404, { error: 'not_found' });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return void sendJson(res, 405, { error: 'method_not_allowed' });
  }
  const etag = `"${asset.version}"`;
  const version = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('v');
  res.setHeader('cache-control', version === asset.version ? IMMUTABLE : 'no-cache');
  res.setHeader('etag', etag);
  res.setHeader('content-type', asset.type);
  if (req.headers['if-none-match'] === etag) {
    res.statusCode = 304;
    return void res.end();
  }
  res.statusCode = 200;
  res.setHeader('content-length', asset.body.length);
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}

/** When and as which request a call reached the provider, for the token door's report. */
const calls = new WeakMap<IncomingMessage, { requestId: string; started: number }>();

/**
 * Token grants are told as calls of the token door: the grant type as the operation, the
 * OAuth error as the code of a refusal, the client as the subject.
 */
function reportGrants(provider: Provider, tenant: string, report: ReportCall): void {
  const tell = (ctx: KoaContextWithOIDC, error?: { error?: string; statusCode?: number; message?: string }) => {
    const call = calls.get(ctx.req);
    const grant = ctx.oidc?.params?.grant_type;
    const status = error ? ((error.statusCode ?? 400) >= 500 ? 500 : 403) : 200;
    report({
      door: 'token',
      requestId: call?.requestId ?? '',
      tenant,
      operation: typeof grant === 'string' ? grant : undefined,
      pipe: undefined,
      started: call?.started ?? performance.now(),
      ...(error ? { error: grantError(error, status) } : {}),
      ctx: undefined,
      subject: ctx.oidc?.client?.clientId,
    });
  };
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => tell(ctx));
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: { error?: string; statusCode?: number }) => tell(ctx, error));
}

function grantError(error: { error?: string; message?: string }, status: number): AuthpipeError {
  const detail = error.error ?? error.message ?? 'grant refused';
  return status === 500
    ? fault('INTERNAL_ERROR', { detail })
    : refuse(error.error === 'invalid_client' ? 'INVALID_CREDENTIALS' : 'INVALID_REQUEST', { detail });
}

function doorsOf(
  config: LoadedConfig,
  listenerId: string,
  consoleOrigins: () => readonly string[],
  report: ReportCall,
  logger: Logger,
): Doors | undefined {
  let perListener = built.get(config);
  if (!perListener) {
    built.set(config, (perListener = new Map()));
    // Built lazily per config, dropped with it when it retires (a provider holds nothing open to close).
    if (config.runtime.phase !== 'closed') config.runtime.own({ close: () => void built.delete(config) });
  }
  let doors = perListener.get(listenerId);
  if (doors) return doors;
  const listener = config.listeners.find((l) => l.http.id === listenerId);
  const oidc = config.main.oidc;
  const tokens = config.services.tokens;
  if (!listener || !oidc || !tokens) return undefined;
  const byTenant = new Map<string, TenantDoor>();
  // Built at load with the oidc section (feature.ts): a load without it does not serve.
  const ui = config.services.hostedLogin;
  if (!ui) return undefined;
  for (const [tenantId, tenantConfig] of Object.entries(oidc.tenants)) {
    const tenant = listener.tenants.get(tenantId);
    if (!tenant) continue;
    const pools = tenantConfig.pools ?? {};
    const pending = pendingInteractions(prefixedStore(config.services.store, tenantPrefix(tenantId)), TTL.Interaction);
    const provider = createTenantProvider({
      tenant: tenantId,
      issuer: tokens.issuerOf(tenantId),
      mountPath: `${OIDC_PATH}/${tenantId}`,
      pools,
      directory: config.services.directory,
      accessGroups: config.services.accessGroups,
      tokens,
      store: prefixedStore(config.services.store, tenantPrefix(tenantId)),
      cookieKeys: oidc.cookie_keys ?? defaultCookieKeys(),
      proxy: listener.http.trusted_proxies.length > 0,
      clockTolerance: tokens.settings.clockTolerance,
      console: { clientId: config.main.management.console_client, origins: consoleOrigins },
      pending,
      refreshGraceSeconds: oidc.refresh_grace_seconds,
      ui,
      displayName: tenant.displayName,
      ...(config.services.outbound ? { outbound: config.services.outbound } : {}),
      ...(tenantConfig.account?.pool !== undefined ? { accountPool: tenantConfig.account.pool } : {}),
    });
    reportGrants(provider, tenantId, report);
    // A logout token the app did not take: the sign-out itself has happened; the app's session lives until its own expiry.
    provider.on('backchannel.error', (_ctx: unknown, err: Error, client: { clientId: string }) =>
      logger.warn({ tenant: tenantId, client: client.clientId, err: err.message }, 'back-channel logout not delivered'),
    );
    registerTokenExchange(provider, {
      tenant,
      directory: config.services.directory,
      services: config.services,
      logger: config.services.logger,
      callOf: (req) => ({ clientIp: addressOf(req) ?? '', requestId: calls.get(req)?.requestId ?? '' }),
    });
    const callback = provider.callback() as unknown as TenantDoor['callback'];
    byTenant.set(tenantId, {
      tenant,
      provider,
      callback,
      pools,
      pending,
      ui,
      poolOf: (clientId) =>
        clientId === ACCOUNT_CLIENT && tenantConfig.account?.pool !== undefined
          ? tenantConfig.account.pool
          : config.services.directory.client(tenantId, clientId)?.pool,
    });
  }
  doors = { byTenant, proxies: trustedProxies(listener.http.trusted_proxies) };
  perListener.set(listenerId, doors);
  return doors;
}
