/**
 * The hosted login page, `/oidc/<tenant>/interaction/<uid>`: oidc-provider sends the browser
 * here when a sign-in is needed, and each step of the client's user pool is one form whose
 * inputs are the request properties of that step's pipe. Submitting runs the pipe, so a
 * login step gets the pipe's lockout, rate limits and timing floor like any PUT call. Steps
 * share state the way PUT calls of one flow do: a step's answer names the subject (`sub`), or
 * carries a flow handle (flow-save's `flow_id`) that is kept here, server-side, and given to
 * the next step's pipe as the request property of the same name, so a PUT pair written with
 * flow-save / flow-restore is a pair of steps unchanged. Once named, the subject is given to
 * later steps as `login_sub`, and they must not name anyone else. After the last step the
 * subject becomes the provider's account, with the `amr` and `acr` the steps proved.
 * Consent is implied (every client is one of ours): the grant is given without a page.
 *
 * CSRF: the interaction cookie is SameSite=Lax (a cross-site POST does not carry it), and
 * each form carries a random token kept server-side with the step state and compared in
 * constant time. Refusals show a message chosen by the error code only, the same for an
 * unknown account as for a wrong password.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type Provider from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import type { LoadedConfig, Tenant } from '../config/load.js';
import { AuthpipeError, fault, type ErrorCode } from '../errors.js';
import { execute } from '../engine/execute.js';
import { emptyProps } from '../engine/props.js';
import type { CallContext } from '../engine/valve.js';
import type { ReportCall } from '../http/call-report.js';
import type { Store } from '../store/store.js';
import { failureFloorMs, padTo } from '../credentials/check.js';
import { ACR_VALUES, LOGIN_SUB, SKIP_IF_ROOT, UPSTREAM_IDP, type OidcPoolConfig, type OidcStepConfig } from './schema.js';
import type { HostedUi } from './hosted-ui.js';
import { formPage, MAX_VALUE_CHARS, noticePage, refusalText, sendHtml, type FormExtras, type PageScope } from './login-pages.js';
import { findAccount } from '../accounts/registry.js';
import { chooseLanguage, translator, type Translate } from './messages.js';
import { defaultCookieKeys } from './provider.js';
import { DEVICE_ID, deviceOf } from './device.js';
import { compileCondition, conditionVars, type Condition } from '../engine/condition.js';
import type { Scope } from '../engine/scope.js';
import { startUpstream, takeUpstreamResult, upstreamName, upstreamOrigins } from './federation.js';
import { readFederatedAccount } from './federated-accounts.js';
import { samlUpstreamOf, startSaml } from './saml.js';
import { flowExtras, flowSteps, requestedFlow, type SelfServiceFlow } from './self-service.js';
import { wayOf, waysExtras } from './ways.js';
import {
  MAX_PASSKEY_RESPONSE_CHARS,
  offerEnrolment,
  PASSKEY_RESPONSE,
  passkeyOffer,
  passkeySignIn,
  type PasskeyDoor,
} from './passkey-login.js';

const CSRF_FIELD = 'csrf';
const WAY_FIELD = 'way';
const REMEMBER_FIELD = 'remember';
const MAX_FORM_BYTES = 8192;

/** Where a sign-in stands, kept in the store beside the provider's interaction. */
interface LoginState {
  step: number;
  csrf: string;
  /** The subject, once a step has named it. */
  sub?: string;
  /**
   * Added to the current step's request, never shown to the browser: the flow handles the step
   * before answered, and the answer of this step's `start` pipe.
   */
  carry?: Record<string, string>;
  /** What `carry` was called in states stored before it (a sign-in under way across an upgrade). */
  started?: Record<string, string>;
  /** RFC 8176 methods of the steps passed so far, each once. */
  amr?: string[];
  /** The authentication context class, from the latest step that gave one. */
  acr?: string;
  /** What earlier steps' pipes answered, of the names the pool's `skip_if` rules read. */
  answers?: Record<string, string>;
  /** A self-service flow under way (sign-up, forgot password) instead of the sign-in (self-service.ts). */
  flow?: SelfServiceFlow;
  /** A notice (message key) the next page shows once: account created, code sent, … */
  notice?: string;
  /** The way the current step is passed, chosen under "Try another way" (ways.ts); absent: the step's own. */
  way?: string;
  /** What the current step opened with (before its start ran), kept when it has alternatives: a new way starts from it. */
  base?: { carry?: Record<string, string>; amr?: string[]; acr?: string };
  /** "Remember me" was ticked on the first page (and the pool offers it). */
  remember?: boolean;
}

