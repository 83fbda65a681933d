/**
 * Who is signed in, and how the console gets its access token. The tokens live in this
 * module's memory only: never localStorage or sessionStorage, where any script of the page
 * could read them. What crosses a redirect, in sessionStorage: the PKCE verifier and state
 * (removed on return), and a marker naming the tenant signed in to (no secret).
 *
 * Two ways in: the authorization code flow with PKCE (S256) against the tenant's issuer,
 * when the server names a console client; or a bearer token pasted in (for operators
 * who mint one with curl, and for setups without OpenID Connect).
 *
 * A reload keeps the admin signed in without a stored token: the marker says a sign-in
 * happened in this tab, so the page asks the issuer again with `prompt=none`, a top-level
 * redirect (the hosted login may not be framed: frame-ancestors 'none'), which the live
 * single sign-on session answers without a page. No session (`login_required`), or any
 * other failure, shows the sign-in page. The marker dies with the tab (a closed browser asks
 * again), and sign-out ends the single sign-on session at the issuer (RP-initiated logout
 * with the id token), so the next sign-in asks for the password.
 */
import { checkCallback } from './callback';
export interface Session {
  readonly token: string;
  readonly tenant: string;
  readonly subject: string;
  /** Epoch ms, from the token's exp. */
  readonly expiresAt: number;
  /** A hosted-login session: what RP-initiated logout sends (the id token, memory only like the access token). */
  readonly oidc?: { idToken: string; issuer: string; clientId: string };
}

export interface Settings {
  tenants: string[];
  /** Present when the console can sign in through the hosted login. */
  oidc?: { clientId: string; issuers: Record<string, string>; redirectUri: string };
}

let current: Session | null = null;
const listeners = new Set<() => void>();

export function session(): Session | null {
  if (current && current.expiresAt <= Date.now()) current = null;
  return current;
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function set(next: Session | null): void {
  current = next;
  for (const l of listeners) l();
}

/** The tab's marker: the tenant its admin signed in to through the hosted login. Not a secret. */
const SIGNED_IN = 'authpipe-console-tenant';

/** Drops the session here only (the token was refused, or expired): the single sign-on session is left as it is. */
export function forget(): void {
  sessionStorage.removeItem(SIGNED_IN);
  set(null);
}

/**
 * Signs out here and at the issuer: the browser goes to the tenant's end_session_endpoint
 * with the id token as hint, which ends the single sign-on session without a confirm page
 * and sends it back to the console.
 */
export async function signOut(): Promise<void> {
  const oidc = current?.oidc;
  forget();
  if (!oidc) return;
  const meta = await discover(oidc.issuer);
  if (!meta.end_session_endpoint) return;
  const url = new URL(meta.end_session_endpoint);
  url.search = new URLSearchParams({
    id_token_hint: oidc.idToken,
    client_id: oidc.clientId,
    post_logout_redirect_uri: `${location.origin}/console`,
  }).toString();
  location.assign(url.toString());
}

function claimsOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
}

/** Uses a token obtained elsewhere; the server checks it on every call. */
export function adoptToken(token: string, tenant: string, oidc?: Session['oidc']): void {
  const claims = claimsOf(token.trim());
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + 600_000;
  set({ token: token.trim(), tenant, subject: String(claims.sub ?? '?'), expiresAt: exp, ...(oidc ? { oidc } : {}) });
}

const b64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

function random(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  return (await res.json()) as Discovery;
}

const PENDING = 'authpipe-console-pkce';
const CALLBACK = '/console/callback';

/** Sends the browser to the hosted login of `tenant`; `silent`: with prompt=none, to renew from the live session. */
export async function startSignIn(settings: Settings, tenant: string, silent = false): Promise<void> {
  const oidc = settings.oidc;
  const issuer = oidc?.issuers[tenant];
  if (!oidc || !issuer) throw new Error(`no hosted login for tenant ${tenant}`);
  const meta = await discover(issuer);
  const verifier = random();
  const state = random();
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, tenant, issuer, back: location.hash, silent }));
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: oidc.clientId,
    redirect_uri: oidc.redirectUri,
    scope: 'openid',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(silent ? { prompt: 'none' } : {}),
  }).toString();
  location.assign(url.toString());
}

/**
 * After a reload of a tab that signed in: renews the session from the issuer's live single
 * sign-on session (a top-level prompt=none redirect). True when the browser is on its way.
 */
export async function resumeSignIn(settings: Settings): Promise<boolean> {
  const tenant = sessionStorage.getItem(SIGNED_IN);
  // The marker goes now and comes back with the token: an attempt that never returns leaves the sign-in page next time.
  sessionStorage.removeItem(SIGNED_IN);
  if (!tenant || !settings.oidc?.issuers[tenant]) return false;
  try {
    await startSignIn(settings, tenant, true);
    return true;
  } catch {
    return false;
  }
}

interface Pending {
  verifier: string;
  state: string;
  tenant: string;
  issuer: string;
  back: string;
  silent?: boolean;
}

/**
 * On /console/callback: trades the code for a token; the hash to return to, or null when this
 * is no callback or a silent renewal failed (the sign-in page then shows, with no error).
 */
export async function finishSignIn(settings: Settings): Promise<string | null> {
  if (!location.pathname.endsWith(CALLBACK)) return null;
  const params = new URLSearchParams(location.search);
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', '/console');
  if (!raw || !settings.oidc) throw new Error('no sign-in was started from this tab');
  const pending = JSON.parse(raw) as Pending;
  try {
    return await trade(settings.oidc, params, pending);
  } catch (err) {
    // login_required, consent_required, a refused code: the admin signs in again, which is no error.
    if (pending.silent) return null;
    throw err;
  }
}

async function trade(oidc: NonNullable<Settings['oidc']>, params: URLSearchParams, pending: Pending): Promise<string> {
  const { verifier, state, tenant, issuer, back } = pending;
  checkCallback(params, { state, issuer });
  const meta = await discover(issuer);
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      redirect_uri: oidc.redirectUri,
      client_id: oidc.clientId,
      code_verifier: verifier,
    }),
  });
  const body = (await res.json()) as { access_token?: string; id_token?: string; error?: string };
  if (!res.ok || !body.access_token) throw new Error(`token endpoint: ${body.error ?? res.status}`);
  adoptToken(body.access_token, tenant, body.id_token ? { idToken: body.id_token, issuer, clientId: oidc.clientId } : undefined);
  sessionStorage.setItem(SIGNED_IN, tenant);
  return back || '#/overview';
}
