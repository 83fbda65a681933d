/**
 * account-password: sets a new password on a self-service account (a reset after otp-verify
 * proved its phone, `accounts: "store"`). Enforces: the new password's strength (as
 * account-create: PASSWORD_WEAK); only an active store account (never a user of the directory
 * file, whose passwords are the operator's file); the record replaced with compare-and-set.
 * In the hosted login it is its own step after the code step, continuing the code step's flow
 * (flow-restore `keep: true`), so a refused password can be typed again without a new code.
 */
import { refuse } from '../errors.js';
import { defineValve } from '../engine/valve.js';
import { hashPassword } from '../credentials/hash.js';
import { ACCOUNT_OPTION, getAccount, updateAccount } from '../accounts/registry.js';
import { STRENGTH_PROPERTIES, strengthCheck } from '../accounts/strength.js';
import { soleRequestProperty } from '../engine/template.js';

export default defineValve({
  name: 'account-password',
  summary: 'Set a new password (strength-checked) on an active self-service account, e.g. a reset after otp-verify.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...ACCOUNT_OPTION,
      password: { type: 'string', minLength: 1, default: '{{request.new_password}}', description: 'Template of the new password.' },
      ...STRENGTH_PROPERTIES,
    },
  },
  create(config, tools) {
    const accountTemplate = tools.template(config.account, '/account');
    const passwordTemplate = tools.template(config.password, '/password');
    const blamed = soleRequestProperty(passwordTemplate.source) ?? 'new_password';
    const check = strengthCheck(config, tools.services.configDir, (pointer, message) => tools.fail(pointer, message, 'CONFIG_INVALID'));
    return async (ctx) => {
      const scope = ctx.scope();
      const password = passwordTemplate.render(scope);
      const before = await getAccount(ctx.store, accountTemplate.render(scope));
      if (before === undefined || before.status !== 'active')
        throw refuse('OTP_INVALID', { erroneousProperties: ['otp'], detail: 'account-password: no active self-service account' });
      check(password, [before.username ?? '', before.email ?? '', before.mobile ?? ''], blamed);
      const after = { ...before, password_hash: await hashPassword(password.normalize('NFC')) };
      if (!(await updateAccount(ctx.store, before, after)))
        throw refuse('OTP_INVALID', { erroneousProperties: ['otp'], detail: 'account-password: account changed meanwhile' });
    };
  },
});
