/**
 * Sign-in with an upstream OpenID provider, as a hosted-login step (`upstream` on a pool
 * step). openid-client is the relying party: discovery, the authorization code flow with
 * `state`, `nonce` and PKCE S256, and the ID token's checks (issuer, audience, expiry, nonce,
 * and, by `enableNonRepudiationChecks`, its signature through the upstream's JWKS); `at_hash`,
 * which it leaves to the caller for a token-endpoint ID token, is checked here when present.
 * Every call to the upstream goes through the outbound allowlist with a timeout.
 *
 * The flow: the step's page shows a button; its POST (CSRF-checked by the hosted login)
 * comes here, which stores a single-use record under a fresh `state` (the sign-in's uid, the
 * step, the PKCE verifier, the nonce) and redirects to the upstream. The upstream sends the
 * browser to /oidc/<tenant>/federation/<idp>/callback, which takes the record (a wrong or
 * reused state finds none: a coded page), redeems the code, keeps the mapped claims for the
 * sign-in server-side and redirects back to the interaction; there (the interaction cookie
 * binds the browser) the hosted login takes them once and runs the step's pipe with them.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import * as client from 'openid-client';
import type { LoadedConfig } from '../config/load.js';
import type { ErrorCode } from '../errors.js';
import type { Store } from '../store/store.js';
import { OutboundRefused } from '../outbound/policy.js';
import { outboundFetch, OutboundUnavailable } from '../outbound/fetch.js';
import { OIDC_PATH } from './issuer.js';
import { UPSTREAM_IDP, UPSTREAM_SUB, type UpstreamConfig } from './schema.js';
import type { HostedUi } from './hosted-ui.js';
import { noticePage, sendHtml } from './login-pages.js';
import { chooseLanguage, translator } from './messages.js';

/** Bound on any answer of the upstream (discovery, JWKS, token). */
const MAX_ANSWER_BYTES = 256 * 1024;
/** How long a started upstream sign-in, and its result, may wait: the provider's interaction lifetime. */
export const PENDING_MS = 600_000;

const stateKey = (state: string) => `oidc-fed-state:${state}`;
const resultKey = (uid: string) => `oidc-fed-result:${uid}`;

interface Pending {
  uid: string;
  idp: string;
  step: number;
  verifier: string;
  nonce: string;
}

/** What the callback left for the sign-in: the mapped claims, or the code of what failed. */
export type UpstreamResult =
  { step: number; ok: true; claims: Record<string, string> } | { step: number; ok: false; code: ErrorCode; status: number };

function upstreamOf(config: LoadedConfig, tenant: string, idp: string): UpstreamConfig | undefined {
  const upstreams = config.main.oidc?.tenants[tenant]?.upstreams;
  return upstreams && Object.hasOwn(upstreams, idp) ? upstreams[idp] : undefined;
}

/** The button's name: the upstream's display name in the page's language, else its id. */
export function upstreamName(config: LoadedConfig, tenant: string, idp: string, language: string): string {
  const saml = config.main.oidc?.tenants[tenant]?.saml_upstreams;
  const name = (saml && Object.hasOwn(saml, idp) ? saml[idp] : upstreamOf(config, tenant, idp))?.display_name;
  if (name === undefined) return idp;
  if (typeof name === 'string') return name;
  const byLanguage = name as Record<string, string>;
  return byLanguage[language] ?? byLanguage.en ?? (Object.values(byLanguage)[0] as string);
}

/** The upstream's origins the step's form may lead to (its issuer, its authorization endpoint once known), for the CSP's form-action. */
export function upstreamOrigins(config: LoadedConfig, tenant: string, idp: string): string[] {
  const saml = config.main.oidc?.tenants[tenant]?.saml_upstreams;
  if (saml && Object.hasOwn(saml, idp)) return [new URL((saml[idp] as { sso_url: string }).sso_url).origin];
  const upstream = upstreamOf(config, tenant, idp);
  if (!upstream) return [];
  const origins = new Set([new URL(upstream.issuer).origin]);
  const endpoint = discovered.get(config)?.get(`${tenant}/${idp}`)?.settled?.serverMetadata().authorization_endpoint;
  if (endpoint) origins.add(new URL(endpoint).origin);
  return [...origins];
}

const redirectUri = (config: LoadedConfig, tenant: string, idp: string) =>
  `${config.services.tokens?.issuerOf(tenant) ?? `${OIDC_PATH}/${tenant}`}/federation/${idp}/callback`;

