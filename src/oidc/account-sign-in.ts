/**
 * The account page's own way in (a tenant's `account.pool`): a shopper who opens
 * /oidc/<tenant>/account without a session gets a "Sign in" link to /account/sign-in, which
 * starts an authorization code request (PKCE S256) of a built-in public client, ACCOUNT_CLIENT,
 * whose only redirect URI is <issuer>/account/callback. The sign-in is the hosted login of that
 * pool, so single sign-on, step-up and passkeys are the pool's. The callback checks the state
 * against the browser's cookie (which also holds the verifier, so a flood of starts writes
 * nothing on our side; the callback clears it), then redeems the code here, not over
 * HTTP: the code must be this client's, for this redirect URI, unconsumed, with the challenge of
 * the verifier kept beside that state, and of the account the session now holds. No token is
 * issued: the page trusts the provider's session, as it does after an app's sign-in.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import { noticePage, sendHtml, type PageScope } from './login-pages.js';

/** The built-in client's id: not a name an operator would give an app (check.ts refuses a directory client by it). */
export const ACCOUNT_CLIENT = 'authpipe-account-page';
const STATE_COOKIE = 'authpipe.account_state';
/** As long as a sign-in may take (the interaction's own lifetime is longer; a late callback signs in again). */
const STATE_TTL_SECONDS = 15 * 60;
/** The cookie: `<state>.<verifier>`, 32 random bytes each. */
const HELD = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** The built-in public client of the account page: code flow with PKCE, back to the page only. */
export function accountClientMetadata(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [`${issuer}/account/callback`],
  };
}

interface SignInContext {
  /** /oidc/<tenant>/account */
  path: string;
  issuer: string;
  provider: Provider;
  https: boolean;
}

/** GET /account/sign-in: a fresh state and verifier, then the authorization request. */
export async function startAccountSignIn(req: IncomingMessage, res: ServerResponse, ctx: SignInContext): Promise<void> {
  const state = randomBytes(32).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: ACCOUNT_CLIENT,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: `${ctx.issuer}/account/callback`,
    code_challenge: challengeOf(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const locales = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('ui_locales');
  if (locales !== null && locales.length <= 64) query.set('ui_locales', locales);
  res.setHeader('set-cookie', cookie(ctx, `${state}.${verifier}`, STATE_TTL_SECONDS));
  res.statusCode = 303;
  res.setHeader('location', `${ctx.path.slice(0, -'/account'.length)}/auth?${query}`);
  res.end();
}

/**
 * GET /account/callback: back to the page when the code proves this browser's sign-in; a refusal
 * (cancelled, stale, forged) is the signed-out page again, coded, with its "Sign in" link.
 */
export async function finishAccountSignIn(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: SignInContext,
  signedOut: (status: number, code: string) => void,
): Promise<void> {
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const state = query.get('state') ?? '';
  const held = HELD.exec(cookieOf(req) ?? '');
  res.setHeader('set-cookie', cookie(ctx, '', 0));
  const value = query.get('code') ?? '';
  const found = value === '' || value.length > 512 ? undefined : await ctx.provider.AuthorizationCode.find(value);
  const code = found?.clientId === ACCOUNT_CLIENT ? found : undefined;
  // This client's codes are used up at the first callback that shows one, whatever it decides: none is ever traded at the token endpoint.
  if (code) await code.destroy();
  const heldState = held?.[1] ?? '';
  if (!held || state.length !== heldState.length || !timingSafeEqual(Buffer.from(state), Buffer.from(heldState)))
    return signedOut(400, 'state_mismatch');
  const verifier = held[2] as string;
  // The provider's own refusal (the shopper cancelled, or may not use the pool).
  if (query.has('error')) return signedOut(401, 'login_required');
  const session = await ctx.provider.Session.get({ req, res } as never);
  const proved =
    code !== undefined &&
    !(code as unknown as { consumed?: unknown }).consumed &&
    code.redirectUri === `${ctx.issuer}/account/callback` &&
    code.codeChallengeMethod === 'S256' &&
    code.codeChallenge === challengeOf(verifier) &&
    typeof session.accountId === 'string' &&
    code.accountId === session.accountId;
  if (!proved) return signedOut(403, 'login_required');
  res.statusCode = 303;
  res.setHeader('location', ctx.path);
  res.end();
}

/** The signed-out answer of the account page, with the "Sign in" link when the tenant has one. */
export function sendSignedOut(res: ServerResponse, scope: PageScope, path: string, status: number, code: string, withLink: boolean): void {
  const { t } = scope;
  const link = {
    id: 'account-sign-in',
    href: `${path}/sign-in?ui_locales=${encodeURIComponent(scope.language)}`,
    label: t('account.sign_in'),
  };
  sendHtml(
    res,
    status,
    withLink
      ? noticePage(scope, 'account.title', code, t('account.signed_out_here'), link)
      : noticePage(scope, 'account.title', code, t('account.signed_out')),
  );
}

const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

function cookie(ctx: SignInContext, value: string, maxAgeSeconds: number): string {
  return `${STATE_COOKIE}=${value}; Path=${ctx.path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${ctx.https ? '; Secure' : ''}`;
}

function cookieOf(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === STATE_COOKIE && value !== undefined && value !== '') return value;
  }
  return undefined;
}