export interface LoginContext {
  /** The interaction's path, where its forms post to. */
  path: string;
  config: LoadedConfig;
  tenant: Pick<Tenant, 'id' | 'displayName' | 'pipes'>;
  provider: Provider;
  pools: Readonly<Record<string, OidcPoolConfig>>;
  poolOf(clientId: string): string | undefined;
  store: Store;
  logger: Logger;
  clientIp: string;
  requestId: string;
  /** Tells the call (call line, metrics, audit) as every door does. */
  report: ReportCall;
  /** The hosted login's compiled templates and branding. */
  ui: HostedUi;
  /** Seconds a login state may live: the provider's interaction lifetime. */
  ttlSeconds: number;
  /** Whether the browser came over https (the device cookie is Secure then). */
  https: boolean;
}

/**
 * The text when the next step's `start` pipe (one that sends a code) refuses: the details on
 * this page were not what failed. A rate limit says how long to wait, from its Retry-After.
 */
function startRefusal(t: Translate, error: AuthpipeError): string {
  if (error.code !== 'RATE_LIMITED') return t('start.failed');
  const seconds = Number(error.headers['retry-after']);
  const minutes = Math.ceil(seconds / 60);
  const wait =
    !Number.isFinite(seconds) || seconds <= 0
      ? t('wait.while')
      : seconds < 60
        ? t('wait.seconds', { n: Math.ceil(seconds) })
        : minutes === 1
          ? t('wait.minute')
          : t('wait.minutes', { n: minutes });
  return t('start.rate_limited', { wait });
}

const stateKey = (uid: string) => `oidc-login:${uid}`;

