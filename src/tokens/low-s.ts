/**
 * ECDSA signatures have two valid forms: (r, s) and (r, n − s). A token signed once could be
 * presented under two strings, and anything that remembered tokens by their string would see
 * two tokens. We sign only the low form (s ≤ n/2) and refuse the high one, even under our own
 * keys, so a token has exactly one spelling (the verifier already demands canonical base64url).
 * ES256 (P-256) only: the algorithm our generated keys use; the check is skipped for others.
 */
const P256_N = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
const HALF_N = P256_N >> 1n;

function sOf(signature: Buffer): bigint {
  return BigInt(`0x${signature.subarray(32, 64).toString('hex')}`);
}

/** Whether a raw (IEEE P1363, r ‖ s) ES256 signature is in the high form. */
export function isHighS(signature: Buffer): boolean {
  return signature.length === 64 && sOf(signature) > HALF_N;
}

/** The low form of a raw ES256 signature (itself when already low). */
export function lowS(signature: Buffer): Buffer {
  if (!isHighS(signature)) return signature;
  const s = (P256_N - sOf(signature)).toString(16).padStart(64, '0');
  return Buffer.concat([signature.subarray(0, 32), Buffer.from(s, 'hex')]);
}

/**
 * A compact JWS with its ES256 signature in the low form (itself for other algorithms): for
 * tokens signed by code we do not control (oidc-provider signs its JWT access tokens with its
 * own JOSE library), so that they too have one spelling and pass our verifier.
 */
export function lowSCompact(token: string): string {
  const dot = token.lastIndexOf('.');
  if (dot < 0) return token;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as { alg?: unknown };
    if (header.alg !== 'ES256') return token;
  } catch {
    return token;
  }
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  return isHighS(signature) ? `${token.slice(0, dot + 1)}${lowS(signature).toString('base64url')}` : token;
}
