/**
 * Directory clients as oidc-provider clients. A sysapp may only use client credentials; a
 * userapp the authorization code grant (PKCE S256, refresh tokens), public (`none`) without a
 * secret or confidential with one. The directory keeps only PHC hashes of secrets: the
 * provider's `client_secret` holds the hash (so its schema sees a secret client), and
 * `Client.prototype.compareClientSecret` is replaced by a check of the presented secret
 * against that hash, through the same verified-credential cache and failure timing floor as
 * basic-auth. No algorithm that would use the secret as an HMAC key is enabled.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import { onClientAssigned } from './client-assigned.js';
import type { DirectoryClient } from '../directory/directory.js';
import { parsePhc, type ParsedHash } from '../credentials/phc.js';
import { failureFloorMs, padTo } from '../credentials/check.js';
import { passwordBudget } from '../credentials/budget.js';
import { passwordCosts } from '../credentials/calibration.js';
import { verifiedCredentials } from '../credentials/verified-cache.js';
import { DEFAULT_LOCKOUT, Lockout } from '../credentials/lockout.js';
import type { Store } from '../store/store.js';
import { credentialTextProblem, normalizeCredential } from '../credentials/credential-text.js';
import { TOKEN_EXCHANGE } from './token-exchange.js';

/** As basic-auth's default: a verified secret skips the hash for a minute. */
const CACHE_TTL_MS = 60_000;
const MAX_SECRET_BYTES = 256;

/** Every refused secret answers no sooner than the process's failure floor, as basic-auth's refusals do. */
const padToFloor = (startedAt: number) => padTo(startedAt, failureFloorMs(passwordCosts));

/** RFC 8628's grant type. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export function clientMetadata(client: DirectoryClient): ClientMetadata {
  const secret =
    client.secret_hash !== undefined
      ? { client_secret: client.secret_hash, token_endpoint_auth_method: 'client_secret_basic' as const }
      : client.jwks !== undefined || client.jwks_uri !== undefined
        ? {
            token_endpoint_auth_method: 'private_key_jwt' as const,
            ...(client.jwks !== undefined ? { jwks: structuredClone(client.jwks) as unknown as ClientMetadata['jwks'] } : {}),
            ...(client.jwks_uri !== undefined ? { jwks_uri: client.jwks_uri } : {}),
          }
        : { token_endpoint_auth_method: 'none' as const };
  const dpop = client.dpop_bound_access_tokens === true ? { dpop_bound_access_tokens: true } : {};
  // Registered by token-exchange.ts; only for a client that names the pipe answering it.
  const exchange = client.token_exchange !== undefined ? [TOKEN_EXCHANGE] : [];
  if (client.type === 'sysapp') {
    return {
      client_id: client.client_id,
      ...secret,
      ...dpop,
      grant_types: ['client_credentials', ...exchange],
      response_types: [],
      redirect_uris: [],
    };
  }
  return {
    client_id: client.client_id,
    ...secret,
    ...dpop,
    ...(client.id_token_signed_response_alg !== undefined ? { id_token_signed_response_alg: client.id_token_signed_response_alg } : {}),
    // The logout token always names the session (`sid`), so an app signed in twice ends the right one.
    ...(client.backchannel_logout_uri !== undefined
      ? { backchannel_logout_uri: client.backchannel_logout_uri, backchannel_logout_session_required: true }
      : {}),
    ...(client.require_pushed_authorization_requests === true ? { require_pushed_authorization_requests: true } : {}),
    grant_types: ['authorization_code', 'refresh_token', ...(client.device_authorization === true ? [DEVICE_CODE_GRANT] : []), ...exchange],
    response_types: ['code'],
    redirect_uris: [...client.redirect_uris],
    post_logout_redirect_uris: [...client.post_logout_redirect_uris],
  };
}

/**
 * The tenant as a client of its own provider. A user token minted by a PUT pipe that names no
 * client carries the tenant id as `client_id`, and userinfo answers only for a token whose
 * client the provider knows. This client can do nothing else: no grant type, no response type,
 * no redirect URI, and a random secret with no directory hash behind it, so
 * compareClientSecret refuses it at every endpoint.
 */
export function tenantClientMetadata(tenant: string): ClientMetadata {
  return {
    client_id: tenant,
    client_secret: randomBytes(32).toString('base64url'),
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [],
    response_types: [],
    redirect_uris: [],
  };
}