/** GET and POST of one interaction; answers every case itself (never throws). */
export async function handleInteraction(req: IncomingMessage, res: ServerResponse, uid: string, ctx: LoginContext): Promise<void> {
  let details: Awaited<ReturnType<Provider['interactionDetails']>>;
  try {
    details = await ctx.provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof oidcErrors.SessionNotFound) return expired(req, res, ctx);
    throw err;
  }
  if (details.uid !== uid) return expired(req, res, ctx);
  const clientId = String(details.params.client_id ?? '');
  // The forms post here, and the answer redirects on to the app: the app's origin may end the chain.
  const redirectOrigin = originOf(details.params.redirect_uri);
  if (redirectOrigin) res.setHeader('content-security-policy', `${String(res.getHeader('content-security-policy'))} ${redirectOrigin}`);

  if (details.prompt.name === 'consent') {
    await finishConsent(req, res, ctx.provider, details);
    return;
  }
  const pool = ctx.poolOf(clientId);
  const poolConfig = pool === undefined ? undefined : ctx.pools[pool];
  if (!pool || !poolConfig) {
    await ctx.provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the client has no user pool here' },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const ttlMs = ctx.ttlSeconds * 1000;
  const deviceId = deviceOf(req, res, {
    cookieKeys: ctx.config.main.oidc?.cookie_keys ?? defaultCookieKeys(),
    tenant: ctx.tenant.id,
    path: ctx.path.slice(0, ctx.path.indexOf('/interaction/')),
    secure: ctx.https,
    nowMs: ctx.config.services.clock.now(),
  });
  let state = await loadState(ctx.store, uid);
  // A link of the first page (`?flow=sign_up`, `?flow=forgot_password`, `?flow=sign_in`) starts that flow afresh.
  const asked = req.method === 'GET' ? requestedFlow(req.url, poolConfig) : undefined;
  if (!state || (asked !== undefined && (asked !== (state.flow ?? null) || state.step > 0))) {
    state = { step: 0, csrf: state?.csrf ?? randomBytes(24).toString('base64url'), ...(asked ? { flow: asked } : {}) };
    await ctx.store.set(stateKey(uid), JSON.stringify(state), ttlMs);
  }
  const flow = state.flow;
  const steps = flowSteps(poolConfig, flow);
  const slot = steps[state.step] as OidcStepConfig;
  // The way chosen under "Try another way" stands in for the step; self-service flows offer none.
  const step = (flow === undefined ? wayOf(slot, state.way) : undefined) ?? slot;
  const action = ctx.path;
  const language = chooseLanguage(details.params.ui_locales, req.headers['accept-language'], poolConfig.language);
  // What the app asks of the login's strength (OpenID Connect Core §3.1.2.1): each step's pipe sees it and decides (a step up, a refusal).
  const acrValues =
    typeof details.params.acr_values === 'string' && details.params.acr_values !== ''
      ? details.params.acr_values.slice(0, MAX_VALUE_CHARS)
      : undefined;
  const scope: PageScope = {
    ui: ctx.ui,
    tenant: ctx.tenant,
    pool: { id: pool, config: poolConfig },
    language,
    t: translator(language),
  };
  const passkeys: PasskeyDoor | undefined = poolConfig.passkeys && {
    steps: { run: runStepPipe, mayUsePool, readForm, sameToken, forget: () => ctx.store.del(stateKey(uid)) },
    ctx,
    uid,
    pool,
    passkeys: poolConfig.passkeys,
    scope,
    ttlMs,
  };
  if (passkeys && (await passkeyOffer(req, res, passkeys, action))) return;

  // An upstream step (federation.ts): its button's page may lead to the upstream, and its
  // callback's result (the verified, mapped claims) is the step's request, taken once.
  // An upstream offered beside the step's form (`upstream_alternatives`) is the same, with its own operation.
  let upstream: Record<string, string> | undefined;
  let operation = step.operation;
  const idps = [...(step.upstream !== undefined ? [step.upstream] : []), ...(slot.upstream_alternatives ?? []).map((a) => a.upstream)];
  if (idps.length > 0) {
    for (const idp of idps)
      for (const origin of upstreamOrigins(ctx.config, ctx.tenant.id, idp))
        res.setHeader('content-security-policy', `${String(res.getHeader('content-security-policy'))} ${origin}`);
    scope.upstreamName = (idp) => upstreamName(ctx.config, ctx.tenant.id, idp, language);
    const result = req.method === 'GET' ? await takeUpstreamResult(ctx.store, uid, state.step) : undefined;
    if (result && !result.ok) return form(res, result.status, scope, step, state, action, result.code);
    if (result) {
      upstream = result.claims;
      const alternative = slot.upstream_alternatives?.find((a) => a.upstream === result.claims[UPSTREAM_IDP]);
      if (alternative) operation = alternative.operation;
    }
  }
  const posted = performance.now();
  let typed: ReadonlyMap<string, string> | undefined;
  const extras = (st: LoginState, notice?: string): FormExtras => {
    const page = flowExtras(scope, poolConfig, st.flow, st.step, steps, action, notice);
    if (st.flow !== undefined) return page;
    const at = steps[st.step] as OidcStepConfig;
    const current = wayOf(at, st.way) ?? at;
    const { resend: _resend, ...rest } = page;
    return {
      ...rest,
      // "Send a new code" follows the way in use: its start, not the step's own.
      ...(st.step > 0 && current.start !== undefined ? { resend: scope.t('resend') } : {}),
      ...waysExtras(scope, at, st.way),
      ...(passkeys && st.step === 0 ? { passkey: 'sign_in' as const } : {}),
      ...(st.step === 0 && poolConfig.remember_me?.enabled === true
        ? { remember: { text: scope.t('remember_me'), checked: typed?.get(REMEMBER_FIELD) === '1' } }
        : {}),
    };
  };
  /**
   * A `start` pipe (one that sends a code) with what the step carries, who signs in and the device.
   * Its refusal is shown on this step's page, saying that the sending failed, not these details;
   * then undefined.
   */
  const runStart = async (operation: string, carry: Record<string, string> | undefined, sub: string | undefined) => {
    const request = emptyProps();
    for (const [name, value] of Object.entries(carry ?? {})) request[name] = value;
    if (sub !== undefined) request[LOGIN_SUB] = sub;
    request[DEVICE_ID] = deviceId;
    if (acrValues !== undefined) request[ACR_VALUES] = acrValues;
    const started = await runStepPipe(ctx, operation, request, pool);
    if (started.ok) return started;
    const failed = started.error.status === 500;
    const text = failed ? undefined : startRefusal(scope.t, started.error);
    form(
      res,
      failed ? 500 : 403,
      scope,
      step,
      state,
      action,
      failed ? 'INTERNAL_ERROR' : started.error.code,
      text,
      undefined,
      extras(state),
    );
    return undefined;
  };
  if (upstream === undefined) {
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (state.notice !== undefined) await ctx.store.set(stateKey(uid), JSON.stringify({ ...state, notice: undefined }), ttlMs);
      // The app's login_hint fills the first sign-in page's username (OpenID Connect Core §3.1.2.1).
      const hinted = state.step === 0 && flow === undefined ? hintValues(details.params.login_hint) : undefined;
      return form(res, 200, scope, step, state, action, undefined, undefined, hinted, extras(state, state.notice));
    }
    if (req.method !== 'POST') return sendHtml(res, 405, noticePage(scope, 'method.title', 'method_not_allowed', scope.t('method.text')));

    const body = await readForm(req);
    if (!body.ok) return form(res, 400, scope, step, state, action, 'INVALID_REQUEST');
    if (!sameToken(body.values.get(CSRF_FIELD), state.csrf))
      return sendHtml(res, 403, noticePage(scope, 'csrf.title', 'csrf', scope.t('csrf.text')));
    const chosenWay = body.values.get(WAY_FIELD);
    if (chosenWay !== undefined) {
      // Only a way this step lists: a forged or stale choice is refused, and the step stays as it was.
      const way = flow === undefined ? wayOf(slot, chosenWay) : undefined;
      if (!way) return form(res, 403, scope, step, state, action, 'STEP_NOT_OFFERED', undefined, undefined, extras(state));
      const base = state.base ?? {};
      const switched: LoginState = { ...state, carry: base.carry, amr: base.amr, acr: base.acr, way: chosenWay };
      if (way.start) {
        const started = await runStart(way.start, base.carry, state.sub);
        if (!started) return;
        switched.carry = { ...base.carry, ...started.answer };
        if (!way.amr) switched.amr = addMethods(base.amr, started.proved.amr);
        if (!way.acr && started.proved.acr !== undefined) switched.acr = started.proved.acr;
      }
      await ctx.store.set(stateKey(uid), JSON.stringify(switched), ttlMs);
      return seeOther(res, action);
    }
    if (passkeys && body.values.has('passkey') && state.step === 0 && flow === undefined) {
      const first = state;
      return passkeySignIn(req, res, passkeys, body.values, (status, code) =>
        form(res, status, scope, step, first, action, code, undefined, undefined, extras(first)),
      );
    }
    const chosen = body.values.get('upstream');
    const idp =
      step.upstream ?? (chosen !== undefined && slot.upstream_alternatives?.some((a) => a.upstream === chosen) ? chosen : undefined);
    if (idp !== undefined) {
      const startArgs = { ...ctx, tenant: ctx.tenant.id, uid, step: state.step, idp };
      const failed = samlUpstreamOf(ctx.config, ctx.tenant.id, idp)
        ? await startSaml(res, startArgs, scope)
        : await startUpstream(res, startArgs);
      if (failed) form(res, failed.status, scope, step, state, action, failed.code);
      return;
    }

    if (body.values.get('resend') !== undefined && state.step > 0 && step.start) {
      // "Send a new code": the step's start pipe again, with what the step carries; its own cooldown and limits apply.
      const resent = await runStart(step.start, state.carry ?? state.started, state.sub);
      if (!resent) return;
      const resentState: LoginState = {
        ...state,
        carry: { ...(state.carry ?? state.started), ...resent.answer },
        notice: 'notice.code_sent',
      };
      await ctx.store.set(stateKey(uid), JSON.stringify(resentState), ttlMs);
      return seeOther(res, action);
    }
    typed = body.values;
  }

  const request = emptyProps();
  if (!upstream) for (const field of step.fields ?? []) request[field.name] = typed?.get(field.name) ?? '';
  if (upstream) for (const [name, value] of Object.entries(upstream)) request[name] = value;
  // Kept server-side, never from the form: a posted field of the same name is overwritten.
  for (const [name, value] of Object.entries(state.carry ?? state.started ?? {})) request[name] = value;
  if (state.sub !== undefined) request[LOGIN_SUB] = state.sub;
  request[DEVICE_ID] = deviceId;
  if (acrValues !== undefined) request[ACR_VALUES] = acrValues;

  const outcome = await runStepPipe(ctx, operation, request, pool);
  if (!outcome.ok) {
    if (outcome.error.status === 500) return form(res, 500, scope, step, state, action, 'INTERNAL_ERROR');
    if (state.step > 0 && (outcome.error.code === 'FLOW_INVALID' || blamesCarried(outcome.error, step, state))) {
      // The flow this step continues is used up or expired (a wrong code ends it, as over PUT),
      // or the refusal blames what the sign-in carries, not what was typed (the code's
      // transaction, dead once its attempts are spent): the same field again could never pass.
      // The sign-in starts again from the first step, as a PUT client starts the flow again.
      const first: LoginState = { step: 0, csrf: state.csrf, ...(flow ? { flow } : {}) };
      await ctx.store.set(stateKey(uid), JSON.stringify(first), ttlMs);
      return form(res, 403, scope, steps[0] as OidcStepConfig, first, action, 'FLOW_INVALID', undefined, undefined, extras(first));
    }
    // What was typed stays (never a password or a code), so a wrong password does not clear the username.
    return form(res, 403, scope, step, state, action, outcome.error.code, undefined, typed, extras(state));
  }
  // A step whose `skip_if` holds over what earlier steps answered is passed over, proving nothing.
  const answers = { ...state.answers, ...readAnswers(poolConfig, outcome.answer) };
  let next = state.step + 1;
  while (next < steps.length && skips(steps[next] as OidcStepConfig, answers)) next += 1;
  const last = next >= steps.length;
  // A self-service flow names no subject: it ends back at sign-in.
  const answered = flow !== undefined || outcome.answer.sub === '' ? undefined : outcome.answer.sub;
  const sub = answered ?? state.sub;
  const handles = handlesOf(outcome.answer, outcome.proved.handles);
  if (
    flow !== undefined
      ? !last && handles === undefined
      : (state.sub !== undefined && answered !== undefined && answered !== state.sub) ||
        (sub === undefined && (last || handles === undefined))
  ) {
    ctx.logger.error(
      { requestId: ctx.requestId, tenant: ctx.tenant.id, operation },
      'login step answered no subject (nor a flow handle before the last step), or another subject than the earlier steps',
    );
    return form(res, 500, scope, step, state, action, 'INTERNAL_ERROR');
  }
  // Membership is checked when a step first names the subject, and again after the last step.
  if (sub !== undefined && (state.sub === undefined || last) && !(await mayUsePool(ctx, sub, pool))) {
    // The first step's own check refuses a user of another pool (basic-auth does, with the
    // pool it is given); this catches any other step: the same refusal, no sooner than the
    // failure floor, from the first step again, and no further step is opened.
    ctx.logger.info(
      {
        requestId: ctx.requestId,
        tenant: ctx.tenant.id,
        operation,
        outcome: 'refused',
        code: 'INVALID_CREDENTIALS',
        door: 'hosted',
        detail: `not in pool ${pool}`,
      },
      // Not a second `call` line: the step's own call was told already; this is what the login made of it.
      'hosted login refused',
    );
    await padTo(posted, failureFloorMs());
    const first: LoginState = { step: 0, csrf: state.csrf };
    await ctx.store.set(stateKey(uid), JSON.stringify(first), ttlMs);
    return form(
      res,
      403,
      scope,
      poolConfig.steps[0] as OidcStepConfig,
      first,
      action,
      'INVALID_CREDENTIALS',
      undefined,
      undefined,
      extras(first),
    );
  }
  const amr = addMethods(state.amr, step.amr ?? outcome.proved.amr);
  const acr = step.acr ?? outcome.proved.acr ?? state.acr;
  // Ticked on the first page, carried to the last; only where the pool offers it.
  const remember =
    flow === undefined &&
    poolConfig.remember_me?.enabled === true &&
    (state.step === 0 ? typed?.get(REMEMBER_FIELD) === '1' : state.remember === true);
  if (!last) {
    const nextStep = steps[next] as OidcStepConfig;
    const nextState: LoginState = {
      step: next,
      csrf: state.csrf,
      ...(flow ? { flow } : {}),
      amr,
      ...(sub !== undefined ? { sub } : {}),
      ...(acr !== undefined ? { acr } : {}),
      ...(Object.keys(answers).length > 0 ? { answers } : {}),
      ...(remember ? { remember } : {}),
    };
    if (handles) nextState.carry = handles;
    if (nextStep.alternatives !== undefined)
      nextState.base = { ...(handles ? { carry: handles } : {}), amr, ...(acr !== undefined ? { acr } : {}) };
    if (nextStep.start) {
      // Said on this step's page, so it says what failed: not these details, the sending of the next step's code.
      const started = await runStart(nextStep.start, handles, sub);
      if (!started) return;
      nextState.carry = { ...handles, ...started.answer };
      if (!nextStep.amr) nextState.amr = addMethods(amr, started.proved.amr);
      if (!nextStep.acr && started.proved.acr !== undefined) nextState.acr = started.proved.acr;
    }
    await ctx.store.set(stateKey(uid), JSON.stringify(nextState), ttlMs);
    return seeOther(res, action);
  }
  if (flow !== undefined) {
    // The flow is done (account created, password changed): back to the sign-in, which says so once.
    await ctx.store.set(stateKey(uid), JSON.stringify({ step: 0, csrf: state.csrf, notice: `notice.${flow}_done` }), ttlMs);
    return seeOther(res, action);
  }
  await ctx.store.del(stateKey(uid));
  if (
    await offerEnrolment(
      ctx,
      uid,
      poolConfig,
      { sub: sub as string, amr, ...(acr !== undefined ? { acr } : {}), csrf: state.csrf, ...(remember ? { remember } : {}) },
      ttlMs,
    )
  )
    return seeOther(res, action);
  // Not remembered: oidc-provider's session is transient, its cookie a browser-session cookie (provider.ts sets the remembered TTL).
  const login = { accountId: sub as string, remember, ...(amr.length > 0 ? { amr } : {}), ...(acr !== undefined ? { acr } : {}) };
  await ctx.provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
}

