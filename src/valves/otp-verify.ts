/**
 * otp-verify: checks a code against the transaction otp-issue created, and on success puts
 * the user (sub, username, mobile, email, attributes) or the bare recipient on the item.
 * Enforces: exact ASCII digits of the issued length (anything else is refused before the
 * store is touched); a constant-time hash comparison; at most `max_attempts` tries counted
 * atomically (parallel guesses cannot exceed it), after which the transaction is dead;
 * single use through an atomic take, so of N parallel right answers exactly one succeeds;
 * expiry; the issuing tenant (the store is tenant-scoped and the tenant is in the MAC); and
 * the code's purpose, so a code sent for an approval never signs anyone in at a verify that
 * expects sign-in codes (the default).
 */
import { AuthpipeError, refuse } from '../errors.js';
import { defineValve, type CallContext } from '../engine/valve.js';
import { subjectPrefixSchema, writePrefixed } from '../engine/props.js';
import { OPERATION_PATTERN } from '../config-kit/patterns.js';
import {
  attemptsKey,
  codeMatches,
  parseRecord,
  PURPOSE_PATTERN,
  TRANSACTION_ID,
  transactionKind,
  transactionPurpose,
  txKey,
} from '../otp/transaction.js';
import { putUser } from '../otp/user-props.js';
import { accountsSchema, accountStatusSchema, eligible, findAccount } from '../accounts/registry.js';
import { itemSets } from '../engine/dataflow.js';
import { USER_SETS } from '../otp/user-props.js';

const DIGITS = /^[0-9]{4,10}$/;