/**
 * One verification within the process's hash budget, shared with basic-auth, padded to a
 * refusal's work when it refuses (or always, `refuseAnyway`). A full queue is
 * RATE_LIMITED there; here it is a refused secret (invalid_client), after the floor like any
 * refusal.
 */
async function coldCheck(secret: string, hash: ParsedHash, refuseAnyway: boolean): Promise<boolean> {
  let release: () => void;
  try {
    release = await passwordBudget.acquire();
  } catch {
    return false;
  }
  try {
    return await passwordCosts.verify(secret, hash, refuseAnyway);
  } finally {
    release();
  }
}

/** The refusal work of basic-auth: one verification, then PBKDF2 up to the refusal's CPU mark. */
async function refusalWork(secret: string, hash: ParsedHash): Promise<void> {
  await coldCheck(secret, hash, true);
}

/** Client authentication failures one address may have per window, every client of the tenant together. */
const CLIENT_AUTH_LIMITS = { failuresPerAddress: 100, windowMs: 5 * 60_000 } as const;
const failuresKey = (address: string) => `oidc-client-failures:${address}`;
/** A client's lock from one address. */
const lockKeyOf = (clientId: string, address: string) => `client:${clientId}@${address}`;

/** What a client-authenticating request of the token, introspection or revocation endpoint knows of itself. */
interface ClientAuthCall {
  readonly address: string;
  /** Set when compareClientSecret ran: the refusal work is done. */
  compared: boolean;
}

/** The client-authenticating requests in flight, by request. */
const callsByRequest = new WeakMap<IncomingMessage, ClientAuthCall>();
/**
 * The call whose client the provider has just loaded: set when the provider assigns it and
 * taken by compareClientSecret, which the provider calls next in the same synchronous run
 * (token_auth's loadClient assigns the client, then its auth step checks the expiry and calls
 * compareClientSecret, with no await between). No AsyncLocalStorage: on Node 20 one run of it
 * turns on promise hooks for the whole process, making every promise of every door about
 * three times dearer.
 */
let assigned: ClientAuthCall | undefined;
const addresses = new WeakMap<IncomingMessage, string>();

/** The caller's address (trusted proxies applied), set by the mount before the provider sees the request. */
export function rememberAddress(req: IncomingMessage, address: string): void {
  addresses.set(req, address);
}

export function addressOf(req: IncomingMessage): string | undefined {
  return addresses.get(req);
}

/** Every endpoint that authenticates clients: token, introspection, revocation, pushed authorization requests, device authorization. */
const CLIENT_AUTH_PATH = /^\/(token(\/introspection|\/revocation)?|request|device\/auth)\/?$/;

/**
 * Client authentication at the token, introspection, revocation, PAR and device authorization endpoints is as strong as
 * basic-auth at the PUT door:
 * - every `invalid_client` (unknown id, disabled or public client, wrong secret, a locked
 *   client and address) answers no sooner than the failure floor, after the same work (one
 *   verification within the hash budget, against the client's hash or the tenant's dummy, then
 *   the refusal work), so client ids cannot be enumerated by time or CPU;
 * - failures are counted per client and address (the PUT `client-login` lockout: 5 lock that
 *   client from that address for 60 s, doubling to 15 min), and per address across clients
 *   (`CLIENT_AUTH_LIMITS`: beyond, 429 `temporarily_unavailable` with Retry-After before any
 *   hashing). A success from one address does not wait for another address's lock.
 */