interface Discovery {
  promise: Promise<client.Configuration>;
  settled?: client.Configuration;
}

/** Discovery per config load, upstream by upstream; a failure is not kept (the next sign-in tries again). */
const discovered = new WeakMap<LoadedConfig, Map<string, Discovery>>();

function configurationOf(config: LoadedConfig, tenant: string, idp: string, upstream: UpstreamConfig): Promise<client.Configuration> {
  let byIdp = discovered.get(config);
  if (!byIdp) discovered.set(config, (byIdp = new Map()));
  const key = `${tenant}/${idp}`;
  const known = byIdp.get(key);
  if (known) return known.promise;
  const entry: Discovery = { promise: discover(config, upstream) };
  byIdp.set(key, entry);
  entry.promise.then(
    (found) => void (entry.settled = found),
    () => void byIdp.delete(key),
  );
  return entry.promise;
}

async function discover(config: LoadedConfig, upstream: UpstreamConfig): Promise<client.Configuration> {
  const policy = config.services.outbound;
  if (!policy) throw new OutboundRefused('no outbound policy: nothing may be called');
  const secret = upstream.client_secret;
  const auth =
    secret === undefined
      ? client.None()
      : upstream.token_auth === 'client_secret_post'
        ? client.ClientSecretPost(secret)
        : client.ClientSecretBasic(secret);
  // The ID token's signature is checked through the JWKS, not taken on the strength of TLS alone.
  const execute = [client.enableNonRepudiationChecks];
  // http only for a loopback issuer (the load refuses any other): a stand-in upstream on this machine.
  if (new URL(upstream.issuer).protocol === 'http:') execute.push(client.allowInsecureRequests);
  return client.discovery(new URL(upstream.issuer), upstream.client_id, undefined, auth, {
    execute,
    [client.customFetch]: outboundFetch({ policy, timeoutMs: upstream.timeout_ms, maxBytes: MAX_ANSWER_BYTES }),
    timeout: Math.ceil(upstream.timeout_ms / 1000),
  });
}

/** The code of a failed exchange: the upstream unreachable, slow or failing (COMMUNICATION_ERROR), else refused or not trusted. */
function failureCode(err: unknown): { code: ErrorCode; status: number } {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    if (e instanceof OutboundUnavailable || e instanceof OutboundRefused) return { code: 'COMMUNICATION_ERROR', status: 502 };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return { code: 'COMMUNICATION_ERROR', status: 502 };
    const status = (e as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 500) return { code: 'COMMUNICATION_ERROR', status: 502 };
  }
  return { code: 'UPSTREAM_REFUSED', status: 403 };
}

/**
 * The step's button was pressed (its CSRF token checked): a redirect to the upstream with a
 * fresh state, nonce and PKCE challenge; or, when the upstream cannot be discovered, the code to show.
 */
export async function startUpstream(
  res: ServerResponse,
  args: { config: LoadedConfig; tenant: string; store: Store; uid: string; step: number; idp: string; logger: Logger; requestId: string },
): Promise<{ code: ErrorCode; status: number } | undefined> {
  const { config, tenant, idp } = args;
  const upstream = upstreamOf(config, tenant, idp);
  if (!upstream) return { code: 'INTERNAL_ERROR', status: 500 };
  let configuration: client.Configuration;
  try {
    configuration = await configurationOf(config, tenant, idp, upstream);
  } catch (err) {
    args.logger.warn({ requestId: args.requestId, tenant, upstream: idp, err }, 'upstream identity provider: discovery failed');
    return failureCode(err);
  }
  const pending: Pending = {
    uid: args.uid,
    idp,
    step: args.step,
    verifier: client.randomPKCECodeVerifier(),
    nonce: client.randomNonce(),
  };
  const state = client.randomState();
  await args.store.set(stateKey(state), JSON.stringify(pending), PENDING_MS);
  const parameters: Record<string, string> = {
    redirect_uri: redirectUri(config, tenant, idp),
    scope: upstream.scopes.join(' '),
    state,
    nonce: pending.nonce,
  };
  if (upstream.pkce) {
    parameters.code_challenge = await client.calculatePKCECodeChallenge(pending.verifier);
    parameters.code_challenge_method = 'S256';
  }
  res.statusCode = 303;
  res.setHeader('location', client.buildAuthorizationUrl(configuration, parameters).href);
  res.end();
  return undefined;
}

