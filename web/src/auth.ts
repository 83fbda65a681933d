/**
 * Sign-in, the one module that knows how the console gets its access token. The token lives
 * in this module's memory only: never localStorage or sessionStorage, so a reload or a new
 * tab signs in again (the hosted login's own session makes that one click). Only the PKCE
 * verifier and state cross the redirect, in sessionStorage, and are removed on return.
 *
 * Two ways in: the authorization code flow with PKCE (S256) against the tenant's issuer,
 * when the server names a console client; or a bearer token pasted in (for operators
 * who mint one with curl, and for setups without OpenID Connect).
 */
import { checkCallback } from './callback';
export interface Session {
  readonly token: string;
  readonly tenant: string;
  readonly subject: string;
  /** Epoch ms, from the token's exp. */
  readonly expiresAt: number;
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

export function signOut(): void {
  set(null);
}

function claimsOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
}

/** Uses a token obtained elsewhere; the server checks it on every call. */
export function useToken(token: string, tenant: string): void {
  const claims = claimsOf(token.trim());
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + 600_000;
  set({ token: token.trim(), tenant, subject: String(claims.sub ?? '?'), expiresAt: exp });
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
}

async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  return (await res.json()) as Discovery;
}

const PENDING = 'authpipe-console-pkce';

/** Sends the browser to the hosted login of `tenant`. */
export async function startSignIn(settings: Settings, tenant: string): Promise<void> {
  const oidc = settings.oidc;
  const issuer = oidc?.issuers[tenant];
  if (!oidc || !issuer) throw new Error(`no hosted login for tenant ${tenant}`);
  const meta = await discover(issuer);
  const verifier = random();
  const state = random();
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, tenant, issuer, back: location.hash }));
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: oidc.clientId,
    redirect_uri: oidc.redirectUri,
    scope: 'openid',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/** On /console/callback: trades the code for a token; the hash to return to, or null when this is no callback. */
export async function finishSignIn(settings: Settings): Promise<string | null> {
  if (!location.pathname.endsWith('/console/callback')) return null;
  const params = new URLSearchParams(location.search);
  const pending = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', '/console');
  if (!pending || !settings.oidc) throw new Error('no sign-in was started from this tab');
  const { verifier, state, tenant, issuer, back } = JSON.parse(pending) as {
    verifier: string;
    state: string;
    tenant: string;
    issuer: string;
    back: string;
  };
  checkCallback(params, { state, issuer });
  const meta = await discover(issuer);
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      redirect_uri: settings.oidc.redirectUri,
      client_id: settings.oidc.clientId,
      code_verifier: verifier,
    }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!res.ok || !body.access_token) throw new Error(`token endpoint: ${body.error ?? res.status}`);
  useToken(body.access_token, tenant);
  return back || '#/overview';
}