export function guardClientAuthentication(
  provider: Provider,
  tenant: string,
  store: Store,
  clients: ReadonlyMap<string, DirectoryClient>,
  dummy: () => ParsedHash,
): CachedClientAuthentication {
  const lockout = new Lockout(DEFAULT_LOCKOUT);
  const parsed = new Map<string, ParsedHash>();
  for (const client of clients.values()) {
    if (client.secret_hash === undefined) continue;
    const hash = parsePhc(client.secret_hash);
    if (typeof hash !== 'string') parsed.set(client.client_id, hash);
  }
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || !CLIENT_AUTH_PATH.test(ctx.path)) return next();
    const started = performance.now();
    const address = addresses.get(ctx.req) ?? ctx.req.socket.remoteAddress ?? '';
    const limitKey = failuresKey(address);
    const failures = Number((await store.get(limitKey)) ?? 0);
    if (failures >= CLIENT_AUTH_LIMITS.failuresPerAddress) {
      const ttl = await store.ttl(limitKey);
      ctx.status = 429;
      ctx.set('retry-after', String(Math.max(1, Math.ceil((ttl ?? CLIENT_AUTH_LIMITS.windowMs) / 1000))));
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: 'temporarily_unavailable', error_description: 'too many failed client authentications from this address' };
      return;
    }
    const call: ClientAuthCall = { address, compared: false };
    callsByRequest.set(ctx.req, call);
    await next();
    const body = ctx.body as { error?: unknown } | undefined;
    if (ctx.status !== 401 || body?.error !== 'invalid_client') return;
    await store.incr(limitKey, CLIENT_AUTH_LIMITS.windowMs);
    // Refused before any secret was compared (an unknown, disabled or public client, a method
    // mismatch): the same work as a wrong secret, against the tenant's dummy.
    if (!call.compared) await refusalWork(randomBytes(16).toString('base64url'), dummy());
    await padToFloor(started);
  });

  onClientAssigned(provider, (ctx) => {
    assigned = callsByRequest.get(ctx.req);
  });

  /** The verified-credential cache's key of a client's (normalised) secret: one for the provider's check and the fast grant's. */
  const cacheKeyOf = (clientId: string, secret: string, hash: ParsedHash) =>
    verifiedCredentials.keyOf(tenant, 'oidc-client', clientId, secret, hash.phc);
  const inFlight = new Map<string, Promise<boolean>>();
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(
    this: { clientId: string },
    actual: string,
  ): Promise<boolean> {
    const call = assigned;
    assigned = undefined;
    const started = performance.now();
    if (call) call.compared = true;
    const hash = parsed.get(this.clientId);
    if (!hash || typeof actual !== 'string' || credentialTextProblem(actual, MAX_SECRET_BYTES) !== null) {
      await refusalWork(typeof actual === 'string' ? actual.slice(0, MAX_SECRET_BYTES) : '', hash ?? dummy());
      await padToFloor(started);
      return false;
    }
    const secret = normalizeCredential(actual);
    const lockKey = lockKeyOf(this.clientId, call?.address ?? '');
    const key = cacheKeyOf(this.clientId, secret, hash);
    const now = Date.now();
    const locked = await lockout.isLocked(store, lockKey);
    if (!locked && verifiedCredentials.has(key, now)) return true;
    // Identical secrets in flight share one cold check (a client's first burst at a cold cache
    // takes one budget slot, not one each, so it is not refused by its own parallelism).
    // A locked client's check is a refusal whatever the answer: a flight of its own.
    const flightKey = locked ? `${key}|locked` : key;
    let flight = inFlight.get(flightKey);
    if (!flight) {
      flight = coldCheck(secret, hash, locked);
      inFlight.set(flightKey, flight);
      const landed = () => inFlight.delete(flightKey);
      flight.then(landed, landed);
    }
    const matches = await flight;
    if (matches && !locked) {
      verifiedCredentials.remember(key, now, CACHE_TTL_MS);
      await lockout.succeeded(store, lockKey);
      return true;
    }
    if (!locked) await lockout.countFailure(store, lockKey);
    await padToFloor(started);
    return false;
  } as never;

  return async (clientId, secret, address) => {
    const hash = parsed.get(clientId);
    if (!hash || credentialTextProblem(secret, MAX_SECRET_BYTES) !== null) return false;
    const key = cacheKeyOf(clientId, normalizeCredential(secret), hash);
    if (!verifiedCredentials.has(key, Date.now())) return false;
    const [failures, locked] = await Promise.all([store.get(failuresKey(address)), lockout.isLocked(store, lockKeyOf(clientId, address))]);
    return !locked && Number(failures ?? 0) < CLIENT_AUTH_LIMITS.failuresPerAddress;
  };
}

/**
 * Whether `secret` is `clientId`'s by a check that succeeded within the cache's lifetime, with
 * the client not locked from `address` and the address under its failure limit: the fast
 * client-credentials grant's whole authentication. False means "let the provider decide" (a
 * cold cache, a wrong secret, a lock), never a refusal of its own.
 */
export type CachedClientAuthentication = (clientId: string, secret: string, address: string) => Promise<boolean>;
