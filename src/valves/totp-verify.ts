/**
 * totp-verify: checks an authenticator-app code (RFC 6238) against the directory user's
 * base32 `totp_secret`, and on success puts the user on the item.
 * Enforces: exact ASCII digits; a ±window of steps; no replay (the last accepted step per
 * user is kept with compare-and-set, and a code of that step or an earlier one is refused,
 * so two parallel uses of one code give one success; the step just accepted, sent again, is
 * refused without counting as a failure, so a double submit never locks the user out); at most `max_failures` failed checks
 * per user in `lockout_seconds`, counted atomically before the check so parallel guesses
 * cannot exceed it. An unknown user, a user without a secret and a wrong code get the same
 * answer after the same work (a throwaway secret stands in).
 */
import { createHash, randomBytes } from 'node:crypto';
import { refuse } from '../errors.js';
import { defineValve } from '../engine/valve.js';
import { subjectPrefixSchema, writePrefixed } from '../engine/props.js';
import { soleRequestProperty } from '../engine/template.js';
import type { DirectoryUser } from '../directory/directory.js';
import { base32Decode, matchTotp } from '../otp/hotp.js';
import { putUser, usable } from '../otp/user-props.js';
import { lookupKey } from '../directory/load.js';
import { itemSets, type ValueKind } from '../engine/dataflow.js';
import { USER_SETS } from '../otp/user-props.js';

/** Decoded secrets per directory user object: a reload brings new objects and a fresh cache. */
const secrets = new WeakMap<DirectoryUser, Buffer | null>();

function secretOf(user: DirectoryUser): Buffer | null {
  let secret = secrets.get(user);
  if (secret === undefined) {
    const decoded = user.totp_secret === undefined ? null : base32Decode(user.totp_secret);
    // Under 80 bits is below RFC 4226's floor (128, 160 recommended): refuse to trust it.
    secret = decoded !== null && decoded.length >= 10 ? decoded : null;
    secrets.set(user, secret);
  }
  return secret;
}

export default defineValve({
  name: 'totp-verify',
  summary: "Check an authenticator-app code (RFC 6238) against the directory user's TOTP secret, once per step.",
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      user_by: { enum: ['id', 'username', 'mobile', 'email'], default: 'username', description: 'Directory key the user is looked up by.' },
      user: { type: 'string', minLength: 1, description: 'Template of the lookup value; default {{request.<user_by>}}.' },
      otp: { type: 'string', minLength: 1, default: '{{request.otp}}', description: 'Template of the code the user typed.' },
      algorithm: { enum: ['SHA1', 'SHA256', 'SHA512'], default: 'SHA1', description: 'The HMAC the authenticator app was enrolled with.' },
      digits: { type: 'integer', minimum: 6, maximum: 8, default: 6, description: 'Length of the code the authenticator app shows.' },
      period: { type: 'integer', minimum: 15, maximum: 120, default: 30, description: 'Step length in seconds.' },
      window: { type: 'integer', minimum: 0, maximum: 2, default: 1, description: 'Steps accepted either side of now (clock drift).' },
      max_failures: {
        type: 'integer',
        minimum: 1,
        maximum: 100,
        default: 5,
        description: 'Failed checks per user allowed within lockout_seconds; beyond them the user is refused RATE_LIMITED.',
      },
      lockout_seconds: {
        type: 'integer',
        minimum: 1,
        maximum: 86400,
        default: 300,
        description: 'How long failures count; the user is refused RATE_LIMITED past max_failures.',
      },
      prefix: subjectPrefixSchema,
    },
  },
  create(config, tools) {
    const userBy = config.user_by;
    const userTemplate = tools.template(config.user ?? `{{request.${userBy}}}`, '/user');
    const otpTemplate = tools.template(config.otp, '/otp');
    const userProperty = soleRequestProperty(userTemplate.source);
    const prefix = config.prefix;
    const options = { algorithm: config.algorithm, digits: config.digits, period: config.period, window: config.window };
    const codeShape = new RegExp(`^[0-9]{${options.digits}}$`);
    const maxFailures = config.max_failures;
    const lockoutMs = config.lockout_seconds * 1000;
    // The last accepted step must outlive every moment it could still be accepted.
    const replayTtlMs = (2 * options.window + 2) * options.period * 1000;
    const throwaway = randomBytes(20);
    const wrong = (detail: string) => refuse('OTP_INVALID', { erroneousProperties: ['otp'], detail: `totp-verify: ${detail}` });

    return async (ctx) => {
      const scope = ctx.scope();
      const code = otpTemplate.render(scope);
      const lookup = userTemplate.render(scope);
      if (lookup === '' || lookup.length > 256) {
        throw refuse('INVALID_REQUEST', { erroneousProperties: userProperty ? [userProperty] : [], detail: `totp-verify: no ${userBy}` });
      }
      if (code.length !== options.digits || !codeShape.test(code)) throw wrong('malformed code');

      const store = ctx.store;
      const found = ctx.services.directory.user(ctx.tenant.id, userBy, lookup);
      // Failures count per user, however the lookup value is spelt (emails ignore case), so
      // no spelling gets fresh tries; an unknown user counts per normalised lookup value.
      const counted = found ? `id\n${found.id}` : `${userBy}\n${lookupKey(userBy, lookup)}`;
      const failKey = `totp:fail:${createHash('sha256').update(counted).digest('base64url')}`;
      const tries = await store.incr(failKey, lockoutMs);
      if (tries > maxFailures) {
        const left = (await store.ttl(failKey)) ?? lockoutMs;
        throw refuse('RATE_LIMITED', {
          headers: { 'retry-after': String(Math.ceil(left / 1000)) },
          detail: 'totp-verify: too many failures',
        });
      }

      const user = usable(found) && secretOf(found) !== null ? found : null;
      const step = matchTotp(user ? (secretOf(user) as Buffer) : throwaway, code, ctx.clock.now(), options);
      if (user === null || step === null) throw wrong(user === null ? 'unknown user or no secret' : 'wrong code');

      const lastKey = `totp:last:${user.id}`;
      const last = await store.get(lastKey);
      // The code just accepted, sent again within its step (a double click, a retried request)
      // is refused but is no guess: its failure slot is given back.
      const doubleSubmit = async (detail: string): Promise<never> => {
        await store.incr(failKey, lockoutMs, -1);
        throw wrong(detail);
      };
      if (last !== null && Number(last) === step) return doubleSubmit('code of the step just used (double submit; not counted)');
      if (last !== null && Number(last) > step) throw wrong('code of an already used step (replay)');
      if (!(await store.compareAndSet(lastKey, last, String(step), replayTtlMs))) {
        if ((await store.get(lastKey)) === String(step)) return doubleSubmit('raced another use of this step (double submit; not counted)');
        throw wrong('raced another use of this step (replay)');
      }

      await store.del(failKey);
      writePrefixed(ctx.item().props, prefix, (props) => putUser(props, user));
      ctx.proved.amr.push('otp');
    };
  },
  dataflow: (config) => {
    const prefix = config.prefix;
    return {
      sets: itemSets(prefix, USER_SETS),
      setsAny: [{ place: 'item', prefix }],
      lookups: [{ pointer: '/user', by: `user.${config.user_by}` as ValueKind }],
    };
  },
});