export default defineValve({
  name: 'otp-verify',
  summary: 'Check a one-time code against its transaction (attempts, expiry, single use) and put the user on the item.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      transaction_id: {
        type: 'string',
        minLength: 1,
        default: '{{request.transaction_id}}',
        description: 'Template of the transaction id otp-issue answered.',
      },
      otp: { type: 'string', minLength: 1, default: '{{request.otp}}', description: 'Template of the code the user typed.' },
      max_attempts: {
        type: 'integer',
        minimum: 1,
        maximum: 10,
        default: 3,
        description:
          'Tries per transaction; then it is dead. The last wrong try blames both otp and transaction_id (erroneousProperties), so the caller knows to start again.',
      },
      expects: {
        enum: ['user', 'recipient'],
        default: 'user',
        description:
          'user: only codes an otp-issue sent to a directory user; recipient: only codes of otp-issue user_by "none" (no user is put on the item).',
      },
      issued_by: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', pattern: OPERATION_PATTERN },
        description: 'Operations whose codes this verify accepts; absent: any of this tenant.',
      },
      purposes: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', pattern: PURPOSE_PATTERN },
        default: ['sign-in'],
        description: "Purposes (otp-issue's `purpose`) whose codes this verify redeems; a code issued for any other is refused.",
      },
      accounts: accountsSchema,
      account_status: accountStatusSchema,
      prefix: subjectPrefixSchema,
    },
  },
  create(config, tools) {
    const txTemplate = tools.template(config.transaction_id, '/transaction_id');
    const otpTemplate = tools.template(config.otp, '/otp');
    const maxAttempts = config.max_attempts;
    const expects = config.expects;
    const issuedBy = config.issued_by === undefined ? null : new Set(config.issued_by);
    const purposes = new Set(config.purposes);
    const prefix = config.prefix;
    const accounts = config.accounts;
    const accountStatus = config.account_status;
    if (accountStatus === 'pending' && accounts !== 'store')
      tools.fail('/account_status', 'pending accounts live in the store: set accounts to "store"', 'CONFIG_INVALID');
    const badCode = (detail: string) => refuse('OTP_INVALID', { erroneousProperties: ['otp'], detail: `otp-verify: ${detail}` });
    const badTransaction = (detail: string) =>
      refuse('OTP_INVALID', { erroneousProperties: ['transaction_id'], detail: `otp-verify: ${detail}` });

    const verify = async (ctx: CallContext): Promise<void> => {
      const scope = ctx.scope();
      const id = txTemplate.render(scope);
      const code = otpTemplate.render(scope);
      if (!TRANSACTION_ID.test(id)) throw badTransaction('malformed transaction id');
      if (code.length > 10 || !DIGITS.test(code)) throw badCode('malformed code');

      const store = ctx.store;
      const stored = await store.get(txKey(id));
      if (stored === null) throw badTransaction('unknown, expired, used or dead transaction');
      const record = parseRecord(stored);
      const now = ctx.clock.now();
      if (now >= record.e) throw badTransaction('expired transaction');
      // Decided by the issuing pipe's config, never by whether its user existed: no enumeration.
      if (transactionKind(record) !== expects)
        throw badTransaction(`a ${transactionKind(record)} transaction; this verify expects ${expects}`);
      if (!purposes.has(transactionPurpose(record)))
        throw badTransaction(`a code for ${transactionPurpose(record)}; this verify redeems ${[...purposes].join(', ')}`);
      if (issuedBy !== null && !issuedBy.has(record.o ?? ''))
        throw badTransaction(`issued by ${record.o ?? 'an unnamed operation'}, not one of issued_by`);
      if (code.length !== record.d) throw badCode(`expected ${record.d} digits`);

      // The counter outlives the record by a margin, so a transaction never gets a fresh budget.
      const attempt = await store.incr(attemptsKey(id), Math.max(1, record.e - now) + 60_000);
      // Past the budget the transaction is dead. It is not deleted here: a right answer sent in
      // parallel within the budget may be between its count and its take, and must still win.
      if (attempt > maxAttempts) throw badTransaction('no attempts left');
      if (!codeMatches(record, ctx.tenant.id, id, code)) {
        // The last try spent: the transaction is dead too, so the caller (the hosted login) can
        // tell now, not one submit later, that asking for the code again is pointless.
        if (attempt === maxAttempts)
          throw refuse('OTP_INVALID', {
            erroneousProperties: ['otp', 'transaction_id'],
            detail: `otp-verify: wrong code, no attempts left (attempt ${attempt} of ${maxAttempts})`,
          });
        throw badCode(`wrong code (attempt ${attempt} of ${maxAttempts})`);
      }
      // The right code: only the caller whose take finds the record wins; a parallel twin
      // (or one that outlived the TTL since its read) gets null.
      if ((await store.take(txKey(id))) === null) throw badTransaction('already used');
      // Tidying only: the counter expires soon after the transaction anyway.
      await store.del(attemptsKey(id)).catch(() => undefined);

      const found =
        record.u === '' ? undefined : await findAccount(ctx.services.directory, ctx.store, ctx.tenant.id, accounts, 'id', record.u);
      // Disabled or removed since the code was sent (or, for a sign-up, activated): the code no longer counts.
      if (expects === 'user' && !eligible(found, accountStatus)) throw badTransaction('user gone or disabled since issue');
      const user = eligible(found, accountStatus) ? found.user : undefined;
      writePrefixed(ctx.item().props, prefix, (props) => {
        props.channel = record.c;
        props.recipient = record.r;
        if (user !== undefined) putUser(props, user);
      });
      ctx.proved.amr.push('otp');
    };

    return async (ctx) => {
      let result = 'ok';
      try {
        await verify(ctx);
      } catch (err) {
        result =
          !(err instanceof AuthpipeError) || !err.isRefusal
            ? 'error'
            : err.erroneousProperties.includes('otp')
              ? 'wrong_code'
              : 'bad_transaction';
        throw err;
      } finally {
        ctx.services.metrics?.inc('otp_verified', { tenant: ctx.tenant.id, result });
      }
    };
  },
  dataflow: (config) => {
    const prefix = config.prefix;
    if (config.expects === 'recipient') return { sets: itemSets(prefix, ['channel', 'recipient']) };
    return { sets: itemSets(prefix, ['channel', 'recipient', ...USER_SETS]), setsAny: [{ place: 'item', prefix }] };
  },
});
