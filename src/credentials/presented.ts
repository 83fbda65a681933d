/**
 * The credentials a caller presents to basic-auth: from the `Authorization: Basic` header
 * (RFC 7617, parsed strictly) or from two request properties, never both at once. Malformed
 * ones are INVALID_REQUEST naming where they came from; missing or empty ones are
 * INVALID_CREDENTIALS, like a wrong password. Both are refused before any hashing or
 * counting. The user id is NFC-normalised, the password as `password_normalization` says.
 */
import type { CallContext } from '../engine/valve.js';
import { hasProp } from '../engine/props.js';
import { refuse } from '../errors.js';
import { maxTokenLength, parseBasic } from './basic-header.js';
import { credentialTextProblem, normalizeCredential } from './credential-text.js';

export type CredentialSource = 'header' | 'body';

export interface PresentedOptions {
  from: ReadonlySet<CredentialSource>;
  userProp: string;
  passProp: string;
  maxUserBytes: number;
  maxPassBytes: number;
  /** Normalises the password (password_normalization). */
  passwordForm(password: string): string;
}

export interface Presented {
  username: string;
  password: string;
}

/** A reader of the presented pair, built once per valve; it refuses what it cannot accept. */
export function presentedCredentials(options: PresentedOptions): (ctx: CallContext) => Presented {
  const { from, userProp, passProp, maxUserBytes, maxPassBytes, passwordForm } = options;
  const maxToken = maxTokenLength(maxUserBytes + 1 + maxPassBytes);
  const erroneous = [userProp, passProp];
  const invalid = (detail: string) => refuse('INVALID_CREDENTIALS', { erroneousProperties: erroneous, detail });
  const malformed = (properties: string[], detail: string) => refuse('INVALID_REQUEST', { erroneousProperties: properties, detail });

  /** The raw pair from the header or the body, or a refusal. */
  const raw = (ctx: CallContext): { username: string; password: string; where: CredentialSource } => {
    const headers = from.has('header') ? ctx.header('authorization') : undefined;
    const inBody = from.has('body') && (hasProp(ctx.request, userProp) || hasProp(ctx.request, passProp));
    if (headers && headers.length > 0) {
      if (headers.length > 1) throw malformed(['authorization'], 'two Authorization headers');
      if (inBody) throw malformed(['authorization', userProp, passProp], 'credentials both in the Authorization header and in the body');
      const parsed = parseBasic(headers[0] as string, maxToken);
      if (!parsed.ok) throw malformed(['authorization'], parsed.problem);
      return { username: parsed.username, password: parsed.password, where: 'header' };
    }
    if (inBody) return { username: ctx.request[userProp] ?? '', password: ctx.request[passProp] ?? '', where: 'body' };
    throw invalid('no credentials');
  };

  const check = (value: string, max: number, property: string, where: CredentialSource): void => {
    const problem = credentialTextProblem(value, max);
    if (problem === 'empty') throw invalid(`empty ${property}`);
    if (problem !== null) throw malformed(where === 'header' ? ['authorization'] : [property], `${property}: ${problem}`);
  };

  return (ctx) => {
    const pair = raw(ctx);
    check(pair.username, maxUserBytes, userProp, pair.where);
    check(pair.password, maxPassBytes, passProp, pair.where);
    return { username: normalizeCredential(pair.username), password: passwordForm(pair.password) };
  };
}
