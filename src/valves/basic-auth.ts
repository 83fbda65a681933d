/**
 * basic-auth: checks a till's, an API client's or a user's credentials against the directory
 * and puts the subject on the item (sub, kind, tenant, and store for a till, scope for a
 * client, username for a user). Only sysapps are API clients here; a user needs a
 * password_hash in the directory.
 * Credentials come from `Authorization: Basic` (RFC 7617, parsed strictly) or from request
 * properties; both at once is refused. Malformed credentials are INVALID_REQUEST, refused
 * before any hashing or counting. Everything after parsing is the shared credential check
 * (credentials/check.ts): a wrong password, an unknown user, a disabled account and a locked
 * one give one answer, INVALID_CREDENTIALS, after the same work and the same time; cold checks
 * run within the process's budget (RATE_LIMITED when its queue is full). Tills are locked per
 * account; API clients (long random secrets nobody guesses) per client and source address, so
 * that anyone who knows a client id cannot lock the real server out.
 */
import { refuse } from '../errors.js';
import { hasProp, subjectPrefixSchema, writePrefixed, type Props } from '../engine/props.js';
import { defineValve, type CallContext } from '../engine/valve.js';
import type { DirectoryClient, DirectoryTill, DirectoryUser } from '../directory/directory.js';
import { EmbeddedDirectory } from '../directory/load.js';
import { maxTokenLength, parseBasic } from '../credentials/basic-header.js';
import { credentialTextProblem, normalizeCredential } from '../credentials/credential-text.js';
import { normalizePassword, passwordFormSchema } from '../credentials/password-form.js';
import { PasswordCheck } from '../credentials/check.js';
import { defaultDummyHash } from '../credentials/hash.js';
import { LOCKOUT_PROPERTIES, lockoutFrom } from '../credentials/lockout.js';
import { parsePhc, type ParsedHash } from '../credentials/phc.js';
import { itemSets, type ValveDataflow } from '../engine/dataflow.js';

type Source = 'header' | 'body';

const PROPERTY = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$' } as const;
const DEFAULT_PROPERTIES = {
  till: ['username', 'password'],
  client: ['client_id', 'client_secret'],
  user: ['username', 'password'],
} as const;

type Account = DirectoryTill | DirectoryClient | DirectoryUser;

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
    const from = new Set<Source>(config.from);
    const passwordForm = normalizePassword(config.password_normalization, 'nfc');
    const userProp = config.username_property ?? DEFAULT_PROPERTIES[kind][0];
    const passProp = config.password_property ?? DEFAULT_PROPERTIES[kind][1];
    if (userProp === passProp) tools.fail('/password_property', 'must differ from username_property');
    const maxUser = config.max_username_bytes;
    const maxPass = config.max_password_bytes;
    const maxToken = maxTokenLength(maxUser + 1 + maxPass);
    const cacheTtlMs = config.cache_ttl_seconds * 1000;
    const lockout = lockoutFrom(config.lockout, tools.fail);
    const lockBy = config.lockout.by ?? (kind === 'client' ? 'source' : 'account');
    const directory = tools.services.directory;
    const embedded = directory instanceof EmbeddedDirectory ? directory : null;
    const erroneous = [userProp, passProp];
    const passwords = new PasswordCheck({ lockout, cacheTtlMs });

    const invalid = (detail: string) => refuse('INVALID_CREDENTIALS', { erroneousProperties: erroneous, detail });
    const malformed = (properties: string[], detail: string) => refuse('INVALID_REQUEST', { erroneousProperties: properties, detail });

    /** The raw pair from the header or the body, or a refusal. */
    const credentials = (ctx: CallContext): { username: string; password: string; where: Source } => {
      const headers = from.has('header') ? ctx.headers.authorization : undefined;
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

    const check = (value: string, max: number, property: string, where: Source): void => {
      const problem = credentialTextProblem(value, max);
      if (problem === 'empty') throw invalid(`empty ${property}`);
      if (problem !== null) throw malformed(where === 'header' ? ['authorization'] : [property], `${property}: ${problem}`);
    };

    const hashOf = (account: Account): string => ('client_id' in account ? account.secret_hash : account.password_hash) ?? '';

    /** The account the name designates, if it has a credential here: users without a password and userapps are unknown. */
    const accountOf = (tenant: string, username: string): Account | undefined => {
      if (kind === 'till') return directory.till(tenant, username);
      if (kind === 'user') {
        const user = directory.user(tenant, 'username', username);
        return user?.password_hash !== undefined ? user : undefined;
      }
      const client = directory.client(tenant, username);
      return client?.type === 'sysapp' && client.secret_hash !== undefined ? client : undefined;
    };

    const parsedHash = (phc: string): ParsedHash => {
      const parsed = embedded?.parsedHash(phc) ?? parsePhc(phc);
      if (typeof parsed === 'string') throw new Error(`directory hash refused: ${parsed}`);
      return parsed;
    };

    const prefix = config.prefix ?? '';
    const succeed = (ctx: CallContext, account: Account): void => {
      if (prefix === '') put(ctx.item().props, ctx.tenant.id, account);
      else writePrefixed(ctx.item().props, prefix, (props) => put(props, ctx.tenant.id, account));
    };
    const put = (props: Props, tenant: string, account: Account): void => {
      props.tenant = tenant;
      props.kind = kind;
      if ('store' in account) {
        props.sub = account.username;
        props.store = account.store;
      } else if ('id' in account) {
        props.sub = account.id;
        props.username = account.username as string;
      } else {
        props.sub = account.client_id;
        props.scope = account.scopes.join(' ');
      }
    };

    return async (ctx) => {
      const raw = credentials(ctx);
      check(raw.username, maxUser, userProp, raw.where);
      check(raw.password, maxPass, passProp, raw.where);
      const username = normalizeCredential(raw.username);
      const password = passwordForm(raw.password);
      const tenant = ctx.tenant.id;
      const account = accountOf(tenant, username);
      const accountKey = `${kind}:${username}`;
      const verdict = await passwords.check(ctx, {
        kind,
        username,
        password,
        account: account ? { hash: parsedHash(hashOf(account)), active: account.status === 'active' } : undefined,
        dummy: embedded?.dummyHash(tenant, kind) ?? defaultDummyHash(),
        lockoutKey: lockBy === 'account' ? accountKey : `${accountKey}@${ctx.request.client_ip ?? ''}`,
      });
      if (!verdict.ok) {
        throw invalid(
          verdict.lockedForMs === null ? verdict.reason : `${verdict.reason}; account now locked for ${verdict.lockedForMs / 1000} s`,
        );
      }
      succeed(ctx, account as Account);
    };
  },
  dataflow: (config) =>
    ({
      sets: itemSets(config.prefix ?? '', [
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
