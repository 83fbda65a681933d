/**
 * The signing keys: one private JWK per file in a folder outside git. The newest active key
 * of each algorithm signs what is signed with that algorithm (the configured one for our own
 * tokens, a client's choice for id_tokens); every key in the folder is published in the JWKS and accepted by verification until
 * its file is removed, so rotation never breaks a token already out. A key written by
 * `keys rotate` carries `activate_at`: it is published at once but signs only from then on,
 * so relying parties holding a cached JWKS have fetched it before they meet a token it signed. Keys are imported once per
 * load into KeyObjects; nothing is parsed per token.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { makeFolderSync } from '../config-kit/make-folder.js';
import { join } from 'node:path';
import type { ConfigIssue } from '../config-kit/issues.js';
import type { ConfigIssueCode } from '../errors.js';
import { generateKeyPair, isAlgorithm, keyMismatch, signerFor, thumbprint, ALGORITHMS, type Algorithm, type Signer } from './algorithms.js';

/**
 * Seconds relying parties may cache the JWKS (`Cache-Control: public, max-age=…` on
 * `/.well-known/jwks.json` and `<issuer>/jwks`): a key signs no sooner than that after it is published.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/** What a kid may look like, here and in a token header: no path, quote or SQL characters. */
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_KEY_FILE_BYTES = 64 * 1024;
/** Members of our key files that are ours, not the key's. */
const META_MEMBERS = new Set(['kid', 'alg', 'use', 'key_ops', 'created', 'activate_at']);

export interface SigningKey {
  readonly kid: string;
  readonly alg: Algorithm;
  /** Creation time (ms): the newest active key signs. */
  readonly created: number;
  /** When the key may start signing (ms); its creation when the file names no `activate_at`. */
  readonly activeFrom: number;
  readonly file: string;
  readonly publicKey: KeyObject;
  /** The private key, for oidc-provider's keystore (which signs its own tokens with our keys). */
  readonly privateKey: KeyObject;
  /** The published form: public members plus kid, alg, use. */
  readonly publicJwk: Readonly<Record<string, string>>;
  readonly signer: Signer;
}

export interface KeySet {
  /** Newest first. */
  readonly keys: readonly SigningKey[];
  /** The key of the configured algorithm that signs (our own tokens). */
  readonly signing: SigningKey;
  /** The signing key of each algorithm the set holds (id_tokens and access tokens in a client's choice). */
  readonly signers: ReadonlyMap<Algorithm, SigningKey>;
  readonly byKid: ReadonlyMap<string, SigningKey>;
  /** The algorithms of the loaded keys: all that verification accepts. */
  readonly algorithms: readonly Algorithm[];
  /** The JWKS document, serialised once. */
  readonly jwks: string;
  /** The next time a published key becomes the signing key (ms), if one is waiting. */
  readonly nextActivation: number | undefined;
}

export interface KeyDirOptions {
  dir: string;
  /** The algorithms the set must hold a key of, the configured one (which signs our tokens) first. */
  algorithms: readonly Algorithm[];
  /**
   * What a folder without a key of one of those algorithms gets: `write` a first key (serve), a
   * key in `memory` only (validate writes nothing), or `nothing` (listing).
   */
  onEmpty: 'write' | 'memory' | 'nothing';
  /**
   * Keys from elsewhere that belong to the set as if in the folder: the shared keys of an install
   * from before per-tenant keys. A key generated for an algorithm they hold activates only after
   * `activationDelayMs`, so the shared key signs until relying parties have the new one.
   */
  shared?: readonly SigningKey[];
  activationDelayMs?: number;
  now: number;
  /** The main file and pointer of keys_dir, for issues about the folder itself. */
  configFile: string;
  pointer: string;
}

/**
 * Generates a key and writes it as `<kid>.json`, mode 0600, never over an existing file. With
 * `activateAt`, the key is published at once and signs from then on.
 */
export function writeNewKey(dir: string, alg: Algorithm, now: number, activateAt?: number): SigningKey {
  const { privateKey } = generateKeyPair(alg);
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = thumbprint(jwk);
  const file = join(dir, `${kid}.json`);
  makeFolderSync(dir, 0o700);
  const content = {
    ...jwk,
    kid,
    alg,
    use: 'sig',
    created: new Date(now).toISOString(),
    ...(activateAt !== undefined ? { activate_at: new Date(activateAt).toISOString() } : {}),
  };
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return toSigningKey(kid, alg, now, activateAt ?? now, file, privateKey);
}

