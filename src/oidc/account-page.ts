/**
 * The account page, `/oidc/<tenant>/account` (a tenant's `account`): for whoever holds a live
 * sign-in session of this issuer (oidc-provider's session cookie, scoped to /oidc/<tenant>),
 * about the account of that session only:
 * - change password: the tenant's `change_password` pipe (the current password checked, the new
 *   one's strength as sign-up's), for a self-service account; a user of the operator's directory
 *   file is told the password is managed elsewhere;
 * - passkeys: listed, removed, and added through the `passkey_enrol*` pipes (the page script of
 *   the hosted login, passkey.js);
 * - signed-in sessions: listed from the account's session index (adapter.ts), each can be
 *   ended, which also ends its grants (their refresh tokens, and access tokens at every check);
 * - links to upstream accounts (federated-accounts.ts), each can be removed.
 * Every form carries a CSRF token bound to the session (an HMAC of its id under the cookie
 * keys); the session cookie is SameSite=Lax besides. A POST answers 303 back to the page with a
 * notice, so a reload never repeats it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { LoadedConfig, Tenant } from '../config/load.js';
import { emptyProps } from '../engine/props.js';
import type { ErrorCode } from '../errors.js';
import { sendJson } from '../http/respond.js';
import type { ReportCall } from '../http/call-report.js';
import type { Store } from '../store/store.js';
import type { Logger } from 'pino';
import { findAccount } from '../accounts/registry.js';
import { credentialsOf, readCredential, removeCredential, renameCredential } from '../passkeys/store.js';
import { storeAdapter } from './adapter.js';
import { accountSessions, endAccountSession, handleOf } from './account-sessions.js';
import { TTL } from './provider.js';
import { linksOf, unlink } from './federated-accounts.js';
import type { HostedUi } from './hosted-ui.js';
import { noticePage, refusalText, sendHtml, type PageScope } from './login-pages.js';
import { readForm, runStepPipe } from './login.js';
import { chooseLanguage, translator } from './messages.js';
import { PASSKEY_RESPONSE } from './passkey-login.js';
import { finishAccountSignIn, sendSignedOut, startAccountSignIn } from './account-sign-in.js';
import { defaultCookieKeys } from './provider.js';
import { LOGIN_SUB, type OidcConfig } from './schema.js';

type AccountConfig = NonNullable<OidcConfig['tenants'][string]['account']>;

interface AccountContext {
  path: string;
  config: LoadedConfig;
  tenant: Pick<Tenant, 'id' | 'displayName' | 'pipes'>;
  provider: Provider;
  store: Store;
  ui: HostedUi;
  logger: Logger;
  report: ReportCall;
  clientIp: string;
  requestId: string;
}

/** Notices a POST may come back with (?done=<key>), each a message `account.done.<key>`. */
const DONE = new Set(['password', 'passkey_added', 'passkey_removed', 'passkey_renamed', 'session_ended', 'unlinked']);
/** A passkey's name: printable, short. */
const PASSKEY_NAME = /^[^\p{Cc}\p{Cf}]{1,64}$/u;
/** Challenges one session may hold for adding passkeys at once. */
const MAX_CHALLENGES = 10;
const challengesKey = (session: string) => `oidc-account-ch:${session}`;

