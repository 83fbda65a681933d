/**
 * The token service of one loaded config: signs a tenant's tokens with the newest key of that
 * tenant (tenant-keys.ts) and verifies with jose against that tenant's keys only, so a token
 * signed for one tenant is refused by every other, whatever its claims say. Verification pins
 * everything: the algorithms of the tenant's keys, its issuer and audience, the token type (`at+jwt` or `refresh+jwt`), the tenant, and a header
 * of exactly alg, typ and kid, so a token cannot point us at a key of its own (jku, jwk,
 * x5u, x5c) nor pass as the other type. Every way a token can be bad is TOKEN_INVALID.
 */
import { errors, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { isHighS, lowS } from './low-s.js';
import { fault, refuse } from '../errors.js';
import { KID_PATTERN, type KeySet, type SigningKey } from './key-store.js';

export type TokenType = 'access' | 'refresh';

/** RFC 9068 for access tokens; our own type for refresh tokens, so neither passes as the other. */
const TOKEN_TYP: Readonly<Record<TokenType, string>> = { access: 'at+jwt', refresh: 'refresh+jwt' };

/** Longer than any token we mint (about 1 KiB with custom claims): parse nothing larger. */
export const MAX_TOKEN_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ALLOWED_HEADER = new Set(['alg', 'typ', 'kid']);

export interface TokenSettings {
  /** The iss of tenants without an issuer of their own. */
  readonly issuer: string;
  /** Per-tenant issuers (the tenants of the OpenID Connect front door): iss and refresh aud. */
  readonly issuers?: ReadonlyMap<string, string>;
  /** The aud of access tokens of tenants without an audience of their own. */
  readonly audience: string;
  /** Per-tenant audiences (`tokens.audiences`). */
  readonly audiences?: ReadonlyMap<string, string>;
  /** Seconds of clock skew forgiven on exp, nbf and iat. */
  readonly clockTolerance: number;
}

export interface VerifyExpectations {
  readonly type: TokenType;
  /** The calling tenant: a token of another tenant is refused. */
  readonly tenant: string;
  /** Overrides the tenant's audience (access tokens only; refresh tokens are for the issuer). */
  readonly audience?: string;
  readonly now: number;
  /** The request property the token came from, named in erroneousProperties. */
  readonly property: string;
}

export type Claims = JWTPayload & { sub: string; jti: string; tenant: string; iat: number; exp: number };

/** Our headers start {"alg":"ES256" (base64url of a fixed prefix); others are checked by jose as usual. */
const ES256_HEADER_START = Buffer.from('{"alg":"ES256"').toString('base64url').slice(0, 18);

/** A refusal raised inside verification (our own checks), mapped to TOKEN_INVALID like jose's. */
class Rejected extends Error {}

type KeyResolver = (header: JWTHeaderParameters) => SigningKey['publicKey'];

/** One tenant's keys, with what signing and verification derive from them once per load. */
interface TenantSigning {
  readonly keys: KeySet;
  readonly headers: Readonly<Record<TokenType, string>>;
  readonly resolveKey: KeyResolver;
}

function tenantSigning(keys: KeySet): TenantSigning {
  const { signing } = keys;
  const header = (typ: string) => Buffer.from(JSON.stringify({ alg: signing.alg, typ, kid: signing.kid })).toString('base64url');
  return {
    keys,
    headers: { access: header(TOKEN_TYP.access), refresh: header(TOKEN_TYP.refresh) },
    resolveKey: (h) => {
      for (const name of Object.keys(h)) if (!ALLOWED_HEADER.has(name)) throw new Rejected(`header parameter "${name}" is not accepted`);
      if (typeof h.kid !== 'string' || !KID_PATTERN.test(h.kid)) throw new Rejected('kid missing or malformed');
      const key = keys.byKid.get(h.kid);
      if (!key) throw new Rejected('unknown kid (not a key of this tenant)');
      if (key.alg !== h.alg) throw new Rejected(`alg ${String(h.alg)} does not match key ${key.kid} (${key.alg})`);
      return key.publicKey;
    },
  };
}

export class TokenService {
  private readonly tenants: ReadonlyMap<string, TenantSigning>;
  /** Every tenant's public keys, each kid once: `/.well-known/jwks.json`. */
  readonly jwks: string;
  /** The next time a published key of any tenant becomes a signing key (ms), if one is waiting. */
  readonly nextActivation: number | undefined;

  constructor(
    keys: ReadonlyMap<string, KeySet>,
    readonly settings: TokenSettings,
  ) {
    this.tenants = new Map([...keys].map(([tenant, set]) => [tenant, tenantSigning(set)]));
    const published = new Map<string, Readonly<Record<string, string>>>();
    for (const set of keys.values()) for (const k of set.keys) if (!published.has(k.kid)) published.set(k.kid, k.publicJwk);
    this.jwks = JSON.stringify({ keys: [...published.values()] });
    const waiting = [...keys.values()].map((set) => set.nextActivation).filter((at): at is number => at !== undefined);
    this.nextActivation = waiting.length > 0 ? Math.min(...waiting) : undefined;
  }

  /** The tenants with keys. */
  get tenantIds(): readonly string[] {
    return [...this.tenants.keys()];
  }

  /** `tenant`'s keys; undefined for a tenant the config does not declare. */
  keysOf(tenant: string): KeySet | undefined {
    return this.tenants.get(tenant)?.keys;
  }

  /** The iss of `tenant`'s tokens: its own issuer when it has one, else the configured one. */
  issuerOf(tenant: string): string {
    return this.settings.issuers?.get(tenant) ?? this.settings.issuer;
  }

  /** The aud of `tenant`'s access tokens: its own audience when it has one, else the configured one. */
  audienceOf(tenant: string): string {
    return this.settings.audiences?.get(tenant) ?? this.settings.audience;
  }

  /**
   * A compact JWS of `claims` with `tenant`'s newest key: one JSON.stringify and one signature. The
   * signature (about 50 µs for ES256, the largest single cost of a login) is made off the event
   * loop, in parallel with its other calls (signing threads for ES256 and EdDSA, libuv's pool
   * for RSA; algorithms.ts): measured on the hand-written till-login server, 4.9k req/s
   * signing in line against 8.1k on the pool (2 cores). Password hashes never take those
   * threads (they run on their own, credentials/hash-threads.ts), so a signature never queues
   * behind them.
   */
  sign(type: TokenType, tenant: string, claims: Readonly<Record<string, unknown>>): Promise<string> {
    // Not an async function: the signature's own promise is the only wait (a token is minted
    // on every login, and each async layer costs a resumption on the event loop).
    try {
      const own = this.tenants.get(tenant);
      if (!own) throw fault('INTERNAL_ERROR', { detail: `no signing keys for tenant ${tenant}` });
      const input = `${own.headers[type]}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      const { signing } = own.keys;
      const es256 = signing.alg === 'ES256';
      // The signing input is base64url and dots, all ASCII: the signer takes its latin1 bytes.
      return signing.signer.later(input).then((signature) => `${input}.${(es256 ? lowS(signature) : signature).toString('base64url')}`);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  async verify(token: string, expect: VerifyExpectations): Promise<Claims> {
    const invalid = (detail: string, cause?: unknown) =>
      refuse('TOKEN_INVALID', { erroneousProperties: [expect.property], detail: `${expect.type} token: ${detail}`, cause });
    if (token.length > MAX_TOKEN_LENGTH) throw invalid(`longer than ${MAX_TOKEN_LENGTH} characters`);
    if (!COMPACT_JWS.test(token)) throw invalid('not a compact JWS of three base64url segments');
    // Base64url decoders ignore the spare bits of the last character, so one signature has
    // several spellings; accept only the canonical one, so that a token has one string.
    const signature = token.slice(token.lastIndexOf('.') + 1);
    const signatureBytes = Buffer.from(signature, 'base64url');
    if (signatureBytes.toString('base64url') !== signature) throw invalid('signature is not canonical base64url');
    // The high-S twin of an ES256 signature is refused whoever signed it (low-s.ts).
    if (isHighS(signatureBytes) && token.startsWith(ES256_HEADER_START))
      throw invalid('ES256 signature in its high-S form (not canonical)');
    const { clockTolerance } = this.settings;
    const own = this.tenants.get(expect.tenant);
    if (!own) throw invalid('no keys for this tenant');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, own.resolveKey, {
        algorithms: [...own.keys.algorithms],
        issuer: this.issuerOf(expect.tenant),
        audience: expect.type === 'refresh' ? this.issuerOf(expect.tenant) : (expect.audience ?? this.audienceOf(expect.tenant)),
        typ: TOKEN_TYP[expect.type],
        clockTolerance,
        currentDate: new Date(expect.now),
        requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti', 'tenant', ...(expect.type === 'refresh' ? ['sid'] : [])],
      }));
    } catch (err) {
      if (err instanceof errors.JOSEError) throw invalid(`${err.code}: ${err.message}`, err);
      if (err instanceof Rejected) throw invalid(err.message, err);
      throw err;
    }
    if (typeof payload.iat !== 'number' || payload.iat > expect.now / 1000 + clockTolerance) throw invalid('iat in the future');
    if (typeof payload.sub !== 'string' || payload.sub === '') throw invalid('sub is not a string');
    if (typeof payload.jti !== 'string' || payload.jti === '') throw invalid('jti is not a string');
    if (payload.tenant !== expect.tenant) throw invalid('issued to another tenant');
    if (payload.sid !== undefined && typeof payload.sid !== 'string') throw invalid('sid is not a string');
    return payload as Claims;
  }
}
