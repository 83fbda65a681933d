/**
 * Where a valve finds the token: a request property, or the Authorization header as
 * `Bearer <token>` (RFC 6750). A missing, doubled or non-Bearer header is TOKEN_INVALID.
 */
import { refuse } from '../errors.js';
import { hasProp } from '../engine/props.js';
import type { CallContext } from '../engine/valve.js';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

export interface FoundToken {
  token: string;
  /** Named in erroneousProperties when the token is refused. */
  property: string;
}

export function findToken(ctx: CallContext, property: string | undefined): FoundToken {
  if (property !== undefined) {
    if (!hasProp(ctx.request, property) || ctx.request[property] === '') {
      throw refuse('TOKEN_INVALID', { erroneousProperties: [property], detail: `no token in request property ${property}` });
    }
    return { token: ctx.request[property] as string, property };
  }
  const values = ctx.headers.authorization;
  if (!values || values.length !== 1) {
    throw refuse('TOKEN_INVALID', {
      erroneousProperties: ['authorization'],
      detail: values ? 'authorization header doubled' : 'no authorization header',
    });
  }
  const match = BEARER.exec(values[0] as string);
  if (!match) throw refuse('TOKEN_INVALID', { erroneousProperties: ['authorization'], detail: 'authorization is not a Bearer token' });
  return { token: match[1] as string, property: 'authorization' };
}