/** The username a login_hint gives the first page, when it is one a form could hold. */
function hintValues(hint: unknown): ReadonlyMap<string, string> | undefined {
  if (typeof hint !== 'string' || hint === '' || hint.length > MAX_VALUE_CHARS) return undefined;
  return new Map([['username', hint]]);
}

const skipRules = new WeakMap<OidcStepConfig, Condition>();

/** Whether a step's `skip_if` holds over `{answers}`; a step without one is never skipped. */
function skips(step: OidcStepConfig, answers: Record<string, string>): boolean {
  if (step.skip_if === undefined) return false;
  let rule = skipRules.get(step);
  if (!rule) skipRules.set(step, (rule = compileCondition(step.skip_if)));
  return rule({ [SKIP_IF_ROOT]: answers } as unknown as Scope);
}

/** The answer's values of the names some `skip_if` of the pool reads (`answers.<name>`): nothing else is kept. */
function readAnswers(pool: OidcPoolConfig, answer: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const step of pool.steps)
    for (const { path } of step.skip_if === undefined ? [] : conditionVars(step.skip_if)) {
      const name = path.slice(SKIP_IF_ROOT.length + 1);
      if (path.startsWith(`${SKIP_IF_ROOT}.`) && Object.hasOwn(answer, name)) kept[name] = answer[name] as string;
    }
  return kept;
}

