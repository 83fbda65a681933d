/**
 * Passkeys on the hosted login (a pool's `passkeys`): each part is a pipe the pool names
 * (passkey-options and passkey-verify in the demo), run like a login step.
 * - Sign in: the first page's "Sign in with a passkey" (and the browser's autofill, conditional
 *   UI) fetches options from the interaction's own address, for the username typed (its
 *   passkeys) or none (usernameless, discoverable credentials); the browser's answer is posted
 *   back and verified. A passkey sign-in replaces the pool's steps, with the amr its pipe
 *   proved (hwk or swk, passkey-verify's rule) and the pool's `passkeys.acr`.
 * - Enrol: after a sign-in by the pool's steps, an account that has no passkey
 *   is asked once "Add a passkey?" (once per account: the offer is remembered in the store,
 *   taken or skipped); the sign-in finishes after it either way.
 * The challenges a sign-in fetched are listed server-side with it (at most MAX_CHALLENGES), so an
 * answer is accepted only for a challenge issued to this interaction, besides the valve's own
 * single-use check. Every POST carries the page's CSRF token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { emptyProps } from '../engine/props.js';
import type { ErrorCode } from '../errors.js';
import { sendJson } from '../http/respond.js';
import { failureFloorMs, padTo } from '../credentials/check.js';
import { credentialsOf } from '../passkeys/store.js';
import { findAccount } from '../accounts/registry.js';
import type { Store } from '../store/store.js';
import { LOGIN_SUB, type OidcPoolConfig, type OidcStepConfig } from './schema.js';
import { formPage, sendHtml, refusalText, noticePage, type PageScope } from './login-pages.js';
// Types only: login.ts hands its step runner and form reader in (PasskeyDoor.steps), so the two modules form no cycle.
import type * as Login from './login.js';

type LoginContext = Login.LoginContext;

type Passkeys = NonNullable<OidcPoolConfig['passkeys']>;

/** The form field of the browser's answer: longer than a typed value (a registration's attestation). */
export const PASSKEY_RESPONSE = 'passkey_response';
export const MAX_PASSKEY_RESPONSE_CHARS = 6000;
/** Options a sign-in may fetch: each page load (autofill) and each button press fetches one. */
const MAX_CHALLENGES = 20;
const CAS_TRIES = 5;

const challengesKey = (uid: string) => `oidc-passkey-ch:${uid}`;
const offerKey = (uid: string) => `oidc-passkey-offer:${uid}`;
/** Per account, kept: "Add a passkey?" was shown (taken or skipped), so it is not asked again. */
const offeredKey = (sub: string) => `passkey:offered:${sub}`;

/** A finished sign-in waiting on the answer to "Add a passkey?". */
interface Offer {
  sub: string;
  amr: string[];
  acr?: string;
  csrf: string;
  /** "Remember me" was ticked on the first page: the sign-in finished after the offer keeps it. */
  remember?: boolean;
}

/** Where a passkey request of one interaction is answered. */
export interface PasskeyDoor {
  steps: LoginSteps;
  ctx: LoginContext;
  uid: string;
  pool: string;
  passkeys: Passkeys;
  scope: PageScope;
  ttlMs: number;
}

/** What the hosted login lends: its step runner, pool check, form reader, token compare, and forgetting its step state. */
interface LoginSteps {
  run: typeof Login.runStepPipe;
  mayUsePool: typeof Login.mayUsePool;
  readForm: typeof Login.readForm;
  sameToken: typeof Login.sameToken;
  forget(): Promise<void>;
}

/** The pool's first step with the passkey error, when a passkey sign-in is refused. */
type ShowForm = (status: number, code: ErrorCode) => void;

/**
 * A POST of the first page with a `passkey` field (CSRF checked by the caller): `options` answers
 * JSON for the page script, `sign_in` verifies the answer and finishes the sign-in.
 */