const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export async function handleAccount(req: IncomingMessage, res: ServerResponse, ctx: AccountContext): Promise<void> {
  const settings = ctx.config.main.oidc?.tenants[ctx.tenant.id]?.account;
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const language = chooseLanguage(query.get('ui_locales') ?? undefined, req.headers['accept-language'], settings?.language ?? 'en');
  const scope: PageScope = { ui: ctx.ui, tenant: ctx.tenant, language, t: translator(language) };
  if (!settings) return sendHtml(res, 404, noticePage(scope, 'account.title', 'not_found', scope.t('account.none')));
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
    res.setHeader('allow', 'GET, HEAD, POST');
    return sendHtml(res, 405, noticePage(scope, 'method.title', 'method_not_allowed', scope.t('method.text')));
  }
  const session = await ctx.provider.Session.get({ req, res } as never);
  const accountId = session.accountId;
  if (typeof accountId !== 'string') return sendSignedOut(res, scope, ctx.path, 401, 'login_required', settings.pool !== undefined);
  const csrf = createHmac('sha256', (ctx.config.main.oidc?.cookie_keys ?? defaultCookieKeys())[0] as string)
    .update(`account:${ctx.tenant.id}:${session.jti}`)
    .digest('base64url');
  const found = await findAccount(ctx.config.services.directory, ctx.store, ctx.tenant.id, 'directory+store', 'id', accountId);
  const me: Me = { id: accountId, session: session.jti, username: found?.user.username, selfService: found?.stored?.status === 'active' };

  if (req.method !== 'POST') {
    const done = query.get('done');
    return page(res, 200, ctx, scope, settings, me, csrf, done !== null && DONE.has(done) ? done : undefined);
  }
  const body = await readForm(req);
  if (!body.ok) return page(res, 400, ctx, scope, settings, me, csrf, undefined, 'INVALID_REQUEST');
  const given = Buffer.from(body.values.get('csrf') ?? '');
  if (given.length !== csrf.length || !timingSafeEqual(given, Buffer.from(csrf)))
    return sendHtml(res, 403, noticePage(scope, 'csrf.title', 'csrf', scope.t('account.csrf')));
  const values = body.values;
  const back = (done: string) => {
    res.statusCode = 303;
    res.setHeader('location', `${ctx.path}?done=${done}`);
    res.end();
  };
  const refused = (status: number, code: ErrorCode) => page(res, status, ctx, scope, settings, me, csrf, undefined, code);
  const request = emptyProps();
  request[LOGIN_SUB] = me.id;

  const passkey = values.get('passkey');
  if (passkey !== undefined) {
    if (!settings.passkey_enrol_options || !settings.passkey_enrol) return refused(404, 'INVALID_REQUEST');
    if (passkey === 'enrol_options') {
      const outcome = await runStepPipe(ctx, settings.passkey_enrol_options, request, undefined);
      if (!outcome.ok) return sendJson(res, outcome.error.status === 500 ? 500 : 403, { code: outcome.error.code });
      const id = outcome.answer.passkey_challenge_id ?? '';
      if (!(await listChallenge(ctx.store, me.session, id))) return sendJson(res, 429, { code: 'RATE_LIMITED' });
      return sendJson(res, 200, { challenge_id: id, options: JSON.parse(outcome.answer.passkey_options ?? 'null') as unknown });
    }
    const id = values.get('passkey_challenge_id') ?? '';
    if (passkey !== 'enrol' || !(await takeChallenge(ctx.store, me.session, id))) return refused(403, 'PASSKEY_CHALLENGE_INVALID');
    request[PASSKEY_RESPONSE] = values.get(PASSKEY_RESPONSE) ?? '';
    request.passkey_challenge_id = id;
    const outcome = await runStepPipe(ctx, settings.passkey_enrol, request, undefined);
    if (!outcome.ok)
      return refused(outcome.error.status === 500 ? 500 : 403, outcome.error.status === 500 ? 'INTERNAL_ERROR' : outcome.error.code);
    return back('passkey_added');
  }

  switch (values.get('do')) {
    case 'password': {
      if (!settings.change_password || !me.selfService || me.username === undefined) return refused(403, 'ACCESS_DENIED');
      request.username = me.username;
      request.password = values.get('current_password') ?? '';
      request.new_password = values.get('new_password') ?? '';
      const outcome = await runStepPipe(ctx, settings.change_password, request, undefined);
      if (!outcome.ok)
        return refused(outcome.error.status === 500 ? 500 : 403, outcome.error.status === 500 ? 'INTERNAL_ERROR' : outcome.error.code);
      return back('password');
    }
    case 'remove_passkey':
      if (!(await removeCredential(ctx.store, me.id, values.get('id') ?? ''))) return refused(403, 'PASSKEY_CREDENTIAL_UNKNOWN');
      return back('passkey_removed');
    case 'rename_passkey': {
      const name = (values.get('name') ?? '').trim();
      if (!PASSKEY_NAME.test(name)) return refused(400, 'INVALID_REQUEST');
      if (!(await renameCredential(ctx.store, me.id, values.get('id') ?? '', name))) return refused(403, 'PASSKEY_CREDENTIAL_UNKNOWN');
      return back('passkey_renamed');
    }
    case 'end_session': {
      // Named by its handle (never the session id, the bearer value of a cookie), and only one of this account's.
      const handle = values.get('id') ?? '';
      const tolerance = ctx.config.main.tokens?.clock_tolerance ?? 0;
      const Adapter = storeAdapter(ctx.store, (TTL.AccessToken + tolerance) * 1000);
      if (!(await endAccountSession(ctx.store, Adapter, me.id, handle, Date.now()))) return refused(403, 'ACCESS_DENIED');
      return back('session_ended');
    }
    case 'unlink':
      if (!(await unlink(ctx.store, me.id, values.get('link') ?? ''))) return refused(403, 'ACCESS_DENIED');
      return back('unlinked');
    default:
      return refused(400, 'INVALID_REQUEST');
  }
}

