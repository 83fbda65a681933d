/**
 * The signing keys: one private JWK per file in a folder outside git. The newest active key
 * signs; every key in the folder is published in the JWKS and accepted by verification until
 * its file is removed, so rotation never breaks a token already out. A key written by
 * `keys rotate` carries `activate_at`: it is published at once but signs only from then on,
 * so relying parties holding a cached JWKS have fetched it before they meet a token it signed. Keys are imported once per
 * load into KeyObjects; nothing is parsed per token.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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
  readonly signing: SigningKey;
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
  /** Algorithm of a key generated into an empty folder. */
  algorithm: Algorithm;
  /**
   * What an empty folder gets: `write` a first key (serve), a key in `memory` only (validate
   * writes nothing), or `nothing` (listing).
   */
  onEmpty: 'write' | 'memory' | 'nothing';
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
  mkdirSync(dir, { recursive: true, mode: 0o700 });
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
  let names = listKeyFiles(options, issues);
  if (names === null) return null;
  if (names.length === 0) {
    if (options.onEmpty === 'nothing') return null;
    if (options.onEmpty === 'memory') return ephemeralKeySet(options.algorithm, options.now);
    try {
      writeNewKey(options.dir, options.algorithm, options.now);
    } catch (err) {
      issues.push({
        code: 'CONFIG_READ',
        file: options.configFile,
        pointer: options.pointer,
        message: `cannot create the first signing key in ${options.dir} (${errorCode(err)})`,
      });
      return null;
    }
    names = listKeyFiles(options, issues) ?? [];
  }
  const keys: SigningKey[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const key = readKeyFile(join(options.dir, name), issues);
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
  if (keys.length === 0) {
    if (issues.length === 0)
      issues.push({
        code: 'CONFIG_INVALID',
        file: options.configFile,
        pointer: options.pointer,
        message: `no usable signing key in ${options.dir}`,
      });
    return null;
  }
  return keySetOf(keys, options.now);
}

/**
 * The newest key already active at `now` signs. When none is active yet (every key waits),
 * the one that activates first signs: a key set always has a signer.
 */
function keySetOf(keys: SigningKey[], now = Date.now()): KeySet {
  const sorted = [...keys].sort((a, b) => b.created - a.created || (a.kid < b.kid ? -1 : 1));
  const active = sorted.find((k) => k.activeFrom <= now) ?? [...sorted].sort((a, b) => a.activeFrom - b.activeFrom)[0];
  const waiting = sorted.filter((k) => k.activeFrom > now && k.created > (active as SigningKey).created).map((k) => k.activeFrom);
  return {
    keys: sorted,
    signing: active as SigningKey,
    nextActivation: waiting.length > 0 ? Math.min(...waiting) : undefined,
    byKid: new Map(sorted.map((k) => [k.kid, k])),
    algorithms: ALGORITHMS.filter((alg) => sorted.some((k) => k.alg === alg)),
    jwks: JSON.stringify({ keys: sorted.map((k) => k.publicJwk) }),
  };
}

function listKeyFiles(options: KeyDirOptions, issues: ConfigIssue[]): string[] | null {
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

/** One key in memory only: for `validate` (which writes nothing) and as a stand-in when the keys failed to load. */
export function ephemeralKeySet(alg: Algorithm, now: number): KeySet {
  const { privateKey } = generateKeyPair(alg);
  return keySetOf([toSigningKey('ephemeral', alg, now, now, '(memory)', privateKey)], now);
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
