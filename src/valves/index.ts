/** Every valve the engine knows, registered once. Add a valve here and nowhere else. */
import type { ValveDefinition } from '../engine/valve.js';
import { ValveRegistry } from '../engine/registry.js';
import accessGroup from './access-group.js';
import accountActivate from './account-activate.js';
import accountCreate from './account-create.js';
import accountPassword from './account-password.js';
import basicAuth from './basic-auth.js';
import externalToken from './external-token.js';
import refuse from './refuse.js';
import federatedAccount from './federated-account.js';
import federatedLink from './federated-link.js';
import flowRestore from './flow-restore.js';
import flowSave from './flow-save.js';
import idpLookup from './idp-lookup.js';
import inputValidate from './input-validate.js';
import otpIssue from './otp-issue.js';
import otpVerify from './otp-verify.js';
import passkeyOptions from './passkey-options.js';
import passkeyVerify from './passkey-verify.js';
import pipeCall from './pipe-call.js';
import propertyCopy from './property-copy.js';
import propertyRemove from './property-remove.js';
import propertySet from './property-set.js';
import rateLimit from './rate-limit.js';
import risk from './risk.js';
import tokenMint from './token-mint.js';
import tokenRefresh from './token-refresh.js';
import tokenRevoke from './token-revoke.js';
import tokenVerify from './token-verify.js';
import totpVerify from './totp-verify.js';

const valves: readonly ValveDefinition<never>[] = [
  accessGroup,
  accountActivate,
  accountCreate,
  accountPassword,
  basicAuth,
  externalToken,
  refuse,
  federatedAccount,
  federatedLink,
  flowRestore,
  flowSave,
  idpLookup,
  inputValidate,
  otpIssue,
  otpVerify,
  passkeyOptions,
  passkeyVerify,
  pipeCall,
  propertyCopy,
  propertyRemove,
  propertySet,
  rateLimit,
  risk,
  tokenMint,
  tokenRefresh,
  tokenRevoke,
  tokenVerify,
  totpVerify,
] as unknown as ValveDefinition<never>[];

/** `extra`: valves beside the built-in ones, for tests (createApp's `valves` option). */
export function createRegistry(extra: readonly ValveDefinition<never>[] = []): ValveRegistry {
  return new ValveRegistry([...valves, ...extra]);
}
