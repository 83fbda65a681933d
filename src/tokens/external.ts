/**
 * Outside tokens: a JWT from an issuer the operator configured in `external_issuers` of the
 * main file (an upstream OpenID provider's ID token, a partner's access token), verified with
 * jose. Its keys come from the issuer's JWKS (named, or found by OpenID discovery), fetched
 * through the outbound allowlist only when a call needs them, never at load: the server starts
 * without reaching the issuer. The key set is kept for `jwks_ttl_seconds`; a kid it does not
 * hold refetches it, at most once a minute, so a token with an unknown kid cannot make us
 * hammer the issuer. Every fetch is bounded (`timeout_ms` for discovery and JWKS together, a
 * size cap); a failed one is COMMUNICATION_ERROR (500), a bad token TOKEN_INVALID (403).
 * HS* is possible only with a `shared_secret` the operator gave as a `${env:}`/`${file:}`
 * reference; `none` never.
 */
import http from 'node:http';
import https from 'node:https';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { fault, refuse, type AuthpipeError } from '../errors.js';
import { get } from '../outbound/post.js';
import type { OutboundPolicy } from '../outbound/policy.js';

export const EXTERNAL_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'HS256',
  'HS384',
  'HS512',
] as const;

/** ID tokens with many claims are larger than ours; parse nothing larger than this. */
const MAX_EXTERNAL_TOKEN_LENGTH = 16384;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Headers that would let a token name its own key: refused, whatever jose would do with them. */
const KEY_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'];
/** A kid the cached key set does not hold refetches it no sooner than this after the last fetch. */
const UNKNOWN_KID_REFETCH_MS = 60_000;

