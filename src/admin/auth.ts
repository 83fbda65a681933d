/**
 * Who may use the admin API: a bearer access token that this engine minted, verified by the
 * token service (the same checks as the token-verify valve: our keys and algorithms only,
 * issuer, audience, typ at+jwt, expiry, the tenant, and a live login and token: tokens/revocation.ts), whose
 * subject is in the built-in Admin group *now*. Membership is resolved from the directory
 * on every call rather than trusted from the token, so moving a client out of Admin takes
 * effect at once, not when its token expires.
 *
 * No token: 401. A token we did not mint, `alg: none`, expired, or of another tenant: 401
 * (RFC 6750 invalid_token: it does not authenticate anyone here). A valid token whose
 * subject is not in Admin: 403 (authenticated, not allowed).
 */
import type { IncomingMessage } from 'node:http';
import { AuthpipeError } from '../errors.js';
import { MANAGEMENT_LISTENER } from '../http/client-access.js';
import type { LoadedConfig } from '../config/load.js';
import { TENANT_PATTERN } from '../config-kit/patterns.js';
import { prefixedStore, tenantPrefix } from '../store/store.js';
import { tokenIsLive } from '../tokens/revocation.js';
import { ADMIN_GROUP_ID } from '../access-groups/resources.js';
import { AdminError } from './admin-error.js';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
const TENANT = new RegExp(TENANT_PATTERN);
const CHALLENGE = 'Bearer realm="authpipe-admin"';

/**
 * An operator runs the installation (listeners, shared pipes, every tenant); a tenant admin
 * (the Admin group of one tenant) only what belongs to that tenant.
 */
export type AdminRole = 'operator' | 'tenant-admin';

export interface AdminSubject {
  /** The tenant the call acts on (its `tenant` header). */
  readonly tenant: string;
  readonly sub: string;
  readonly kind: string;
  readonly role: AdminRole;
}

/**
 * An operator signs in as a subject of its home tenant, so that tenant's admins could become
 * one by changing the operator's account or by writing a pipe that mints its tokens or
 * weakens its login: in an operator's home tenant both are the operator's.
 */
export function operatorHome(config: LoadedConfig, tenant: string): boolean {
  return config.main.management.operators.some((o) => o.tenant === tenant);
}

export function isOperatorAccount(config: LoadedConfig, tenant: string, kind: string, sub: string): boolean {
  return config.main.management.operators.some((o) => o.tenant === tenant && o.kind === kind && o.sub === sub);
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
  const verify = async (home: string) => {
    try {
      const claims = await tokens.verify(match[1] as string, { type: 'access', tenant: home, now, property: 'authorization' });
      if (!(await tokenIsLive(prefixedStore(config.services.store, tenantPrefix(home)), claims, now))) {
        throw rejected('its login was revoked or has ended');
      }
      return claims;
    } catch (err) {
      if (err instanceof AuthpipeError && err.code === 'TOKEN_INVALID')
        throw rejected(err.detail?.replace(/^access token: /, '') ?? 'invalid');
      throw err;
    }
  };
  const operators = config.main.management.operators;
  // Listed in the operator's main file, and still an active account of its tenant's directory.
  const isOperator = (home: string, kind: string, sub: string) => {
    if (!isOperatorAccount(config, home, kind, sub)) return false;
    const account =
      kind === 'user' ? directory.user(home, 'id', sub) : kind === 'till' ? directory.till(home, sub) : directory.client(home, sub);
    return account !== undefined && account.status !== 'disabled';
  };

  let claims;
  try {
    claims = await verify(tenant);
  } catch (first) {
    // An operator acts on every tenant with a token of its own tenant.
    for (const home of new Set(operators.map((o) => o.tenant))) {
      if (home === tenant) continue;
      const theirs = await verify(home).catch(() => undefined);
      const kind = typeof theirs?.kind === 'string' ? theirs.kind : '';
      if (theirs && isOperator(home, kind, theirs.sub)) return { tenant, sub: theirs.sub, kind, role: 'operator' };
    }
    throw first;
  }
  const kind = typeof claims.kind === 'string' ? claims.kind : '';
  if (isOperator(tenant, kind, claims.sub)) return { tenant, sub: claims.sub, kind, role: 'operator' };
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
  return { tenant, sub: claims.sub, kind, role: 'tenant-admin' };
}