export async function passkeySignIn(
  req: IncomingMessage,
  res: ServerResponse,
  door: PasskeyDoor,
  values: ReadonlyMap<string, string>,
  showForm: ShowForm,
): Promise<void> {
  const { ctx, uid, passkeys, steps } = door;
  const kind = values.get('passkey');
  if (kind === 'options') {
    const request = emptyProps();
    request.username = values.get('username') ?? '';
    return issueOptions(res, door, passkeys.sign_in_options, request);
  }
  if (kind !== 'sign_in') return showForm(400, 'INVALID_REQUEST');
  const started = performance.now();
  const id = values.get('passkey_challenge_id') ?? '';
  if (!(await takeListed(ctx.store, uid, id, door.ttlMs))) return showForm(403, 'PASSKEY_CHALLENGE_INVALID');
  const request = emptyProps();
  request[PASSKEY_RESPONSE] = values.get(PASSKEY_RESPONSE) ?? '';
  request.passkey_challenge_id = id;
  const outcome = await steps.run(ctx, passkeys.sign_in, request, door.pool);
  if (!outcome.ok)
    return showForm(outcome.error.status === 500 ? 500 : 403, outcome.error.status === 500 ? 'INTERNAL_ERROR' : outcome.error.code);
  const sub = outcome.answer.sub;
  if (!sub || !(await steps.mayUsePool(ctx, sub, door.pool))) {
    // As a password of a user of another pool: the same refusal, no sooner than the floor.
    await padTo(started, failureFloorMs());
    return showForm(403, 'INVALID_CREDENTIALS');
  }
  const acr = passkeys.acr ?? outcome.proved.acr;
  await steps.forget();
  await ctx.store.del(challengesKey(uid));
  const login = { accountId: sub, remember: false, amr: [...outcome.proved.amr], ...(acr !== undefined ? { acr } : {}) };
  await ctx.provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
}

/**
 * After the pool's last step: whether to ask "Add a passkey?" before finishing. Asked once per
 * account (of the directory file or a self-service one) that has no passkey yet.
 */
export async function offerEnrolment(ctx: LoginContext, uid: string, pool: OidcPoolConfig, offer: Offer, ttlMs: number): Promise<boolean> {
  const passkeys = pool.passkeys;
  if (!passkeys || passkeys.offer === false) return false;
  const user = (await findAccount(ctx.config.services.directory, ctx.store, ctx.tenant.id, 'directory+store', 'id', offer.sub))?.user;
  if (!user || user.status === 'disabled') return false;
  if ((await credentialsOf(ctx.store, offer.sub)).length > 0) return false;
  if (!(await ctx.store.compareAndSet(offeredKey(offer.sub), null, String(ctx.config.services.clock.now())))) return false;
  await ctx.store.set(offerKey(uid), JSON.stringify(offer), ttlMs);
  return true;
}

/**
 * The "Add a passkey?" page of an interaction that has one pending; false when none is. GET shows
 * it; POST `enrol_options` answers JSON, `enrol` verifies and stores the passkey, anything else
 * (the main button, "Not now") skips; the last two finish the sign-in.
 */
