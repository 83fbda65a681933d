/**
 * Password hashing and verification. New hashes are scrypt (node:crypto); argon2id and
 * bcrypt hashes imported from other systems verify through @node-rs/argon2 and
 * @node-rs/bcrypt (Rust implementations). Every hash runs on the low-priority hash threads
 * (hash-threads.ts), off the event loop, and is compared there: our own comparison is
 * constant time; the two libraries compare in constant time themselves.
 *
 * `dummyLike` makes a hash with the same algorithm and cost as a real one but a random
 * salt and digest: verifying an unknown user against it costs what a known user costs.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { hashThreads, type HashThreads, type RefusalPad, type ScryptOptions, type Verified, type VerifyTarget } from './hash-threads.js';
import { BCRYPT_ALPHABET, formatArgon2id, formatScrypt, parsePhc, type ParsedHash } from './phc.js';

/** N = 2^15, r = 8, p = 1: 32 MiB and about 100 ms per hash on the 2-core reference machine. */
export const DEFAULT_SCRYPT = { ln: 15, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

export type ScryptParams = { ln: number; r: number; p: number; saltBytes?: number; keyBytes?: number };

async function scrypt(
  password: Buffer,
  salt: Buffer,
  keylen: number,
  options: ScryptOptions,
  threads: HashThreads = hashThreads,
): Promise<Buffer> {
  const key = await threads.run({ op: 'scrypt', password, salt, keylen, options });
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

function scryptOptions(ln: number, r: number, p: number): ScryptOptions {
  const N = 2 ** ln;
  // node refuses when 128·N·r exceeds maxmem (default 32 MiB); allow what the parameters need.
  return { N, r, p, maxmem: 128 * N * r + 128 * r * p + 1024 * 1024 };
}

/** A new PHC scrypt hash of an already normalised password. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(params.saltBytes ?? DEFAULT_SCRYPT.saltBytes);
  const digest = await scrypt(
    Buffer.from(password, 'utf8'),
    salt,
    params.keyBytes ?? DEFAULT_SCRYPT.keyBytes,
    scryptOptions(params.ln, params.r, params.p),
  );
  const phc = formatScrypt({ ln: params.ln, r: params.r, p: params.p, salt, digest });
  const parsed = parsePhc(phc);
  if (typeof parsed === 'string') throw new Error(`hash parameters refused: ${parsed}`);
  return phc;
}

/** The job's view of a password checked against a parsed hash. */
function verifyTarget(password: string, hash: ParsedHash): VerifyTarget {
  switch (hash.algorithm) {
    case 'scrypt':
      return {
        algorithm: 'scrypt',
        password: Buffer.from(password, 'utf8'),
        salt: hash.salt,
        digest: hash.digest,
        options: scryptOptions(hash.ln, hash.r, hash.p),
      };
    case 'argon2id':
    case 'bcrypt':
      return { algorithm: hash.algorithm, phc: hash.phc, password };
  }
}

/**
 * Verifies on a hash thread, which then does the refusal work `pad` asks for when the answer
 * refuses (see RefusalPad). Costs one full verification whatever the answer; the comparison
 * is constant time.
 */
export function verifyAndPad(
  password: string,
  hash: ParsedHash,
  pad: RefusalPad | null,
  threads: HashThreads = hashThreads,
): Promise<Verified> {
  return threads.run({ op: 'verify', target: verifyTarget(password, hash), pad });
}

/** Whether `password` matches the parsed hash. Costs one full verification whatever the answer. */
export async function verifyPassword(password: string, hash: ParsedHash, threads: HashThreads = hashThreads): Promise<boolean> {
  return (await verifyAndPad(password, hash, null, threads)).matches;
}

/** Same algorithm and cost as `model`, random salt and digest: matches no password. */
export function dummyLike(model: ParsedHash): ParsedHash {
  let phc: string;
  switch (model.algorithm) {
    case 'scrypt':
      phc = formatScrypt({ ...model, salt: randomBytes(model.salt.length), digest: randomBytes(model.digest.length) });
      break;
    case 'argon2id':
      phc = formatArgon2id({ ...model, salt: randomBytes(model.salt.length), digest: randomBytes(model.digest.length) });
      break;
    case 'bcrypt':
      // The last character of the salt and of the digest carry spare bits that must be zero.
      phc = `$${model.variant}$${String(model.cost).padStart(2, '0')}$${bcryptChars(22, 16)}${bcryptChars(31, 4)}`;
      break;
  }
  const parsed = parsePhc(phc);
  if (typeof parsed === 'string') throw new Error(`dummy hash refused: ${parsed}`);
  return parsed;
}

function bcryptChars(length: number, lastStep: number): string {
  let out = '';
  for (let i = 0; i < length - 1; i++) out += BCRYPT_ALPHABET.charAt(randomInt(64));
  return out + BCRYPT_ALPHABET.charAt(randomInt(64 / lastStep) * lastStep);
}

let defaultDummy: ParsedHash | undefined;

/** A dummy at the default scrypt cost, for tenants with no hash of the kind asked. */
export function defaultDummyHash(): ParsedHash {
  if (!defaultDummy) {
    const { ln, r, p, saltBytes, keyBytes } = DEFAULT_SCRYPT;
    defaultDummy = dummyLike({ algorithm: 'scrypt', ln, r, p, salt: Buffer.alloc(saltBytes), digest: Buffer.alloc(keyBytes), phc: '' });
  }
  return defaultDummy;
}
