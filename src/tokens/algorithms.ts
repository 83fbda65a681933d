/**
 * The signing algorithm allow-list and what each needs from a key. Only asymmetric
 * algorithms: the public half is published, so an HMAC "keyed" with it would be forgeable,
 * and `none` signs nothing. Keys of any other type are refused at load.
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  type SignKeyObjectInput,
} from 'node:crypto';

import { signOnPool, signThread } from './sign-thread.js';

export const ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/**
 * What every key set holds a signing key of, besides `tokens.algorithm`: RS256 (OpenID Connect
 * Discovery section 3: an OP MUST support it for id_tokens, and most relying parties expect
 * it) and ES256 (our default, and the other id_token algorithm a client may choose).
 */
export function requiredAlgorithms(configured: Algorithm): Algorithm[] {
  return [...new Set<Algorithm>([configured, 'RS256', 'ES256'])];
}

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value);
}

/** RSA keys below this are refused (RFC 7518 section 3.3 minimum). */
const MIN_RSA_BITS = 2048;
/**
 * Generated RSA keys: 2048 bits, what relying parties expect of an RS256 issuer (and NIST allows
 * through 2030). Every tenant gets one at first start, and a 3072-bit key takes about 0.4 s to
 * generate here against 0.15 s; a longer key can be put in the folder by hand.
 */
const NEW_RSA_BITS = 2048;

/**
 * A new key pair. The generator hands the private key back encoded (PKCS#8 DER), and it is
 * imported anew: a key object straight from node's generator shares its lock with the
 * generator's job, and node 20 deadlocks when a collection during an export of that key (to
 * JWK, as a new key file is written) destroys the job, whose destructor takes the same lock.
 * Seen as a first start that never listened, its main thread waiting in ~KeyGenJob under
 * ExportJWKRsaKey; a loop of EC keys exported to JWK with a small young generation hangs within
 * a few thousand keys (test/tokens/key-generation.test.ts).
 */
export function generateKeyPair(alg: Algorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  const publicKeyEncoding = { type: 'spki', format: 'der' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'der' } as const;
  let der: Buffer;
  switch (alg) {
    case 'ES256':
      der = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding }).privateKey;
      break;
    case 'EdDSA':
      der = generateKeyPairSync('ed25519', { publicKeyEncoding, privateKeyEncoding }).privateKey;
      break;
    case 'RS256':
    case 'PS256':
      der = generateKeyPairSync('rsa', { modulusLength: NEW_RSA_BITS, publicKeyEncoding, privateKeyEncoding }).privateKey;
      break;
  }
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Why `key` cannot sign with `alg`, or null when it can. */
export function keyMismatch(alg: Algorithm, key: KeyObject): string | null {
  const details = key.asymmetricKeyDetails ?? {};
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1' ? null : 'ES256 needs an EC key on P-256';
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519' ? null : 'EdDSA needs an Ed25519 key';
    case 'RS256':
    case 'PS256':
      if (key.asymmetricKeyType !== 'rsa') return `${alg} needs an RSA key`;
      return (details.modulusLength ?? 0) >= MIN_RSA_BITS ? null : `${alg} needs an RSA modulus of at least ${MIN_RSA_BITS} bits`;
  }
}

/** Signs with one key off the event loop. */
export interface Signer {
  /** The signature of an ASCII signing input (its latin1 bytes). */
  later(input: string): Promise<Buffer>;
}

/**
 * A signer bound to one key: what node:crypto needs for the JWS signature of `alg`. ES256 and
 * EdDSA sign on the batching signing thread (sign-thread.ts); RSA, a thousand times slower a
 * signature, on libuv's thread pool, several at once.
 */
export function signerFor(alg: Algorithm, privateKey: KeyObject): Signer {
  const options = signOptions(alg, privateKey);
  const digest = alg === 'EdDSA' ? null : 'sha256';
  if (alg === 'ES256' || alg === 'EdDSA') {
    const key = signThread.key(digest, options);
    return { later: (input) => signThread.sign(key, input) };
  }
  return { later: (input) => new Promise((resolve, reject) => signOnPool(digest, input, options, { resolve, reject })) };
}

function signOptions(alg: Algorithm, privateKey: KeyObject): KeyObject | SignKeyObjectInput {
  switch (alg) {
    case 'ES256':
      // JWS wants the raw r||s form (RFC 7518 section 3.4), not DER.
      return { key: privateKey, dsaEncoding: 'ieee-p1363' };
    case 'EdDSA':
    case 'RS256':
      return privateKey;
    case 'PS256':
      // RFC 7518 section 3.5: MGF1 with SHA-256 and a salt as long as the hash.
      return { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  }
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): a kid derived from the public key itself. */
export function thumbprint(jwk: JsonWebKey): string {
  const required: Record<string, readonly string[]> = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] };
  const members = required[jwk.kty as string];
  if (!members) throw new Error(`no thumbprint for key type ${String(jwk.kty)}`);
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}
