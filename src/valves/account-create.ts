/**
 * account-create: signs a new user up into a pool as a self-service account in the tenant's
 * store (src/accounts/registry.ts), `pending` until account-activate (after otp-verify on its
 * mobile). Enforces: a well-formed sign-in name (username or e-mail) and E.164 mobile; the
 * new password's strength (zxcvbn-ts score, the operator's blocked list: PASSWORD_WEAK); the
 * password hashed (scrypt) before anything is looked up; names unique in the directory file
 * and the store, claimed with compare-and-set. No enumeration: a name already held gives the
 * same answer as a new one (the item gets a decoy `account_id` that names no account, so the
 * next step's code goes nowhere), after the same hashing, padded to `min_answer_ms`.
 */
import { refuse } from '../errors.js';
import { defineValve, type CallContext } from '../engine/valve.js';
import { itemSets } from '../engine/dataflow.js';
import { hashPassword } from '../credentials/hash.js';
import { normalizeRecipient } from '../otp/recipient.js';
import { createAccount, newAccountId, type StoredAccount } from '../accounts/registry.js';
import { STRENGTH_PROPERTIES, strengthCheck } from '../accounts/strength.js';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/;

export default defineValve({
  name: 'account-create',
  summary:
    'Sign a new user up (pending until its phone is verified) as a self-service account in the store; duplicates answer like new names.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      login_key: {
        enum: ['username', 'email'],
        default: 'username',
        description:
          'What the user signs in with: the request property of that name (a username: 2 to 64 of A-Z a-z 0-9 . _ -; an e-mail address).',
      },
      pools: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' },
        description:
          'Pools the new account may sign in to. Absent: the hosted login pool the sign-up runs in (over PUT, where there is none, it must be set).',
      },
      pending_ttl_seconds: {
        type: 'integer',
        minimum: 60,
        maximum: 86400,
        default: 3600,
        description: 'How long an unverified account (and the names it holds) lives before it is gone.',
      },
      min_answer_ms: {
        type: 'integer',
        minimum: 0,
        maximum: 5000,
        default: 400,
        description:
          'Every answer (new, already held, refused) takes at least this long, so timing does not tell a held name from a new one.',
      },
      ...STRENGTH_PROPERTIES,
    },
  },
  create(config, tools) {
    const loginKey = config.login_key;
    const check = strengthCheck(config, tools.services.configDir, (pointer, message) => tools.fail(pointer, message, 'CONFIG_INVALID'));
    const ttlMs = config.pending_ttl_seconds * 1000;
    const minAnswerMs = config.min_answer_ms;
    const invalid = (name: string, detail: string) =>
      refuse('INVALID_REQUEST', { erroneousProperties: [name], detail: `account-create: ${detail}` });

    const signUp = async (ctx: CallContext) => {
      const request = ctx.request;
      const name = String(request[loginKey] ?? '').trim();
      const password = String(request.password ?? '');
      if (loginKey === 'username' ? !USERNAME.test(name) : normalizeRecipient('email', name) === null)
        throw invalid(loginKey, `not a valid ${loginKey}`);
      const mobile = normalizeRecipient('sms', String(request.mobile ?? ''));
      if (mobile === null) throw invalid('mobile', 'not a valid E.164 mobile');
      if (password === '') throw invalid('password', 'no password');
      check(password, [name, mobile], 'password');
      const pools = config.pools ?? (ctx.loginPool === undefined ? undefined : [ctx.loginPool]);
      if (pools === undefined) throw invalid(loginKey, 'no pool: set `pools` for a sign-up outside the hosted login');
      const account: StoredAccount = {
        v: 1,
        id: newAccountId(),
        [loginKey]: loginKey === 'email' ? name.toLowerCase() : name,
        mobile,
        password_hash: await hashPassword(password.normalize('NFC')),
        status: 'pending',
        pools: [...pools],
        created: ctx.clock.now(),
      };
      const created = await createAccount(ctx.services.directory, ctx.store, ctx.tenant.id, account, ttlMs);
      // Said in the log only; the caller gets a fresh id that names nothing, and the code step sends a decoy.
      if (!created) ctx.log.info({ valve: 'account-create' }, 'sign-up with a name already held; decoy answered');
      const props = ctx.item().props;
      props.account_id = created ? account.id : newAccountId();
      props.mobile = mobile;
    };

    return async (ctx) => {
      const started = performance.now();
      try {
        await signUp(ctx);
      } finally {
        const wait = minAnswerMs - (performance.now() - started);
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      }
    };
  },
  dataflow: () => ({
    sets: itemSets('', [
      { name: 'account_id', kind: 'user.id' },
      { name: 'mobile', kind: 'user.mobile' },
    ]),
  }),
});
