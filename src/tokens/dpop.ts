/**
 * DPoP (RFC 9449) at the PUT door: an access token bound to a key (`cnf.jkt`, as the OpenID
 * front door issues to clients with `dpop_bound_access_tokens`) is accepted only with a proof
 * of that key for this very request, so a stolen token alone is worth nothing:
 * - `Authorization: DPoP <token>` (a bound token sent as Bearer is a downgrade, §7.1), and one
 *   `DPoP` header holding a JWT of type `dpop+jwt`, signed with an asymmetric algorithm by the
 *   public key in its own header, whose RFC 7638 thumbprint is the token's `cnf.jkt`;
 * - `htm` PUT and `htu` this request's URL: the Host header's host and the path
 *   `/api/authentication/<operation>`, without query or fragment (the scheme is not compared:
 *   TLS may end at a proxy);
 * - `iat` within a minute (and the token service's clock tolerance) of now, a `jti` never seen
 *   in that window (one store write), and `ath` the hash of the token.
 * Every failure is DPOP_INVALID, naming the `dpop` header (or `authorization` for the scheme).
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { refuse } from '../errors.js';
import type { Store } from '../store/store.js';

/** RFC 9449 §4.2: asymmetric only; the algorithms the provider accepts for proofs. */
const PROOF_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'];
/** Seconds a proof is fresh around its `iat`; its jti is remembered that long either side. */
const FRESH_SECONDS = 60;
const MAX_PROOF_CHARS = 8192;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

export interface DpopRequest {
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly operation: string;
  /** The access token as sent, and the scheme it came with. */
  readonly token: string;
  readonly scheme: 'bearer' | 'dpop';
  /** The token's `cnf.jkt`. */
  readonly jkt: string;
  readonly store: Store;
  readonly nowMs: number;
  readonly clockToleranceSeconds: number;
}

const invalid = (detail: string, property = 'dpop') => refuse('DPOP_INVALID', { erroneousProperties: [property], detail });

export async function checkDpopProof(request: DpopRequest): Promise<void> {
  if (request.scheme !== 'dpop') throw invalid('a DPoP-bound access token must be sent with the DPoP scheme', 'authorization');
  const proofs = request.headers.dpop;
  if (!proofs || proofs.length !== 1) throw invalid(proofs ? 'DPoP header doubled' : 'no DPoP proof');
  const proof = proofs[0] as string;
  if (proof.length > MAX_PROOF_CHARS) throw invalid('DPoP proof too long');
  let payload: Record<string, unknown>;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: PROOF_ALGORITHMS });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk as JWK;
  } catch (err) {
    throw invalid(`DPoP proof: ${(err as Error).message}`);
  }
  if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(jwk, m))) throw invalid('DPoP proof carries a private key');
  if (payload.htm !== 'PUT') throw invalid('DPoP proof: htm is not PUT');
  if (!htuMatches(payload.htu, request.headers.host?.[0], request.operation)) throw invalid('DPoP proof: htu is not this request');
  const now = request.nowMs / 1000;
  const window = FRESH_SECONDS + request.clockToleranceSeconds;
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > window)
    throw invalid('DPoP proof: iat is not within a minute of now');
  const ath = createHash('sha256').update(request.token).digest('base64url');
  if (payload.ath !== ath) throw invalid('DPoP proof: ath is not the hash of this access token');
  if ((await calculateJwkThumbprint(jwk, 'sha256')) !== request.jkt)
    throw invalid('DPoP proof: not signed by the key the token is bound to');
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) throw invalid('DPoP proof: no usable jti');
  // Once per key and jti while the proof could be fresh: a replayed proof finds its mark.
  const first = await request.store.compareAndSet(`dpop-jti:${request.jkt}:${payload.jti}`, null, '1', 2 * window * 1000);
  if (!first) throw invalid('DPoP proof replayed');
}

function htuMatches(htu: unknown, host: string | undefined, operation: string): boolean {
  if (typeof htu !== 'string' || host === undefined) return false;
  let url: URL;
  try {
    url = new URL(htu);
  } catch {
    return false;
  }
  if (url.search !== '' || url.hash !== '' || (url.protocol !== 'https:' && url.protocol !== 'http:')) return false;
  const expected = `/api/authentication/${operation}`;
  return url.host === new URL(`http://${host}`).host && (url.pathname === expected || url.pathname === `${expected}/`);
}
