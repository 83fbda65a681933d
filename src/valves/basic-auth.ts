/**
 * basic-auth: checks a till's, an API client's or a user's credentials against the directory
 * and puts the subject on the item (sub, kind, tenant, and store for a till, scope for a
 * client, username for a user). Only sysapps are API clients here; a user needs a
 * password_hash in the directory.
 * Credentials come from `Authorization: Basic` (RFC 7617, parsed strictly) or from request
 * properties; both at once is refused. Malformed credentials are INVALID_REQUEST, refused
 * before any hashing or counting (credentials/presented.ts); the account they name is found
 * by directory/accounts.ts. Everything after that is the shared credential check
 * (credentials/check.ts): a wrong password, an unknown user, a disabled account and a locked
 * one give one answer, INVALID_CREDENTIALS, after the same work and the same time; cold checks
 * run within the process's budget (RATE_LIMITED when its queue is full). Tills are locked per
 * account; API clients (long random secrets nobody guesses) per client and source address, so
 * that anyone who knows a client id cannot lock the real server out.
 */
import { refuse } from '../errors.js';
import { subjectPrefixSchema, writePrefixed } from '../engine/props.js';
import { defineValve, type CallContext } from '../engine/valve.js';
import { CredentialAccounts, putSubject, type Account } from '../directory/accounts.js';
import { normalizePassword, passwordFormSchema } from '../credentials/password-form.js';
import { PasswordCheck, type CheckVerdict } from '../credentials/check.js';
import { LOCKOUT_PROPERTIES, lockoutFrom } from '../credentials/lockout.js';
import { presentedCredentials } from '../credentials/presented.js';
import { itemSets, type ValveDataflow } from '../engine/dataflow.js';
import { accountsSchema, findAccount } from '../accounts/registry.js';
import type { DirectoryUser } from '../directory/directory.js';

const PROPERTY = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$' } as const;
const DEFAULT_PROPERTIES = {
  till: ['username', 'password'],
  client: ['client_id', 'client_secret'],
  user: ['username', 'password'],
} as const;