/** /account/sign-in and /account/callback: the page's own sign-in, where the tenant names its pool (account-sign-in.ts). */
export async function handleAccountSignIn(
  req: IncomingMessage,
  res: ServerResponse,
  which: string,
  ctx: Pick<AccountContext, 'path' | 'config' | 'tenant' | 'provider' | 'ui'> & { https: boolean },
): Promise<void> {
  const settings = ctx.config.main.oidc?.tenants[ctx.tenant.id]?.account;
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const language = chooseLanguage(query.get('ui_locales') ?? undefined, req.headers['accept-language'], settings?.language ?? 'en');
  const scope: PageScope = { ui: ctx.ui, tenant: ctx.tenant, language, t: translator(language) };
  const issuer = ctx.config.services.tokens?.issuerOf(ctx.tenant.id);
  if (!settings?.pool || issuer === undefined)
    return sendHtml(res, 404, noticePage(scope, 'account.title', 'not_found', scope.t('account.none')));
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendHtml(res, 405, noticePage(scope, 'method.title', 'method_not_allowed', scope.t('method.text')));
  }
  const signIn = { path: ctx.path, issuer, provider: ctx.provider, https: ctx.https };
  if (which === 'sign-in') return startAccountSignIn(req, res, signIn);
  return finishAccountSignIn(req, res, signIn, (status, code) => sendSignedOut(res, scope, ctx.path, status, code, true));
}

interface Me {
  id: string;
  session: string;
  username: string | undefined;
  /** An active self-service account: its password is ours to change. */
  selfService: boolean;
}

async function page(
  res: ServerResponse,
  status: number,
  ctx: AccountContext,
  scope: PageScope,
  settings: AccountConfig,
  me: Me,
  csrf: string,
  done?: string,
  code?: ErrorCode,
): Promise<void> {
  const { t } = scope;
  const passkeys = await Promise.all(
    (await credentialsOf(ctx.store, me.id)).map(async (id) => ({ id, found: await readCredential(ctx.store, id) })),
  );
  const current = handleOf(me.session);
  const sessions = (await accountSessions(ctx.store, me.id, Date.now())).map((s) => ({
    id: s.handle,
    label: t('account.session_label', { when: when(Date.parse(s.signedIn ?? s.expires ?? '') || Date.now()) }),
    current: s.handle === current,
  }));
  const links = (await linksOf(ctx.store, me.id)).map((l) => ({ id: l.id, upstream: l.upstream, sub: l.upstream_sub, label: l.upstream }));
  const action = ctx.path;
  const addable = settings.passkey_enrol_options !== undefined && settings.passkey_enrol !== undefined;
  const html = scope.ui.render(
    'account',
    {
      tenant: ctx.tenant.id,
      tenantName: ctx.tenant.displayName,
      pool: undefined,
      lang: scope.language,
      title: t('account.title'),
      ...(addable ? { scripts: ['webauthn.js', 'passkey.js'] } : {}),
    },
    {
      action,
      csrf,
      notice: done === undefined ? undefined : { code: `account.done.${done}`, text: t(`account.done.${done}`) },
      error: code === undefined ? undefined : { code, text: refusalText(t, code) },
      password: settings.change_password !== undefined && me.selfService ? { username: me.username } : undefined,
      passkeys: passkeys.flatMap(({ id, found }) =>
        found
          ? [
              {
                id,
                name: found.record.n ?? '',
                label: t('account.passkey_label', { when: when(found.record.at) }),
                remove_label: t('account.remove_passkey'),
              },
            ]
          : [],
      ),
      passkey: addable ? { button: t('passkey.enrol'), failed: t('passkey.failed') } : undefined,
      sessions,
      links,
      has_links: links.length > 0,
      t_password: t('account.password'),
      t_current: t('field.current_password'),
      t_new: t('field.new_password'),
      t_change: t('account.change_password'),
      t_managed: t('account.password_managed'),
      t_passkeys: t('account.passkeys'),
      t_no_passkeys: t('account.no_passkeys'),
      t_remove: t('account.remove'),
      t_name: t('account.passkey_name'),
      t_rename: t('account.rename'),
      t_sessions: t('account.sessions'),
      t_this_session: t('account.this_session'),
      t_end: t('account.end_session'),
      t_links: t('account.links'),
      t_unlink: t('account.unlink'),
    },
  );
  sendHtml(res, status, html);
}

async function listChallenge(store: Store, session: string, id: string): Promise<boolean> {
  if (id === '') return false;
  const text = await store.get(challengesKey(session));
  const ids = text === null ? [] : (JSON.parse(text) as string[]);
  if (ids.length >= MAX_CHALLENGES) return false;
  return store.compareAndSet(challengesKey(session), text, JSON.stringify([...ids, id]), 10 * 60_000);
}

async function takeChallenge(store: Store, session: string, id: string): Promise<boolean> {
  const text = await store.get(challengesKey(session));
  const ids = text === null ? [] : (JSON.parse(text) as string[]);
  if (id === '' || !ids.includes(id)) return false;
  return store.compareAndSet(challengesKey(session), text, JSON.stringify(ids.filter((x) => x !== id)), 10 * 60_000);
}