/** Reads every key in `dir`; issues name the file and what is wrong. Null when no key could be used. */
export function loadKeySet(options: KeyDirOptions, issues: ConfigIssue[]): KeySet | null {
  const names = listKeyFiles(options, issues);
  if (names === null) return null;
  const before = issues.length;
  const keys = readKeys(options.dir, names, issues);
  const shared = options.shared ?? [];
  // A folder with a bad file gets nothing generated: the load fails on the file.
  if (options.onEmpty !== 'nothing' && issues.length === before) {
    for (const alg of options.algorithms) {
      if (keys.some((k) => k.alg === alg)) continue;
      if (options.onEmpty === 'memory') {
        keys.push(ephemeralKey(alg, options.now));
        continue;
      }
      const waits = shared.some((k) => k.alg === alg) ? options.now + (options.activationDelayMs ?? 0) : undefined;
      try {
        keys.push(writeNewKey(options.dir, alg, options.now, waits));
      } catch (err) {
        issues.push({
          code: 'CONFIG_READ',
          file: options.configFile,
          pointer: options.pointer,
          message: `cannot create the first ${alg} signing key in ${options.dir} (${errorCode(err)})`,
        });
        return null;
      }
    }
  }
  const all = [...keys, ...shared.filter((k) => !keys.some((own) => own.kid === k.kid))];
  if (all.length === 0) {
    if (options.onEmpty !== 'nothing' && issues.length === before)
      issues.push({
        code: 'CONFIG_INVALID',
        file: options.configFile,
        pointer: options.pointer,
        message: `no usable signing key in ${options.dir}`,
      });
    return null;
  }
  if (issues.length > before) return null;
  return keySetOf(all, options.now, options.algorithms[0] as Algorithm);
}

/** The keys of the files `names` in `dir`, each kid once; issues for the rest. */
export function readKeys(dir: string, names: readonly string[], issues: ConfigIssue[]): SigningKey[] {
  const keys: SigningKey[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const key = readKeyFile(join(dir, name), issues);
    if (!key) continue;
    const other = seen.get(key.kid);
    if (other !== undefined) {
      issues.push({
        code: 'CONFIG_INVALID',
        file: key.file,
        pointer: '/kid',
        message: `kid "${key.kid}" is also used by ${other}; every key needs its own kid`,
      });
      continue;
    }
    seen.set(key.kid, key.file);
    keys.push(key);
  }
  return keys;
}

/**
 * Per algorithm, the newest key already active at `now` signs. When none is active yet (every
 * key of it waits), the one that activates first signs: each algorithm of the set has a signer.
 * Our own tokens are signed by the signer of `preferred` (else of the newest active key).
 */
function keySetOf(keys: SigningKey[], now: number, preferred: Algorithm): KeySet {
  const sorted = [...keys].sort((a, b) => b.created - a.created || (a.kid < b.kid ? -1 : 1));
  const signers = new Map<Algorithm, SigningKey>();
  const waiting: number[] = [];
  for (const alg of ALGORITHMS) {
    const ofAlg = sorted.filter((k) => k.alg === alg);
    if (ofAlg.length === 0) continue;
    const active = ofAlg.find((k) => k.activeFrom <= now) ?? [...ofAlg].sort((a, b) => a.activeFrom - b.activeFrom)[0];
    signers.set(alg, active as SigningKey);
    for (const k of ofAlg) if (k.activeFrom > now && k.created > (active as SigningKey).created) waiting.push(k.activeFrom);
  }
  const newestActive = sorted.find((k) => k.activeFrom <= now) ?? (sorted[0] as SigningKey);
  return {
    keys: sorted,
    signing: signers.get(preferred) ?? (signers.get(newestActive.alg) as SigningKey),
    signers,
    nextActivation: waiting.length > 0 ? Math.min(...waiting) : undefined,
    byKid: new Map(sorted.map((k) => [k.kid, k])),
    algorithms: ALGORITHMS.filter((alg) => sorted.some((k) => k.alg === alg)),
    jwks: JSON.stringify({ keys: sorted.map((k) => k.publicJwk) }),
  };
}

