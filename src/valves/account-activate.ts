/**
 * account-activate: makes a pending self-service account active once its phone is verified:
 * put it after otp-verify (`accounts: "store"`, `account_status: "pending"`), which put the
 * account on the item. Enforces: the account is a pending store account, and the verified
 * recipient is its mobile; anything else is OTP_INVALID (the code proved nothing about it).
 * The record is replaced with compare-and-set, its names then held for good.
 */
import { refuse } from '../errors.js';
import { defineValve } from '../engine/valve.js';
import { ACCOUNT_OPTION, getAccount, updateAccount } from '../accounts/registry.js';

export default defineValve({
  name: 'account-activate',
  summary: 'Make a pending self-service account active after otp-verify proved its mobile.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...ACCOUNT_OPTION,
      recipient: {
        type: 'string',
        minLength: 1,
        default: '{{item.recipient}}',
        description: "Template of the verified mobile (otp-verify puts it in recipient); must be the account's.",
      },
    },
  },
  create(config, tools) {
    const accountTemplate = tools.template(config.account, '/account');
    const recipientTemplate = tools.template(config.recipient, '/recipient');
    const refused = (detail: string) => refuse('OTP_INVALID', { erroneousProperties: ['otp'], detail: `account-activate: ${detail}` });
    return async (ctx) => {
      const scope = ctx.scope();
      const before = await getAccount(ctx.store, accountTemplate.render(scope));
      if (before === undefined || before.status !== 'pending') throw refused('no pending account');
      if (before.mobile !== recipientTemplate.render(scope)) throw refused("the verified recipient is not the account's mobile");
      if (!(await updateAccount(ctx.store, before, { ...before, status: 'active' }))) throw refused('account changed meanwhile');
    };
  },
});