/** The flow handles (flow-save's `flow_id`, …) a step's pipe answered, by answer name; undefined when none. */
function handlesOf(answer: Record<string, string>, names: readonly string[]): Record<string, string> | undefined {
  let handles: Record<string, string> | undefined;
  for (const name of names) {
    const value = answer[name];
    if (value !== undefined && value !== '') (handles ??= {})[name] = value;
  }
  return handles;
}

/** The login's methods so far, then a step's, each once, in the order first proved. */
function addMethods(before: readonly string[] | undefined, methods: readonly string[]): string[] {
  const all = [...(before ?? [])];
  for (const method of methods) if (!all.includes(method)) all.push(method);
  return all;
}

/** Every client is first-party: the grant covers what was asked, without a consent page. */
async function finishConsent(
  req: IncomingMessage,
  res: ServerResponse,
  provider: Provider,
  details: Awaited<ReturnType<Provider['interactionDetails']>>,
): Promise<void> {
  const { prompt, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session?.accountId as string, clientId: String(params.client_id) });
  if (!grant) throw new Error('the interaction names a grant that does not exist');
  const missing = prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
    grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
}

function seeOther(res: ServerResponse, location: string): void {
  res.statusCode = 303;
  res.setHeader('location', location);
  res.end();
}

/** An active user (of the directory file, else a self-service account, else a federated one) listed in this pool (or listing no pools). */
export async function mayUsePool(ctx: LoginContext, sub: string, pool: string): Promise<boolean> {
  const user = (await findAccount(ctx.config.services.directory, ctx.store, ctx.tenant.id, 'directory+store', 'id', sub))?.user;
  if (user === undefined) return (await readFederatedAccount(ctx.store, sub))?.pools.includes(pool) === true;
  return user.status !== 'disabled' && (user.pools === undefined || user.pools.includes(pool));
}