export function listKeyFiles(options: Pick<KeyDirOptions, 'dir' | 'configFile' | 'pointer'>, issues: ConfigIssue[]): string[] | null {
  try {
    return readdirSync(options.dir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return [];
    issues.push({
      code: 'CONFIG_READ',
      file: options.configFile,
      pointer: options.pointer,
      message: `cannot read the keys folder ${options.dir} (${errorCode(err)})`,
    });
    return null;
  }
}

function readKeyFile(file: string, issues: ConfigIssue[]): SigningKey | null {
  const fail = (pointer: string, message: string, code: ConfigIssueCode = 'CONFIG_INVALID'): null => {
    issues.push({ file, pointer, message, code });
    return null;
  };
  let text: string;
  let mtime: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return fail('', 'not a regular file', 'CONFIG_READ');
    if (stat.size > MAX_KEY_FILE_BYTES) return fail('', `over ${MAX_KEY_FILE_BYTES} bytes; expected one JWK`);
    // A private key others can read is a leaked key: refuse it, as ssh does.
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      return fail(
        '',
        `mode ${(stat.mode & 0o777).toString(8)} lets others read a private key; expected 600 (chmod 600 ${file})`,
        'CONFIG_EXPOSED',
      );
    }
    mtime = stat.mtimeMs;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail('', `cannot read the key file (${errorCode(err)})`, 'CONFIG_READ');
  }
  let jwk: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('', 'expected a JWK object');
    jwk = parsed as Record<string, unknown>;
  } catch {
    return fail('', 'invalid JSON; expected one private JWK', 'CONFIG_PARSE');
  }
  if (!isAlgorithm(jwk.alg)) return fail('/alg', `expected one of ${ALGORITHMS.join(', ')}; "none" and HMAC are never accepted`);
  if (jwk.use !== undefined && jwk.use !== 'sig') return fail('/use', 'expected "sig"');
  if (typeof jwk.d !== 'string') return fail('/d', 'expected a private key (no "d" member)');
  let privateKey: KeyObject;
  try {
    const keyMembers: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(jwk)) if (!META_MEMBERS.has(name)) keyMembers[name] = value;
    privateKey = createPrivateKey({ key: keyMembers as JsonWebKey, format: 'jwk' });
  } catch (err) {
    return fail('', `not a usable private JWK (${(err as Error).message})`);
  }
  const mismatch = keyMismatch(jwk.alg, privateKey);
  if (mismatch) return fail('/alg', mismatch);
  let kid: string;
  if (jwk.kid === undefined) kid = thumbprint(createPublicKey(privateKey).export({ format: 'jwk' }));
  else if (typeof jwk.kid === 'string' && KID_PATTERN.test(jwk.kid)) kid = jwk.kid;
  else return fail('/kid', 'expected 1 to 128 characters of A-Z a-z 0-9 _ -');
  let created = mtime;
  if (jwk.created !== undefined) {
    created = typeof jwk.created === 'string' ? Date.parse(jwk.created) : NaN;
    if (Number.isNaN(created)) return fail('/created', 'expected an ISO 8601 date');
  }
  let activeFrom = created;
  if (jwk.activate_at !== undefined) {
    activeFrom = typeof jwk.activate_at === 'string' ? Date.parse(jwk.activate_at) : NaN;
    if (Number.isNaN(activeFrom)) return fail('/activate_at', 'expected an ISO 8601 date');
  }
  return toSigningKey(kid, jwk.alg, created, activeFrom, file, privateKey);
}

/**
 * Keys in memory only: for `validate` (which writes nothing) and as a stand-in when the keys
 * failed to load. One per algorithm and process: they never sign anything that leaves it, and
 * an RSA key takes a noticeable time to generate for every tenant of every check.
 */
const ephemeral = new Map<Algorithm, KeyObject>();
function ephemeralKey(alg: Algorithm, now: number): SigningKey {
  let privateKey = ephemeral.get(alg);
  if (!privateKey) {
    privateKey = generateKeyPair(alg).privateKey;
    ephemeral.set(alg, privateKey);
  }
  return toSigningKey(`ephemeral-${alg}`, alg, now, now, '(memory)', privateKey);
}

/** A set of keys in memory only, of `algorithms` (the first signs our tokens). */
export function ephemeralKeySet(algorithms: readonly Algorithm[], now: number): KeySet {
  return keySetOf(
    algorithms.map((alg) => ephemeralKey(alg, now)),
    now,
    algorithms[0] as Algorithm,
  );
}

function toSigningKey(kid: string, alg: Algorithm, created: number, activeFrom: number, file: string, privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const publicJwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, string>), kid, alg, use: 'sig' };
  return { kid, alg, created, activeFrom, file, publicKey, privateKey, publicJwk, signer: signerFor(alg, privateKey) };
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** Rewrites a key file so that the key signs from `at` (ms): `keys activate`. */
export function setActivation(file: string, at: number): void {
  const content = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  content.activate_at = new Date(at).toISOString();
  const temp = `${file}.tmp`;
  writeFileSync(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  renameSync(temp, file);
}
