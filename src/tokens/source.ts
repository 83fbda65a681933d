/**
 * Where a valve finds the token: a request property, or the Authorization header as
 * `Bearer <token>` (RFC 6750), or `DPoP <token>` where the valve checks DPoP proofs. A missing,
 * doubled or other header is TOKEN_INVALID.
 */
import { refuse } from '../errors.js';
import { hasProp } from '../engine/props.js';
import type { CallContext } from '../engine/valve.js';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
/** RFC 9449 §7.1: a DPoP-bound token travels with the DPoP scheme (token-verify takes it, and then checks the proof). */
const DPOP = /^DPoP +([A-Za-z0-9._~+/-]+=*) *$/i;

export interface FoundToken {
  token: string;
  /** Named in erroneousProperties when the token is refused. */
  property: string;
  /** How the Authorization header presented it (a request property counts as bearer). */
  scheme: 'bearer' | 'dpop';
}

export function findToken(ctx: CallContext, property: string | undefined, options: { dpop?: boolean } = {}): FoundToken {
  if (property !== undefined) {
    if (!hasProp(ctx.request, property) || ctx.request[property] === '') {
      throw refuse('TOKEN_INVALID', { erroneousProperties: [property], detail: `no token in request property ${property}` });
    }
    return { token: ctx.request[property] as string, property, scheme: 'bearer' };
  }
  const values = ctx.header('authorization');
  if (!values || values.length !== 1) {
    throw refuse('TOKEN_INVALID', {
      erroneousProperties: ['authorization'],
      detail: values ? 'authorization header doubled' : 'no authorization header',
    });
  }
  const match = BEARER.exec(values[0] as string);
  if (match) return { token: match[1] as string, property: 'authorization', scheme: 'bearer' };
  const bound = options.dpop ? DPOP.exec(values[0] as string) : null;
  if (bound) return { token: bound[1] as string, property: 'authorization', scheme: 'dpop' };
  throw refuse('TOKEN_INVALID', { erroneousProperties: ['authorization'], detail: 'authorization is not a Bearer token' });
}
