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
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import type { DirectoryClient } from '../directory/directory.js';
import { verifyPassword } from '../credentials/hash.js';
import { parsePhc, type ParsedHash } from '../credentials/phc.js';
import { failureFloorMs, padTo } from '../credentials/check.js';
import { passwordBudget } from '../credentials/budget.js';
import { passwordCosts } from '../credentials/calibration.js';
import { verifiedCredentials } from '../credentials/verified-cache.js';
import { credentialTextProblem, normalizeCredential } from '../credentials/credential-text.js';

/** As basic-auth's default: a verified secret skips the hash for a minute. */
const CACHE_TTL_MS = 60_000;
const MAX_SECRET_BYTES = 256;

/** Every refused secret answers no sooner than the process's failure floor, as basic-auth's refusals do. */
const padToFloor = (startedAt: number) => padTo(startedAt, failureFloorMs(passwordCosts));

export function clientMetadata(client: DirectoryClient): ClientMetadata {
  const secret =
    client.secret_hash !== undefined
      ? { client_secret: client.secret_hash, token_endpoint_auth_method: 'client_secret_basic' as const }
      : { token_endpoint_auth_method: 'none' as const };
  if (client.type === 'sysapp') {
    return { client_id: client.client_id, ...secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  }
  return {
    client_id: client.client_id,
    ...secret,
    grant_types: ['authorization_code', 'refresh_token'],
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
 * One verification within the process's hash budget, shared with basic-auth. A full queue is
 * RATE_LIMITED there; here it is a refused secret (invalid_client), after the floor like any
 * refusal.
 */
async function coldCheck(secret: string, hash: ParsedHash): Promise<boolean> {
  let release: () => void;
  try {
    release = await passwordBudget.acquire();
  } catch {
    return false;
  }
  try {
    return await verifyPassword(secret, hash);
  } finally {
    release();
  }
}

export function verifyClientSecrets(provider: Provider, tenant: string, clients: ReadonlyMap<string, DirectoryClient>): void {
  const parsed = new Map<string, ParsedHash>();
  for (const client of clients.values()) {
    if (client.secret_hash === undefined) continue;
    const hash = parsePhc(client.secret_hash);
    if (typeof hash !== 'string') parsed.set(client.client_id, hash);
  }
  const inFlight = new Map<string, Promise<boolean>>();
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(
    this: { clientId: string },
    actual: string,
  ): Promise<boolean> {
    const started = performance.now();
    const hash = parsed.get(this.clientId);
    if (!hash || typeof actual !== 'string' || credentialTextProblem(actual, MAX_SECRET_BYTES) !== null) {
      await padToFloor(started);
      return false;
    }
    const secret = normalizeCredential(actual);
    const key = verifiedCredentials.keyOf(tenant, 'oidc-client', this.clientId, secret, hash.phc);
    const now = Date.now();
    if (verifiedCredentials.has(key, now)) return true;
    // Identical secrets in flight share one cold check (a client's first burst at a cold cache
    // takes one budget slot, not one each, so it is not refused by its own parallelism).
    let flight = inFlight.get(key);
    if (!flight) {
      flight = coldCheck(secret, hash);
      inFlight.set(key, flight);
      const landed = () => inFlight.delete(key);
      flight.then(landed, landed);
    }
    const matches = await flight;
    if (matches) {
      verifiedCredentials.remember(key, now, CACHE_TTL_MS);
      return true;
    }
    await padToFloor(started);
    return false;
  } as never;
}