/** The iss a token claims, unverified (it only picks which issuer verifies it); undefined when it has none or is no JWT. */
export function unverifiedIssuer(token: string): string | undefined {
  if (token.length > MAX_EXTERNAL_TOKEN_LENGTH) return undefined;
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

export interface ExternalIssuerSettings {
  readonly id: string;
  /** The exact iss of its tokens. */
  readonly issuer: string;
  /** The JWKS URL, or undefined to find it by discovery at `discovery`. */
  readonly jwksUri: URL | undefined;
  readonly discovery: URL | undefined;
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly tenants: ReadonlySet<string>;
  readonly sharedSecret: Uint8Array | undefined;
  readonly clockTolerance: number;
  readonly maxAge: number | undefined;
  readonly requiredClaims: readonly string[];
  readonly jwksTtlMs: number;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

interface KeySetEntry {
  readonly resolve: JWTVerifyGetKey;
  readonly kids: ReadonlySet<unknown>;
  readonly fetchedAt: number;
}

export type ExternalClaims = JWTPayload & { iss: string; sub: string };

export class ExternalIssuer {
  private cached: KeySetEntry | undefined;
  private pending: Promise<KeySetEntry> | undefined;
  private readonly agent: http.Agent;

  constructor(readonly settings: ExternalIssuerSettings) {
    const target = settings.jwksUri ?? settings.discovery;
    // Idle keep-alive sockets are unref'd by node; close() ends them with the config.
    this.agent =
      target?.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 4 })
        : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  close(): void {
    this.agent.destroy();
  }

  /** The verified claims of `token`, or TOKEN_INVALID naming `property`; COMMUNICATION_ERROR when the keys cannot be had. */
  async verify(token: string, now: number, property: string, policy: OutboundPolicy): Promise<ExternalClaims> {
    const { settings } = this;
    const invalid = (detail: string, cause?: unknown) =>
      refuse('TOKEN_INVALID', { erroneousProperties: [property], detail: `external token (${settings.id}): ${detail}`, cause });
    if (token.length > MAX_EXTERNAL_TOKEN_LENGTH) throw invalid(`longer than ${MAX_EXTERNAL_TOKEN_LENGTH} characters`);
    if (!COMPACT_JWS.test(token)) throw invalid('not a compact JWS of three base64url segments');
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch (err) {
      throw invalid('the header is not JSON', err);
    }
    if (typeof header.alg !== 'string' || !settings.algorithms.includes(header.alg))
      throw invalid(`alg ${String(header.alg)} is not allowed`);
    const own = KEY_HEADERS.find((name) => name in header);
    if (own !== undefined) throw invalid(`header parameter "${own}" is not accepted`);
    let key: Uint8Array | JWTVerifyGetKey;
    if (header.alg.startsWith('HS')) {
      // The algorithms of an issuer include HS* only with a shared secret (checked at load).
      key = settings.sharedSecret as Uint8Array;
    } else {
      key = await this.keyResolver(header.kid, now, invalid, policy);
    }
    try {
      const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        issuer: settings.issuer,
        audience: [...settings.audiences],
        algorithms: [...settings.algorithms],
        clockTolerance: settings.clockTolerance,
        currentDate: new Date(now),
        requiredClaims: [...settings.requiredClaims],
        ...(settings.maxAge !== undefined ? { maxTokenAge: settings.maxAge } : {}),
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') throw invalid('sub is not a string');
      if (typeof payload.iat === 'number' && payload.iat > now / 1000 + settings.clockTolerance) throw invalid('iat in the future');
      return payload as ExternalClaims;
    } catch (err) {
      if (err instanceof errors.JOSEError) throw invalid(`${err.code}: ${err.message}`, err);
      throw err;
    }
  }

  /** A key resolver holding `kid` (or the current set, which jose then searches); refetched once a minute at most for an unknown kid. */
  private async keyResolver(
    kid: unknown,
    now: number,
    invalid: (d: string) => AuthpipeError,
    policy: OutboundPolicy,
  ): Promise<JWTVerifyGetKey> {
    // A fetch that seems to come from the future (the clock went back) counts as stale.
    const age = (e: KeySetEntry) => (now < e.fetchedAt ? Infinity : now - e.fetchedAt);
    let entry = this.cached;
    if (entry === undefined || age(entry) >= this.settings.jwksTtlMs) entry = await this.refresh(now, policy);
    if (typeof kid === 'string' && !entry.kids.has(kid) && age(entry) >= UNKNOWN_KID_REFETCH_MS) {
      entry = await this.refresh(now, policy);
    }
    if (typeof kid === 'string' && !entry.kids.has(kid)) throw invalid(`kid ${kid} is not in the issuer's JWKS`);
    return entry.resolve;
  }

  /** One fetch at a time: parallel calls that need the keys wait for the same one. */
  private refresh(now: number, policy: OutboundPolicy): Promise<KeySetEntry> {
    this.pending ??= this.fetchKeys(now, policy).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchKeys(now: number, policy: OutboundPolicy): Promise<KeySetEntry> {
    const deadline = Date.now() + this.settings.timeoutMs;
    let jwksUri = this.settings.jwksUri;
    if (jwksUri === undefined) {
      const discovery = this.settings.discovery as URL;
      const doc = await this.fetchJson(discovery, deadline, policy);
      if (doc.issuer !== this.settings.issuer) throw this.fault(`discovery at ${discovery.href} names issuer ${String(doc.issuer)}`);
      if (typeof doc.jwks_uri !== 'string') throw this.fault(`discovery at ${discovery.href} has no jwks_uri`);
      try {
        jwksUri = new URL(doc.jwks_uri);
      } catch (err) {
        throw this.fault(`discovery at ${discovery.href}: jwks_uri is not a URL`, err);
      }
      const refused = policy.refusal(jwksUri);
      if (refused !== undefined) throw this.fault(`jwks_uri from discovery: ${refused}`);
    }
    const jwks = await this.fetchJson(jwksUri, deadline, policy);
    if (!Array.isArray(jwks.keys)) throw this.fault(`${jwksUri.href} is not a JWK set`);
    let resolve: JWTVerifyGetKey;
    try {
      resolve = createLocalJWKSet(jwks as unknown as JSONWebKeySet);
    } catch (err) {
      throw this.fault(`${jwksUri.href} is not a JWK set`, err);
    }
    const kids = new Set(
      (jwks.keys as unknown[]).map((k) => (k !== null && typeof k === 'object' ? (k as { kid?: unknown }).kid : undefined)),
    );
    const entry = { resolve, kids, fetchedAt: now };
    this.cached = entry;
    return entry;
  }

  private async fetchJson(url: URL, deadline: number, policy: OutboundPolicy): Promise<Record<string, unknown>> {
    const timeoutMs = Math.max(1, deadline - Date.now());
    let answer;
    try {
      answer = await get(url, {
        headers: { accept: 'application/json' },
        agent: this.agent,
        policy,
        timeoutMs,
        maxBytes: this.settings.maxBytes,
      });
    } catch (err) {
      throw this.fault(`${url.href}: ${(err as Error).message}`, err);
    }
    if (answer.status !== 200) throw this.fault(`${url.href} answered HTTP ${answer.status}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.body.toString('utf8'));
    } catch (err) {
      throw this.fault(`${url.href} did not answer JSON`, err);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw this.fault(`${url.href} did not answer a JSON object`);
    return parsed as Record<string, unknown>;
  }

  private fault(detail: string, cause?: unknown): AuthpipeError {
    return fault('COMMUNICATION_ERROR', { detail: `external issuer ${this.settings.id}: ${detail}`, cause });
  }
}