type StepOutcome = { ok: true; answer: Record<string, string>; proved: CallContext['proved'] } | { ok: false; error: AuthpipeError };

/** Runs a login step's pipe through the one `execute` every door uses, reported as the hosted door. */
export async function runStepPipe(
  ctx: Pick<LoginContext, 'tenant' | 'config' | 'logger' | 'report' | 'requestId' | 'clientIp'>,
  operation: string,
  body: ReturnType<typeof emptyProps>,
  pool: string | undefined,
): Promise<StepOutcome> {
  const pipe = ctx.tenant.pipes.get(operation);
  const started = performance.now();
  const base = { door: 'hosted' as const, requestId: ctx.requestId, tenant: ctx.tenant.id, operation, started };
  if (!pipe) {
    const error = fault('INTERNAL_ERROR', { detail: `login step pipe ${operation} is missing` });
    ctx.report({ ...base, pipe: undefined, error, ctx: undefined });
    return { ok: false, error };
  }
  const outcome = await execute(
    pipe,
    { requestId: ctx.requestId, tenant: ctx.tenant, operation, body, clientIp: ctx.clientIp, headers: {}, loginPool: pool },
    ctx.config.services,
    ctx.logger,
  );
  ctx.report({ ...base, pipe: pipe.id, ...(outcome.ok ? {} : { error: outcome.error, step: outcome.step }), ctx: outcome.ctx });
  return outcome.ok ? { ok: true, answer: outcome.answer, proved: outcome.ctx.proved } : { ok: false, error: outcome.error };
}