/** Leaves an upstream sign-in's result (OpenID here, SAML in saml.ts) for the hosted login to take. */
export async function storeUpstreamResult(store: Store, uid: string, result: UpstreamResult): Promise<void> {
  await store.set(resultKey(uid), JSON.stringify(result), PENDING_MS);
}

/** The callback's result for the sign-in `uid`, taken once; only for the step that started it. */
export async function takeUpstreamResult(store: Store, uid: string, step: number): Promise<UpstreamResult | undefined> {
  const text = await store.take(resultKey(uid));
  if (text === null) return undefined;
  const result = JSON.parse(text) as UpstreamResult;
  return result.step === step ? result : undefined;
}

/** What a request coming back from an upstream (an OpenID callback, a SAML assertion) is handled with. */
export interface UpstreamReturn {
  config: LoadedConfig;
  tenant: { id: string; displayName: string };
  idp: string;
  store: Store;
  ui: HostedUi;
  logger: Logger;
  requestId: string;
}

/** GET /oidc/<tenant>/federation/<idp>/callback: answers every case itself. */
export async function handleUpstreamCallback(req: IncomingMessage, res: ServerResponse, args: UpstreamReturn): Promise<void> {
  const { config, tenant, idp, store, logger, requestId } = args;
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const state = query.get('state');
  const taken = req.method === 'GET' && state !== null && state.length <= 256 ? await store.take(stateKey(state)) : null;
  const pending = taken === null ? undefined : (JSON.parse(taken) as Pending);
  const upstream = upstreamOf(config, tenant.id, idp);
  if (!pending || pending.idp !== idp || !upstream) {
    logger.info(
      { requestId, tenant: tenant.id, upstream: idp, code: 'INVALID_REQUEST' },
      'upstream callback refused: unknown, used or foreign state',
    );
    const language = chooseLanguage(undefined, req.headers['accept-language'], 'en');
    const scope = { ui: args.ui, tenant, language, t: translator(language) };
    return sendHtml(res, 400, noticePage(scope, 'federation.state_title', 'INVALID_REQUEST', scope.t('federation.state_text')));
  }
  let result: UpstreamResult;
  try {
    const configuration = await configurationOf(config, tenant.id, idp, upstream);
    const current = new URL(redirectUri(config, tenant.id, idp));
    current.search = query.toString();
    const tokens = await client.authorizationCodeGrant(configuration, current, {
      expectedState: state as string,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
      ...(upstream.pkce ? { pkceCodeVerifier: pending.verifier } : {}),
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('no ID token');
    if (claims.at_hash !== undefined && !atHashMatches(tokens.access_token, claims.at_hash, tokens.id_token as string))
      throw new Error('ID token at_hash does not match the access token');
    result = { step: pending.step, ok: true, claims: mapClaims(idp, claims, upstream.claims) };
  } catch (err) {
    const failure = failureCode(err);
    logger.warn({ requestId, tenant: tenant.id, upstream: idp, code: failure.code, err }, 'upstream sign-in refused');
    result = { step: pending.step, ok: false, ...failure };
  }
  await storeUpstreamResult(store, pending.uid, result);
  res.statusCode = 303;
  res.setHeader('cache-control', 'no-store');
  res.setHeader('location', `${OIDC_PATH}/${tenant.id}/interaction/${pending.uid}`);
  res.end();
}

/** OpenID Connect Core 3.1.3.6: the left half of the access token's hash by the ID token's algorithm. */
function atHashMatches(accessToken: string, atHash: unknown, idToken: string): boolean {
  if (typeof atHash !== 'string') return false;
  const alg = (JSON.parse(Buffer.from(idToken.split('.')[0] as string, 'base64url').toString('utf8')) as { alg?: string }).alg ?? '';
  const bits = /(256|384|512)$/.exec(alg)?.[1] ?? (alg === 'EdDSA' || alg === 'Ed25519' ? '512' : undefined);
  if (bits === undefined) return false;
  const digest = createHash(`sha${bits}`).update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url') === atHash;
}

/** The step's request: upstream_idp, upstream_sub, and each mapped claim the token has, as text. */
function mapClaims(idp: string, claims: client.IDToken, mapping: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [property, claim] of Object.entries(mapping)) {
    const value = claims[claim];
    if (typeof value === 'string') out[property] = value;
    else if (typeof value === 'boolean' || typeof value === 'number') out[property] = String(value);
  }
  // Last: no mapping may pose as them.
  out[UPSTREAM_IDP] = idp;
  out[UPSTREAM_SUB] = claims.sub;
  return out;
}
