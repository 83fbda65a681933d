/**
 * PHC strings (https://github.com/P-H-C/phc-string-format) for the three hash families the
 * directory accepts: scrypt (ours), argon2id and bcrypt (imported from other systems).
 * Parsing happens at directory load, so a malformed hash or absurd cost parameters fail the
 * load with a pointer instead of failing (or stalling) a login later.
 */

export interface ScryptHash {
  readonly algorithm: 'scrypt';
  /** log2 of the CPU/memory cost N. */
  readonly ln: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly digest: Buffer;
}

export interface Argon2idHash {
  readonly algorithm: 'argon2id';
  /** Memory in KiB, iterations, lanes. */
  readonly m: number;
  readonly t: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly digest: Buffer;
}

interface BcryptHash {
  readonly algorithm: 'bcrypt';
  readonly variant: '2a' | '2b' | '2y';
  readonly cost: number;
}

export type ParsedHash = (ScryptHash | Argon2idHash | BcryptHash) & { readonly phc: string };

/** PHC's B64: standard alphabet, no padding. */
const B64 = '[A-Za-z0-9+/]+';
const SCRYPT = new RegExp(`^\\$scrypt\\$ln=(\\d{1,2}),r=(\\d{1,3}),p=(\\d{1,3})\\$(${B64})\\$(${B64})$`);
const ARGON2ID = new RegExp(`^\\$argon2id\\$v=19\\$m=(\\d{1,8}),t=(\\d{1,3}),p=(\\d{1,3})\\$(${B64})\\$(${B64})$`);
const BCRYPT = /^\$(2[aby])\$(\d\d)\$[./A-Za-z0-9]{53}$/;
export const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Upper bounds keep a hostile or mistyped directory entry from costing seconds per login. */
const LIMITS = {
  scrypt: { ln: [10, 20], r: [1, 32], p: [1, 16], maxMemoryBytes: 1024 ** 3 },
  argon2id: { m: [8, 1024 * 1024], t: [1, 20], p: [1, 16] },
  bcrypt: { cost: [4, 15] },
  saltBytes: [8, 64],
  digestBytes: [16, 64],
} as const;

/** The parsed hash, or a message saying what is wrong with it. */
export function parsePhc(phc: string): ParsedHash | string {
  if (phc.startsWith('$scrypt$')) return parseScrypt(phc);
  if (phc.startsWith('$argon2id$')) return parseArgon2id(phc);
  if (/^\$2[aby]\$/.test(phc)) return parseBcrypt(phc);
  if (/^\$argon2(i|d)\$/.test(phc)) return 'argon2i and argon2d hashes are not accepted; expected argon2id';
  return 'not a supported PHC string; expected $scrypt$ln=…,r=…,p=…$salt$hash, $argon2id$v=19$m=…,t=…,p=…$salt$hash or a bcrypt $2b$ hash';
}

function parseScrypt(phc: string): ParsedHash | string {
  const m = SCRYPT.exec(phc);
  if (!m) return 'malformed scrypt hash; expected $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt b64>$<hash b64>';
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const range = outOfRange({ ln, r, p }, LIMITS.scrypt);
  if (range) return `scrypt ${range}`;
  if (128 * 2 ** ln * r > LIMITS.scrypt.maxMemoryBytes) return 'scrypt parameters need more than 1 GiB of memory';
  const bytes = saltAndDigest(m[4] as string, m[5] as string);
  if (typeof bytes === 'string') return `scrypt ${bytes}`;
  return { algorithm: 'scrypt', ln, r, p, ...bytes, phc };
}

function parseArgon2id(phc: string): ParsedHash | string {
  const m = ARGON2ID.exec(phc);
  if (!m) return 'malformed argon2id hash; expected $argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt b64>$<hash b64>';
  const [mem, t, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const range = outOfRange({ m: mem, t, p }, LIMITS.argon2id);
  if (range) return `argon2id ${range}`;
  if (mem < 8 * p) return 'argon2id memory m must be at least 8 KiB per lane';
  const bytes = saltAndDigest(m[4] as string, m[5] as string);
  if (typeof bytes === 'string') return `argon2id ${bytes}`;
  return { algorithm: 'argon2id', m: mem, t, p, ...bytes, phc };
}

function parseBcrypt(phc: string): ParsedHash | string {
  const m = BCRYPT.exec(phc);
  if (!m) return 'malformed bcrypt hash; expected $2b$<cost>$ and 53 characters of [./A-Za-z0-9]';
  const cost = Number(m[2]);
  const range = outOfRange({ cost }, LIMITS.bcrypt);
  if (range) return `bcrypt ${range}`;
  // 22 characters carry a 128-bit salt and 31 a 184-bit hash: the spare low bits of each
  // last character must be zero, or bcrypt libraries refuse the hash without hashing.
  if (BCRYPT_ALPHABET.indexOf(phc.charAt(28)) % 16 !== 0 || BCRYPT_ALPHABET.indexOf(phc.charAt(59)) % 4 !== 0) {
    return 'bcrypt salt or hash is not canonical (stray low bits in its last character)';
  }
  return { algorithm: 'bcrypt', variant: m[1] as '2a' | '2b' | '2y', cost, phc };
}

function outOfRange(values: Record<string, number>, limits: Record<string, unknown>): string | null {
  for (const [name, value] of Object.entries(values)) {
    const [min, max] = limits[name] as readonly [number, number];
    if (value < min || value > max) return `parameter ${name}=${value} is outside ${min}..${max}`;
  }
  return null;
}

function saltAndDigest(salt64: string, digest64: string): { salt: Buffer; digest: Buffer } | string {
  const salt = decodeB64(salt64);
  const digest = decodeB64(digest64);
  if (!salt || !digest) return 'salt or hash is not canonical unpadded base64';
  const [sMin, sMax] = LIMITS.saltBytes;
  const [dMin, dMax] = LIMITS.digestBytes;
  if (salt.length < sMin || salt.length > sMax) return `salt must be ${sMin}..${sMax} bytes, found ${salt.length}`;
  if (digest.length < dMin || digest.length > dMax) return `hash must be ${dMin}..${dMax} bytes, found ${digest.length}`;
  return { salt, digest };
}

/** Unpadded standard base64, refusing encodings that do not round-trip (stray low bits). */
function decodeB64(text: string): Buffer | null {
  if (text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64');
  return encodeB64(bytes) === text ? bytes : null;
}

function encodeB64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

export function formatScrypt(h: Omit<ScryptHash, 'algorithm'>): string {
  return `$scrypt$ln=${h.ln},r=${h.r},p=${h.p}$${encodeB64(h.salt)}$${encodeB64(h.digest)}`;
}

export function formatArgon2id(h: Omit<Argon2idHash, 'algorithm'>): string {
  return `$argon2id$v=19$m=${h.m},t=${h.t},p=${h.p}$${encodeB64(h.salt)}$${encodeB64(h.digest)}`;
}

/** A description of the cost, for grouping hashes of the same algorithm and cost. */
export function costProfile(h: ParsedHash): string {
  switch (h.algorithm) {
    case 'scrypt':
      return `scrypt:${h.ln}:${h.r}:${h.p}:${h.digest.length}`;
    case 'argon2id':
      return `argon2id:${h.m}:${h.t}:${h.p}:${h.digest.length}`;
    case 'bcrypt':
      return `bcrypt:${h.cost}`;
  }
}
