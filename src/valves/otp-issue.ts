/**
 * otp-issue: sends a one-time code and answers a `transaction_id` for otp-verify.
 * Enforces: codes from the CSPRNG, stored only as a salted HMAC under a fresh 192-bit
 * transaction id with a TTL, bound to its purpose (otp-verify's `purposes`) and its operation;
 * a resend cooldown and an hourly issue limit per operation and recipient, both atomic in the
 * store, so one operation's callers never hold back another's codes (a public otp-start never
 * blocks an approval or a hosted-login code). Only a code that is issued starts a cooldown: a
 * refusal by the hourly limit, or a store or queue fault, gives the cooldown back. An unknown or disabled user gets the same answer, the same rate
 * limits, the same store work and the same count in otp_issued as a known one, but no code:
 * a decoy transaction that no code opens, and a decoy job in the delivery queue, stand in
 * for the real ones. The code is delivered from the queue (otp/delivery.ts), never on the
 * caller's time, so a slow, failing or redirecting sender changes nothing in the answer.
 */
import { refuse } from '../errors.js';
import { soleRequestProperty, type Template } from '../engine/template.js';
import { defineValve, type CallContext } from '../engine/valve.js';
import { findUser, type DirectoryUser, type UserKey, type UserLookup } from '../directory/directory.js';
import { normalizeRecipient, recipientKey } from '../otp/recipient.js';
import { createSender, senderSchema } from '../otp/senders/index.js';
import { OtpDeliveries, type DeliveryJob } from '../otp/delivery.js';
import { decoySeal, newCode, newTransactionId, PURPOSE_PATTERN, sealCode, txKey, type OtpRecord } from '../otp/transaction.js';
import { usable } from '../otp/user-props.js';
import { accountsSchema, accountStatusSchema, eligible, findAccount } from '../accounts/registry.js';
import { itemSets, type ValueKind } from '../engine/dataflow.js';

const HOUR_MS = 3_600_000;