export async function passkeyOffer(req: IncomingMessage, res: ServerResponse, door: PasskeyDoor, action: string): Promise<boolean> {
  const { ctx, uid, scope, steps } = door;
  const text = await ctx.store.get(offerKey(uid));
  if (text === null) return false;
  const offer = JSON.parse(text) as Offer;
  const page = (status: number, code?: ErrorCode) =>
    sendHtml(
      res,
      status,
      formPage(
        scope,
        OFFER_STEP,
        false,
        offer.csrf,
        action,
        code === undefined ? undefined : { code, text: refusalText(scope.t, code) },
        undefined,
        {
          title: scope.t('passkey.offer_title'),
          info: { code: 'passkey.offer_text', text: scope.t('passkey.offer_text') },
          passkey: 'enrol',
          submit: scope.t('passkey.skip'),
        },
      ),
    );
  if (req.method === 'GET' || req.method === 'HEAD') {
    page(200);
    return true;
  }
  const body = await steps.readForm(req);
  if (!body.ok) {
    page(400, 'INVALID_REQUEST');
    return true;
  }
  if (!steps.sameToken(body.values.get('csrf'), offer.csrf)) {
    sendHtml(res, 403, noticePage(scope, 'csrf.title', 'csrf', scope.t('csrf.text')));
    return true;
  }
  const kind = body.values.get('passkey');
  const request = emptyProps();
  request[LOGIN_SUB] = offer.sub;
  if (kind === 'enrol_options') {
    await issueOptions(res, door, door.passkeys.enrol_options, request);
    return true;
  }
  if (kind === 'enrol') {
    const id = body.values.get('passkey_challenge_id') ?? '';
    if (!(await takeListed(ctx.store, uid, id, door.ttlMs))) {
      page(403, 'PASSKEY_CHALLENGE_INVALID');
      return true;
    }
    request[PASSKEY_RESPONSE] = body.values.get(PASSKEY_RESPONSE) ?? '';
    request.passkey_challenge_id = id;
    const outcome = await door.steps.run(ctx, door.passkeys.enrol, request, door.pool);
    if (!outcome.ok) {
      // Refused: the page again, to try once more or skip.
      page(outcome.error.status === 500 ? 500 : 403, outcome.error.status === 500 ? 'INTERNAL_ERROR' : outcome.error.code);
      return true;
    }
  }
  await ctx.store.del(offerKey(uid));
  await ctx.store.del(challengesKey(uid));
  const login = {
    accountId: offer.sub,
    remember: offer.remember === true,
    ...(offer.amr.length > 0 ? { amr: offer.amr } : {}),
    ...(offer.acr !== undefined ? { acr: offer.acr } : {}),
  };
  await ctx.provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
  return true;
}

/** The offer page's form: no fields, its button skips. */
const OFFER_STEP: OidcStepConfig = { operation: 'passkey-offer', fields: [] } as unknown as OidcStepConfig;

/** Runs an options pipe and answers its options as JSON, listing the challenge with the interaction. */
async function issueOptions(
  res: ServerResponse,
  door: PasskeyDoor,
  operation: string,
  request: ReturnType<typeof emptyProps>,
): Promise<void> {
  const { ctx, uid } = door;
  const outcome = await door.steps.run(ctx, operation, request, door.pool);
  if (!outcome.ok) return sendJson(res, outcome.error.status === 500 ? 500 : 403, { code: outcome.error.code });
  const id = outcome.answer.passkey_challenge_id ?? '';
  const options = outcome.answer.passkey_options ?? '';
  if (id === '' || options === '') return sendJson(res, 500, { code: 'INTERNAL_ERROR' });
  if (!(await listChallenge(ctx.store, uid, id, door.ttlMs))) return sendJson(res, 429, { code: 'RATE_LIMITED' });
  sendJson(res, 200, { challenge_id: id, options: JSON.parse(options) as unknown });
}

async function listChallenge(store: Store, uid: string, id: string, ttlMs: number): Promise<boolean> {
  for (let i = 0; i < CAS_TRIES; i += 1) {
    const before = await store.get(challengesKey(uid));
    const ids = before === null ? [] : (JSON.parse(before) as string[]);
    if (ids.length >= MAX_CHALLENGES) return false;
    if (await store.compareAndSet(challengesKey(uid), before, JSON.stringify([...ids, id]), ttlMs)) return true;
  }
  return false;
}

/** Takes `id` off the interaction's list: false when it was never issued here (or is taken). */
async function takeListed(store: Store, uid: string, id: string, ttlMs: number): Promise<boolean> {
  for (let i = 0; i < CAS_TRIES; i += 1) {
    const before = await store.get(challengesKey(uid));
    const ids = before === null ? [] : (JSON.parse(before) as string[]);
    if (!ids.includes(id)) return false;
    if (await store.compareAndSet(challengesKey(uid), before, JSON.stringify(ids.filter((x) => x !== id)), ttlMs)) return true;
  }
  return false;
}
