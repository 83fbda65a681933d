/**
 * The hosted login's device cookie: a random device id the browser keeps, so that a step's
 * pipe (the `risk` valve) can tell a device it has seen sign in from a new one. The cookie is
 * `<id>.<expires>.<mac>`: 16 random bytes (base64url), the expiry in epoch seconds, and an
 * HMAC-SHA256 of the tenant, id and expiry under a key derived from `oidc.cookie_keys` (each
 * key verifies, the newest signs). It is HttpOnly, SameSite=Lax, Secure under https, scoped to
 * the tenant's issuer path, and lives a year. A cookie that is absent, forged, of another
 * tenant or expired counts as no device: a fresh id is drawn and set, which no account has seen.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The request property step pipes find the verified device id in. */
export const DEVICE_ID = 'device_id';
const DEVICE_COOKIE = 'authpipe_device';
const LIFETIME_SECONDS = 365 * 86400;
const VALUE = /^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

export interface DeviceCookieOptions {
  cookieKeys: readonly string[];
  tenant: string;
  /** The tenant's issuer path, /oidc/<tenant>. */
  path: string;
  secure: boolean;
  nowMs: number;
}

const keyOf = (cookieKey: string) => createHmac('sha256', cookieKey).update('authpipe device cookie').digest();
const macOf = (key: Buffer, tenant: string, id: string, expires: string) =>
  createHmac('sha256', key).update(`${tenant}.${id}.${expires}`).digest();

/** The verified device id of this browser; sets a fresh one on `res` when it has none that verifies. */
export function deviceOf(req: IncomingMessage, res: ServerResponse, options: DeviceCookieOptions): string {
  const keys = options.cookieKeys.map(keyOf);
  for (const value of cookieValues(req.headers.cookie, DEVICE_COOKIE)) {
    const match = VALUE.exec(value);
    if (!match) continue;
    const [, id, expires, mac] = match as unknown as [string, string, string, string];
    if (Number(expires) * 1000 <= options.nowMs) continue;
    const given = Buffer.from(mac, 'base64url');
    if (keys.some((key) => timingSafeEqual(macOf(key, options.tenant, id, expires), given))) return id;
  }
  const id = randomBytes(16).toString('base64url');
  const expires = String(Math.floor(options.nowMs / 1000) + LIFETIME_SECONDS);
  const mac = macOf(keys[0] as Buffer, options.tenant, id, expires).toString('base64url');
  const cookie = `${DEVICE_COOKIE}=${id}.${expires}.${mac}; Path=${options.path}; Max-Age=${LIFETIME_SECONDS}; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`;
  const before = res.getHeader('set-cookie');
  res.setHeader('set-cookie', [...(Array.isArray(before) ? before : before === undefined ? [] : [String(before)]), cookie]);
  return id;
}

/** Every value of cookie `name` in a Cookie header (a browser may send two of one name, of different paths). */
function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) values.push(part.slice(at + 1).trim());
  }
  return values;
}