export default defineValve({
  name: 'otp-issue',
  summary: 'Send a one-time code to a mobile or e-mail (from the request or the directory user) and answer transaction_id.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['sender'],
    properties: {
      channel: { enum: ['sms', 'email'], default: 'sms', description: 'sms: the recipient is an E.164 mobile; email: an address.' },
      user_by: {
        enum: ['id', 'username', 'mobile', 'email', 'store_manager', 'none'],
        description:
          'Directory key the user is looked up by (default: mobile for sms, email for email). store_manager: the manager of the store whose id `user` renders. none: send to any well-formed recipient.',
      },
      user: { type: 'string', minLength: 1, description: 'Template of the lookup value; default {{request.<user_by>}}.' },
      recipient: {
        type: 'string',
        minLength: 1,
        description:
          "Template of the recipient; default the user's mobile or email (user_by none: {{request.mobile}} or {{request.email}}).",
      },
      digits: { type: 'integer', minimum: 4, maximum: 10, default: 6, description: 'Length of the code, in decimal digits.' },
      ttl_seconds: {
        type: 'integer',
        minimum: 30,
        maximum: 3600,
        default: 300,
        description: 'How long the code, and its transaction_id, stay valid.',
      },
      cooldown_seconds: {
        type: 'integer',
        minimum: 0,
        maximum: 3600,
        default: 30,
        description: 'Minimum time between two codes this operation sends to one recipient (only a code sent starts it).',
      },
      max_per_hour: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        default: 5,
        description:
          'Codes this operation sends to one recipient per hour (the hour starts at the first); other operations count their own.',
      },
      purpose: {
        type: 'string',
        pattern: PURPOSE_PATTERN,
        default: 'sign-in',
        description:
          "What the code is for, kept in its transaction: only an otp-verify whose `purposes` name it redeems it (e.g. 'approval' for a manager's approval, which the public otp-verify never accepts).",
      },
      min_answer_ms: {
        type: 'integer',
        minimum: 0,
        maximum: 5000,
        default: 100,
        description:
          'Every answer (sent, decoy or refused) takes at least this long, so store and machine jitter cannot tell them apart either.',
      },
      accounts: accountsSchema,
      account_status: accountStatusSchema,
      sender: senderSchema,
    },
  },
  create(config, tools) {
    const channel = config.channel;
    const contactKey: UserKey = channel === 'sms' ? 'mobile' : 'email';
    const userBy = config.user_by ?? contactKey;
    const built = createSender(config.sender, tools.services.env, tools.services.outbound);
    if ('pointer' in built) return tools.fail(`/sender${built.pointer}`, built.message, built.code);
    const { logger, clock, metrics, audit, store: shared } = tools.services;
    // The config's delivery service, keyed by the whole sender config: nothing starts here (a
    // read-only load compiles this too); its workers run once the config serves, and stop with it.
    const deliveries = tools.services.otpDelivery ?? tools.own(new OtpDeliveries());
    // Jobs go to the shared store (any process may deliver them), not the tenant's view.
    const queue = deliveries.queue(built, shared, { log: logger, clock, metrics, audit });
    if (userBy === 'none' && config.user !== undefined)
      tools.fail('/user', 'user is ignored when user_by is "none"; remove it or pick a directory key', 'CONFIG_INVALID');
    // Bound into the transaction from the config, so a decoy is indistinguishable at verify.
    const kind = userBy === 'none' ? 'recipient' : 'user';
    const userTemplate = userBy === 'none' ? null : tools.template(config.user ?? `{{request.${userBy}}}`, '/user');
    const recipientSource = config.recipient ?? (userBy === 'none' ? `{{request.${contactKey}}}` : null);
    const recipientTemplate = recipientSource === null ? null : tools.template(recipientSource, '/recipient');
    // The property a caller should fix when the value they sent is malformed.
    const blamedProperty = soleRequestProperty(userTemplate?.source ?? recipientSource ?? '');
    const blamed = blamedProperty === undefined ? [] : [blamedProperty];
    const digits = config.digits;
    const ttlMs = config.ttl_seconds * 1000;
    const cooldownMs = config.cooldown_seconds * 1000;
    const maxPerHour = config.max_per_hour;
    const purpose = config.purpose;

    const invalid = (why: string) => refuse('INVALID_REQUEST', { erroneousProperties: blamed, detail: `otp-issue: ${why}` });

    /** Who gets the code (null: nobody, a decoy answers), and the key rate limits count under. */
    const resolve = async (ctx: CallContext): Promise<{ rateKey: string; recipient: string | null; user: DirectoryUser | null }> => {
      const scope = ctx.scope();
      if (userTemplate === null) {
        const recipient = normalizeRecipient(channel, (recipientTemplate as Template).render(scope));
        if (recipient === null) throw invalid(`not a valid ${channel} recipient`);
        return { rateKey: recipientKey(channel, recipient), recipient, user: null };
      }
      const lookup = userTemplate.render(scope);
      let counted = lookup;
      if (userBy === contactKey) {
        // The caller typed a mobile or address: its format is checked whatever the directory holds.
        const normalized = normalizeRecipient(channel, lookup);
        if (normalized === null) throw invalid(`not a valid ${channel} recipient`);
        counted = normalized;
      } else if (lookup === '' || lookup.length > 256) {
        throw invalid(`no ${userBy} to look the user up by`);
      }
      const found = await lookUp(ctx, lookup);
      if (found === undefined) return { rateKey: recipientKey(channel, counted), recipient: null, user: null };
      const recipient = normalizeRecipient(
        channel,
        recipientTemplate !== null ? recipientTemplate.render(scope) : (found[contactKey] ?? ''),
      );
      // Said in the log only: the caller gets the answer an unknown user gets.
      if (recipient === null) ctx.log.warn({ valve: 'otp-issue', user: found.id, channel }, 'user has no valid recipient; no code sent');
      return { rateKey: recipientKey(channel, recipient ?? counted), recipient, user: recipient === null ? null : found };
    };

    const accounts = config.accounts;
    const accountStatus = config.account_status;
    if (accounts !== 'directory' && (userBy === 'none' || userBy === 'store_manager'))
      tools.fail('/accounts', `store accounts are looked up by id, username, mobile or email, not ${userBy}`, 'CONFIG_INVALID');
    if (accountStatus === 'pending' && accounts !== 'store')
      tools.fail('/account_status', 'pending accounts live in the store: set accounts to "store"', 'CONFIG_INVALID');
    /** The user a lookup names, when it may get a code (the directory file, then the store, as `accounts` says). */
    const lookUp = async (ctx: CallContext, lookup: string): Promise<DirectoryUser | undefined> => {
      if (accounts === 'directory') {
        const found = findUser(ctx.services.directory, ctx.tenant.id, userBy as UserLookup, lookup);
        return usable(found) ? found : undefined;
      }
      const found = await findAccount(ctx.services.directory, ctx.store, ctx.tenant.id, accounts, userBy as UserKey, lookup);
      return eligible(found, accountStatus) ? found.user : undefined;
    };

    const minAnswerMs = config.min_answer_ms;
    const issue = async (ctx: CallContext): Promise<void> => {
      const { rateKey, recipient, user } = await resolve(ctx);
      const store = ctx.store;
      // Per operation and recipient: another operation's callers never spend this one's budget.
      const coolKey = `otp:cool:${ctx.operation}:${rateKey}`;
      const hourKey = `otp:hour:${ctx.operation}:${rateKey}`;

      if (cooldownMs > 0 && !(await store.compareAndSet(coolKey, null, '1', cooldownMs))) {
        const left = (await store.ttl(coolKey)) ?? cooldownMs;
        throw refuse('RATE_LIMITED', { headers: { 'retry-after': String(Math.ceil(left / 1000)) }, detail: 'otp-issue: resend cooldown' });
      }
      // From here the cooldown is claimed; it stays only if a code (or its decoy) goes out.
      let sent = false;
      try {
        const issued = await store.incr(hourKey, HOUR_MS);
        if (issued > maxPerHour) {
          const left = (await store.ttl(hourKey)) ?? HOUR_MS;
          throw refuse('RATE_LIMITED', { headers: { 'retry-after': String(Math.ceil(left / 1000)) }, detail: 'otp-issue: hourly limit' });
        }
        await send(ctx, recipient, user);
        sent = true;
      } finally {
        if (!sent && cooldownMs > 0) await store.del(coolKey).catch(() => undefined);
      }
    };

    const send = async (ctx: CallContext, recipient: string | null, user: DirectoryUser | null): Promise<void> => {
      const store = ctx.store;
      const id = newTransactionId();
      const now = ctx.clock.now();
      const code = recipient !== null ? newCode(digits) : '';
      const seal = recipient !== null ? sealCode(ctx.tenant.id, id, code) : decoySeal();
      const job: DeliveryJob = {
        v: 1,
        tenant: ctx.tenant.id,
        user: user?.id ?? '',
        recipient: recipient ?? '',
        channel,
        code,
        transaction_id: id,
        at: new Date(now).toISOString(),
        expires: now + ttlMs,
        attempt: 0,
        due: now,
        ...(recipient === null ? { decoy: true as const } : {}),
      };
      await queue.enqueue(job);
      ctx.services.metrics?.inc('otp_issued', { tenant: ctx.tenant.id, channel });
      const record: OtpRecord = {
        v: 1,
        ...seal,
        u: user?.id ?? '',
        r: recipient ?? '',
        c: channel,
        d: digits,
        e: now + ttlMs,
        k: kind,
        o: ctx.operation,
        p: purpose,
      };
      await store.set(txKey(id), JSON.stringify(record), ttlMs);
      ctx.item().props.transaction_id = id;
    };

    return async (ctx) => {
      const started = performance.now();
      try {
        await issue(ctx);
      } finally {
        const wait = minAnswerMs - (performance.now() - started);
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      }
    };
  },
  dataflow: (config) => {
    const userBy = config.user_by ?? (config.channel === 'sms' ? 'mobile' : 'email');
    const by: ValueKind = userBy === 'store_manager' ? 'store.id' : (`user.${userBy}` as ValueKind);
    return { sets: itemSets('', ['transaction_id']), ...(userBy === 'none' ? {} : { lookups: [{ pointer: '/user', by }] }) };
  },
});
