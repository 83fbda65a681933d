/**
 * ECDSA signatures have two valid forms: (r, s) and (r, n − s). A token signed once could be
 * presented under two strings, and anything that remembered tokens by their string would see
 * two tokens. We sign only the low form (s ≤ n/2) and refuse the high one, even under our own
 * keys, so a token has exactly one spelling (the verifier already demands canonical base64url).
 * ES256 (P-256) only: the algorithm our generated keys use; the check is skipped for others.
 */
const P256_N = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');
/** n/2 as 32 big-endian bytes: s > n/2 is a byte comparison. */
const HALF_N_BYTES = Buffer.from('7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8', 'hex');

/** Whether a raw (IEEE P1363, r ‖ s) ES256 signature is in the high form. */
export function isHighS(signature: Buffer): boolean {
  return signature.length === 64 && signature.compare(HALF_N_BYTES, 0, 32, 32, 64) > 0;
}

/**
 * The low form of a raw ES256 signature (itself when already low): r ‖ (n − s), the
 * subtraction done on the 32 big-endian bytes (half of all signatures take this path: a
 * BigInt through hex strings cost more than the rest of the token's claims work).
 */
export function lowS(signature: Buffer): Buffer {
  if (!isHighS(signature)) return signature;
  const out = Buffer.allocUnsafe(64);
  signature.copy(out, 0, 0, 32);
  let borrow = 0;
  for (let i = 31; i >= 0; i--) {
    const d = (P256_N[i] as number) - (signature[32 + i] as number) - borrow;
    borrow = d < 0 ? 1 : 0;
    out[32 + i] = d & 0xff;
  }
  return out;
}

/**
 * A compact JWS with its ES256 signature in the low form (itself for other algorithms): for
 * tokens signed by code we do not control (oidc-provider signs its JWT access tokens with its
 * own JOSE library), so that they too have one spelling and pass our verifier.
 */
export function lowSCompact(token: string): string {
  const dot = token.lastIndexOf('.');
  if (dot < 0 || !isES256Header(token.slice(0, token.indexOf('.')))) return token;
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  return isHighS(signature) ? `${token.slice(0, dot + 1)}${lowS(signature).toString('base64url')}` : token;
}

// A provider signs with a handful of headers (one per key and token type): each is parsed once.
const headerIsES256 = new Map<string, boolean>();
const HEADERS_REMEMBERED = 64;

function isES256Header(segment: string): boolean {
  let known = headerIsES256.get(segment);
  if (known === undefined) {
    try {
      known = (JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as { alg?: unknown }).alg === 'ES256';
    } catch {
      known = false;
    }
    if (headerIsES256.size >= HEADERS_REMEMBERED) headerIsES256.clear();
    headerIsES256.set(segment, known);
  }
  return known;
}