async function loadState(store: Store, uid: string): Promise<LoginState | undefined> {
  const text = await store.get(stateKey(uid));
  return text === null ? undefined : (JSON.parse(text) as LoginState);
}

export function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

type FormBody = { ok: true; values: Map<string, string> } | { ok: false };

/** application/x-www-form-urlencoded, at most 8 KiB, each name once, values of sane length. */
export async function readForm(req: IncomingMessage): Promise<FormBody> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    req.resume();
    return { ok: false };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) return { ok: false };
      chunks.push(chunk);
    }
  } catch {
    return { ok: false };
  }
  const values = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    if (values.has(name) || value.length > (name === PASSKEY_RESPONSE ? MAX_PASSKEY_RESPONSE_CHARS : MAX_VALUE_CHARS)) return { ok: false };
    values.set(name, value);
  }
  return { ok: true, values };
}

function originOf(uri: unknown): string | undefined {
  try {
    const origin = typeof uri === 'string' ? new URL(uri).origin : 'null';
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** An unknown or expired sign-in: no pool is known, so the tenant's branding, and the browser's language or English. */
function expired(req: IncomingMessage, res: ServerResponse, ctx: LoginContext): void {
  const language = chooseLanguage(undefined, req.headers['accept-language'], 'en');
  const scope: PageScope = { ui: ctx.ui, tenant: ctx.tenant, language, t: translator(language) };
  sendHtml(res, 400, noticePage(scope, 'expired.title', 'interaction_expired', scope.t('expired.text')));
}

/** A step's form page; the error, when given, is `code` with its text (or `text`, for a start refusal). */
function form(
  res: ServerResponse,
  status: number,
  scope: PageScope,
  step: OidcStepConfig,
  state: LoginState,
  action: string,
  code?: ErrorCode,
  text?: string,
  values?: ReadonlyMap<string, string>,
  extras?: FormExtras,
): void {
  const error = code === undefined ? undefined : { code, text: text ?? refusalText(scope.t, code) };
  sendHtml(res, status, formPage(scope, step, state.step === 0, state.csrf, action, error, values, extras));
}

/** Whether a refusal names a property the sign-in carries server-side (a handle, the start's answer) rather than a field of the form. */
function blamesCarried(error: AuthpipeError, step: OidcStepConfig, state: LoginState): boolean {
  const carried = state.carry ?? state.started ?? {};
  return error.erroneousProperties.some((name) => Object.hasOwn(carried, name) && !(step.fields ?? []).some((f) => f.name === name));
}
