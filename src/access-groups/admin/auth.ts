/**
 * Who may use the admin API: a bearer access token that this engine minted, verified by the
 * token service (the same checks as the token-verify valve: our keys and algorithms only,
 * issuer, audience, typ at+jwt, expiry, the tenant, and a live login for user tokens), whose
 * subject is in the built-in Admin group *now*. Membership is resolved from the directory
 * on every call rather than trusted from the token, so moving a client out of Admin takes
 * effect at once, not when its token expires.
 *
 * No token: 401. A token we did not mint, `alg: none`, expired, or of another tenant: 401
 * (RFC 6750 invalid_token: it does not authenticate anyone here). A valid token whose
 * subject is not in Admin: 403 (authenticated, not allowed).
 */
import type { IncomingMessage } from 'node:http';
import { AuthpipeError } from '../../errors.js';
import { MANAGEMENT_LISTENER } from '../../http/client-access.js';
import type { LoadedConfig } from '../../config/load.js';
import { TENANT_PATTERN } from '../../config-kit/patterns.js';
import { prefixedStore, tenantPrefix } from '../../store/store.js';
import { familyIsLive } from '../../tokens/families.js';
import { ADMIN_GROUP_ID } from '../catalogue.js';
import { AdminError } from './admin-error.js';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
const TENANT = new RegExp(TENANT_PATTERN);
const CHALLENGE = 'Bearer realm="authpipe-admin"';

export interface AdminSubject {
  readonly tenant: string;
  readonly sub: string;
  readonly kind: string;
}

function header(req: IncomingMessage, name: string): string[] {
  const raw = req.headersDistinct[name];
  return raw ?? [];
}

export async function authenticateAdmin(
  req: IncomingMessage,
  config: LoadedConfig,
  listenerId: string,
  now: number,
): Promise<AdminSubject> {
  const authorization = header(req, 'authorization');
  const match = authorization.length === 1 ? BEARER.exec(authorization[0] as string) : null;
  if (!match) {
    throw new AdminError('TOKEN_MISSING', 'send exactly one Authorization: Bearer <access token> header', ['authorization'], {
      'www-authenticate': CHALLENGE,
    });
  }
  // One message for every way a token fails, so the answer says nothing about other tenants; the log says why.
  const rejected = (why: string) => {
    const error = new AdminError(
      'TOKEN_REJECTED',
      'the access token was not accepted (not ours, malformed, expired, revoked, or not for this tenant)',
      ['authorization'],
      {
        'www-authenticate': `${CHALLENGE}, error="invalid_token"`,
      },
    );
    error.detail = why;
    return error;
  };

  const tenants = header(req, 'tenant');
  if (tenants.length !== 1 || !TENANT.test(tenants[0] as string))
    throw new AdminError('BAD_TENANT', 'send exactly one tenant header naming the tenant whose groups you manage', ['tenant']);
  const tenant = tenants[0] as string;
  // The management listener serves every tenant; a public one only its own.
  const served = config.listeners.some((l) => (listenerId === MANAGEMENT_LISTENER || l.http.id === listenerId) && l.tenants.has(tenant));
  // An unknown tenant is answered like a token of another tenant: no tenant enumeration before authentication.
  if (!served) throw rejected('not issued for this tenant');

  const { tokens, directory, accessGroups } = config.services;
  if (!tokens || !accessGroups)
    throw new AdminError('NOT_CONFIGURED', 'the main config file has no tokens section, so no admin token can be verified');
  let claims;
  try {
    claims = await tokens.verify(match[1] as string, { type: 'access', tenant, now, property: 'authorization' });
    if (
      typeof claims.sid === 'string' &&
      !(await familyIsLive(prefixedStore(config.services.store, tenantPrefix(tenant)), claims.sid, now))
    ) {
      throw rejected('its login was revoked or has ended');
    }
  } catch (err) {
    if (err instanceof AuthpipeError && err.code === 'TOKEN_INVALID')
      throw rejected(err.detail?.replace(/^access token: /, '') ?? 'invalid');
    throw err;
  }
  const kind = typeof claims.kind === 'string' ? claims.kind : '';
  const resolved = accessGroups.resolve(directory, tenant, { kind, sub: claims.sub });
  if (!resolved.ok || resolved.group.id !== ADMIN_GROUP_ID) {
    const why = !kind
      ? 'the token carries no kind claim, so its subject cannot be looked up'
      : resolved.ok
        ? `${kind} "${claims.sub}" is in group ${resolved.group.id}`
        : resolved.reason;
    // The caller is not told their group (that is for an admin to see); the log has it.
    const error = new AdminError('NOT_ADMIN', 'only subjects in the built-in Admin group may manage access groups');
    error.detail = why;
    throw error;
  }
  return { tenant, sub: claims.sub, kind };
}