export default defineValve({
  name: 'basic-auth',
  summary: 'Check till or API client credentials (Basic header or body) against the directory, with cache and lockout.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['kind'],
    properties: {
      kind: {
        enum: ['till', 'client', 'user'],
        description: 'Which directory entries the credentials name (a user by username, with a password_hash).',
      },
      from: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { enum: ['header', 'body'] },
        default: ['header', 'body'],
        description:
          'Where credentials may come from: the Authorization: Basic header, request properties, or both (not both at once in one call).',
      },
      username_property: {
        ...PROPERTY,
        description: 'Request property with the user id (default username for tills, client_id for clients).',
      },
      password_property: {
        ...PROPERTY,
        description: 'Request property with the password (default password for tills, client_secret for clients).',
      },
      max_username_bytes: {
        type: 'integer',
        minimum: 1,
        maximum: 1024,
        default: 128,
        description: 'Longer user ids (in UTF-8 bytes) are refused as INVALID_REQUEST before any hashing or counting.',
      },
      max_password_bytes: {
        type: 'integer',
        minimum: 1,
        maximum: 4096,
        default: 256,
        description: 'Longer passwords are refused before hashing.',
      },
      password_normalization: passwordFormSchema('nfc'),
      cache_ttl_seconds: {
        type: 'integer',
        minimum: 0,
        maximum: 3600,
        default: 60,
        description: 'How long a verified credential skips the hash; 0: no cache.',
      },
      accounts: {
        ...accountsSchema,
        description:
          'kind user: where users are looked up: the directory file only, the file then self-service accounts in the store (sign-up; a pending one is refused as a wrong password), or the store only.',
      },
      prefix: subjectPrefixSchema,
      lockout: {
        description: 'Account lockout: failed checks counted in the store, and the account refused (as a wrong password) while locked.',
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          ...LOCKOUT_PROPERTIES,
          by: {
            enum: ['account', 'source'],
            description:
              'What failures lock: the account (default for tills), or the account from one source address (default for API clients: their long random secrets are not guessed, and anyone who knows a client id could otherwise lock the real server out).',
          },
        },
      },
    },
  },
  create(config, tools) {
    const kind = config.kind;
    const userProp = config.username_property ?? DEFAULT_PROPERTIES[kind][0];
    const passProp = config.password_property ?? DEFAULT_PROPERTIES[kind][1];
    if (userProp === passProp) tools.fail('/password_property', 'must differ from username_property', 'CONFIG_INVALID');
    const presented = presentedCredentials({
      from: new Set(config.from),
      userProp,
      passProp,
      maxUserBytes: config.max_username_bytes,
      maxPassBytes: config.max_password_bytes,
      passwordForm: normalizePassword(config.password_normalization, 'nfc'),
    });
    const accounts = new CredentialAccounts(kind, tools.services.directory);
    const passwords = new PasswordCheck({ lockout: lockoutFrom(config.lockout, tools.fail), cacheTtlMs: config.cache_ttl_seconds * 1000 });
    const lockBy = config.lockout.by ?? (kind === 'client' ? 'source' : 'account');
    const prefix = config.prefix;
    const erroneous = [userProp, passProp];
    const source = config.accounts;
    if (source !== 'directory' && kind !== 'user')
      tools.fail('/accounts', 'only users have self-service accounts: use kind user', 'CONFIG_INVALID');

    /** Checks the presented pair against `account`; at once on the hot path (a cached credential, a memory store). */
    const verify = (ctx: CallContext, username: string, password: string, account: Account | undefined): Promise<void> | undefined => {
      const tenant = ctx.tenant.id;
      const accountKey = `${kind}:${username}`;
      const lockoutKey = lockBy === 'account' ? accountKey : `${accountKey}@${ctx.request.client_ip ?? ''}`;
      // A hosted login for a pool the user is not in: refused as a wrong password, after the
      // same work (the account's own hash, then the refusal work) and the same floor. Its
      // failures count on a counter of their own for that pool, never on the account's, so a
      // public pool's page cannot lock a staff account out of its own pool.
      const outsider = ctx.loginPool !== undefined && account !== undefined && !inPool(account, ctx.loginPool);
      const verdict = passwords.check(ctx, {
        kind,
        username,
        password,
        account: account ? { hash: accounts.hashOf(account), active: account.status === 'active' && !outsider } : undefined,
        dummy: accounts.dummyHash(tenant),
        lockoutKey: outsider ? `${lockoutKey}@pool:${ctx.loginPool}` : lockoutKey,
        // A member, not a spread of one: V8 copies a spread in a literal on its slow path, on every call.
        apart: outsider ? `not-in:${ctx.loginPool}` : undefined,
      });
      if (verdict instanceof Promise) return verdict.then((settled) => accept(ctx, settled, account, outsider));
      accept(ctx, verdict, account, outsider);
      return undefined;
    };

    const accept = (ctx: CallContext, verdict: CheckVerdict, account: Account | undefined, outsider: boolean): void => {
      if (!verdict.ok) {
        const reason = outsider && verdict.reason === 'account disabled' ? `not in pool ${ctx.loginPool}` : verdict.reason;
        const detail = verdict.lockedForMs === null ? reason : `${reason}; account now locked for ${verdict.lockedForMs / 1000} s`;
        throw refuse('INVALID_CREDENTIALS', { erroneousProperties: erroneous, detail });
      }
      const found = account as Account;
      const tenant = ctx.tenant.id;
      ctx.proved.amr.push('pwd');
      if (prefix === '') putSubject(ctx.item().props, kind, tenant, found);
      else writePrefixed(ctx.item().props, prefix, (props) => putSubject(props, kind, tenant, found));
    };

    // Not an async function: a till whose credential was verified a moment ago passes without
    // a promise when the store answers at once (memory); anything else returns its promise.
    return (ctx) => {
      const { username, password } = presented(ctx);
      ctx.claimed = username;
      if (source === 'directory') return verify(ctx, username, password, accounts.find(ctx.tenant.id, username));
      return findAccount(ctx.services.directory, ctx.store, ctx.tenant.id, source, 'username', username).then((found) =>
        verify(ctx, username, password, withPassword(found?.user)),
      );
    };
  },
  dataflow: (config) =>
    ({
      sets: itemSets(config.prefix, [
        { name: 'sub', kind: config.kind === 'till' ? 'till.username' : config.kind === 'user' ? 'user.id' : 'client.id' },
        'kind',
        'tenant',
        ...(config.kind === 'till'
          ? [{ name: 'store', kind: 'store.id' } as const]
          : config.kind === 'user'
            ? [{ name: 'username', kind: 'user.username' } as const]
            : ['scope']),
      ]),
    }) satisfies ValveDataflow,
});

/** A user without a password has no credential here: unknown, as CredentialAccounts says. */
function withPassword(user: DirectoryUser | undefined): DirectoryUser | undefined {
  return user?.password_hash !== undefined ? user : undefined;
}

/** A user may sign in to the pools it lists (every pool when it lists none); tills and clients are in no pool. */
function inPool(account: Account, pool: string): boolean {
  if (!('id' in account)) return false;
  return account.pools === undefined || account.pools.includes(pool);
}
