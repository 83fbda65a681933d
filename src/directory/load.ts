/**
 * Builds the Directory from config/directory.json, once per config load. The file is
 * validated against its schema, then cross-checked: a till's store exists in its tenant,
 * every hash parses with sane cost parameters, and the keys lookups use are unique. Every
 * problem becomes an issue naming the file and the JSON pointer. Lookups are Map reads on
 * frozen entries, so a call can never modify the directory or reach another tenant's data.
 */
import { resolve } from 'node:path';
import { newAjv } from '../engine/registry.js';
import { readDataFile } from '../config/data-file.js';
import { worldReadableProblem } from '../config-kit/file-mode.js';
import type { FeatureContext } from '../config/feature.js';
import { ajvIssues } from '../config-kit/ajv-issues.js';
import { pointer, type ConfigIssue } from '../config-kit/issues.js';
import { costProfile, parsePhc, type ParsedHash } from '../credentials/phc.js';
import { defaultDummyHash, dummyLike } from '../credentials/hash.js';
import type { Directory, DirectoryClient, DirectoryStore, DirectoryTill, DirectoryUser, UserKey } from './directory.js';
import { directorySchema, type DirectoryFile } from './schema.js';

export type CredentialKind = 'till' | 'client' | 'user';

interface TenantData {
  stores: Map<string, DirectoryStore>;
  storeList: readonly DirectoryStore[];
  tills: Map<string, DirectoryTill>;
  clients: Map<string, DirectoryClient>;
  users: Record<UserKey, Map<string, DirectoryUser>>;
  /** Per kind, a hash with the most common algorithm and cost of that kind's entries. */
  dummies: Partial<Record<CredentialKind, ParsedHash>>;
}

/** Emails are matched without regard to case; every other key exactly. */
export function lookupKey(by: UserKey, value: string): string {
  return by === 'email' ? value.toLowerCase() : value;
}

export class EmbeddedDirectory implements Directory {
  /** Parsed hashes by PHC string, so verification does not parse per call. */
  private readonly parsed: Map<string, ParsedHash>;
  private profiles: readonly ParsedHash[] | undefined;

  constructor(
    private readonly tenants: ReadonlyMap<string, TenantData>,
    parsed: Map<string, ParsedHash>,
    /** A dummy of the directory's most common profile, for names in tenants it does not hold. */
    private readonly fallback: ParsedHash = defaultDummyHash(),
  ) {
    this.parsed = parsed;
  }

  till(tenant: string, username: string): DirectoryTill | undefined {
    return this.tenants.get(tenant)?.tills.get(username);
  }

  client(tenant: string, clientId: string): DirectoryClient | undefined {
    return this.tenants.get(tenant)?.clients.get(clientId);
  }

  user(tenant: string, by: UserKey, value: string): DirectoryUser | undefined {
    const users = this.tenants.get(tenant)?.users;
    // `by` is typed, but a config string may reach here: never index past the four keys.
    if (!users || !Object.hasOwn(users, by)) return undefined;
    return users[by].get(lookupKey(by, value));
  }

  store(tenant: string, id: string): DirectoryStore | undefined {
    return this.tenants.get(tenant)?.stores.get(id);
  }

  clients(tenant: string): readonly DirectoryClient[] {
    return [...(this.tenants.get(tenant)?.clients.values() ?? [])];
  }

  stores(tenant: string): readonly DirectoryStore[] {
    return this.tenants.get(tenant)?.storeList ?? [];
  }

  /** The parsed form of a hash this directory holds. */
  parsedHash(phc: string): ParsedHash | undefined {
    return this.parsed.get(phc);
  }

  /**
   * One hash of each cost profile this directory holds, across tenants (to learn what each
   * costs). Found once per directory, not per valve that asks.
   */
  costProfiles(): readonly ParsedHash[] {
    if (!this.profiles) {
      const byProfile = new Map<string, ParsedHash>();
      for (const hash of this.parsed.values()) if (!byProfile.has(costProfile(hash))) byProfile.set(costProfile(hash), hash);
      this.profiles = [...byProfile.values()];
    }
    return this.profiles;
  }

  /**
   * What an unknown user of this tenant and kind is verified against: same cost as the real
   * ones (a tenant this directory does not hold gets its most common profile too).
   */
  dummyHash(tenant: string, kind: CredentialKind): ParsedHash {
    return this.tenants.get(tenant)?.dummies[kind] ?? this.fallback;
  }

  /** The hashes whose profiles a check of this directory may meet: one per profile, or the default dummy when it holds none. */
  checkedProfiles(): readonly ParsedHash[] {
    return this.costProfiles().length > 0 ? this.costProfiles() : [defaultDummyHash()];
  }
}

export function emptyDirectory(): EmbeddedDirectory {
  return new EmbeddedDirectory(new Map(), new Map());
}

const validateFile = newAjv({ useDefaults: true }).compile(directorySchema);

/** Builds the directory from a parsed file; problems go to `issues` under `file`. */
export function buildDirectory(value: unknown, file: string, issues: ConfigIssue[]): EmbeddedDirectory {
  if (!validateFile(value)) {
    issues.push(...ajvIssues(file, '', validateFile.errors));
    return emptyDirectory();
  }
  const data = value as DirectoryFile;
  const parsed = new Map<string, ParsedHash>();
  const tenants = new Map<string, TenantData>();
  const allProfiles = new Map<string, { count: number; hash: ParsedHash }>();
  for (const [tenantId, source] of Object.entries(data.tenants)) {
    const at = (...tokens: (string | number)[]) => pointer('tenants', tenantId, ...tokens);
    const unique = <T>(map: Map<string, T>, key: string, entry: T, where: string, what: string): void => {
      if (map.has(key))
        issues.push({ code: 'CONFIG_INVALID', file, pointer: where, message: `duplicate ${what} "${key}" in tenant "${tenantId}"` });
      else map.set(key, entry);
    };
    const hashOf = (phc: string, where: string, profiles: Map<string, { count: number; hash: ParsedHash }>): void => {
      const result = parsed.get(phc) ?? parsePhc(phc);
      if (typeof result === 'string') {
        issues.push({ code: 'CONFIG_INVALID', file, pointer: where, message: result });
        return;
      }
      parsed.set(phc, result);
      const profile = costProfile(result);
      for (const counts of [profiles, allProfiles]) {
        const seen = counts.get(profile);
        if (seen) seen.count++;
        else counts.set(profile, { count: 1, hash: result });
      }
    };

    const stores = new Map<string, DirectoryStore>();
    (source.stores ?? []).forEach((s, i) => {
      const store: DirectoryStore = Object.freeze({
        id: s.id,
        name: s.name,
        ...(s.access_group !== undefined ? { access_group: s.access_group } : {}),
        ...(s.manager !== undefined ? { manager: s.manager } : {}),
      });
      unique(stores, s.id, store, at('stores', i, 'id'), 'store id');
    });

    const tills = new Map<string, DirectoryTill>();
    const tillProfiles = new Map<string, { count: number; hash: ParsedHash }>();
    (source.tills ?? []).forEach((t, i) => {
      if (!stores.has(t.store)) {
        issues.push({
          code: 'CONFIG_REFERENCE',
          file,
          pointer: at('tills', i, 'store'),
          message: `store "${t.store}" does not exist in tenant "${tenantId}"; expected one of: ${[...stores.keys()].join(', ') || '(no stores)'}`,
        });
      }
      hashOf(t.password_hash, at('tills', i, 'password_hash'), tillProfiles);
      const till: DirectoryTill = Object.freeze({ username: t.username, password_hash: t.password_hash, store: t.store, status: t.status });
      unique(tills, t.username, till, at('tills', i, 'username'), 'till username');
    });

    const clients = new Map<string, DirectoryClient>();
    const clientProfiles = new Map<string, { count: number; hash: ParsedHash }>();
    (source.clients ?? []).forEach((c, i) => {
      for (const problem of clientProblems(c))
        issues.push({ code: 'CONFIG_INVALID', file, pointer: at('clients', i, ...problem.at), message: problem.message });
      if (c.secret_hash !== undefined) hashOf(c.secret_hash, at('clients', i, 'secret_hash'), clientProfiles);
      const client: DirectoryClient = Object.freeze({
        client_id: c.client_id,
        type: c.type,
        ...(c.secret_hash !== undefined ? { secret_hash: c.secret_hash } : {}),
        scopes: Object.freeze([...c.scopes]),
        status: c.status,
        ...(c.access_group !== undefined ? { access_group: c.access_group } : {}),
        ...(c.resource_server === true ? { resource_server: true } : {}),
        ...(c.token_exchange !== undefined ? { token_exchange: c.token_exchange } : {}),
        redirect_uris: Object.freeze([...(c.redirect_uris ?? [])]),
        // A sysapp has none; the schema's userapp branch defaults both for userapps.
        post_logout_redirect_uris: Object.freeze([...(c.post_logout_redirect_uris ?? [])]),
        ...(c.pool !== undefined ? { pool: c.pool } : {}),
        require_pkce: c.require_pkce !== false,
        ...(c.id_token_signed_response_alg !== undefined ? { id_token_signed_response_alg: c.id_token_signed_response_alg } : {}),
        ...(c.access_token_signed_response_alg !== undefined
          ? { access_token_signed_response_alg: c.access_token_signed_response_alg }
          : {}),
        ...(c.backchannel_logout_uri !== undefined ? { backchannel_logout_uri: c.backchannel_logout_uri } : {}),
        ...(c.jwks !== undefined ? { jwks: c.jwks as DirectoryClient['jwks'] } : {}),
        ...(c.jwks_uri !== undefined ? { jwks_uri: c.jwks_uri } : {}),
        ...(c.dpop_bound_access_tokens === true ? { dpop_bound_access_tokens: true } : {}),
        ...(c.require_pushed_authorization_requests === true ? { require_pushed_authorization_requests: true } : {}),
        ...(c.device_authorization === true ? { device_authorization: true } : {}),
      });
      unique(clients, c.client_id, client, at('clients', i, 'client_id'), 'client id');
    });

    const users: Record<UserKey, Map<string, DirectoryUser>> = { id: new Map(), username: new Map(), mobile: new Map(), email: new Map() };
    const userProfiles = new Map<string, { count: number; hash: ParsedHash }>();
    (source.users ?? []).forEach((u, i) => {
      if (u.password_hash !== undefined) hashOf(u.password_hash, at('users', i, 'password_hash'), userProfiles);
      const user: DirectoryUser = Object.freeze({
        ...u,
        status: u.status,
        ...(u.attributes !== undefined ? { attributes: Object.freeze({ ...u.attributes }) } : {}),
        ...(u.pools !== undefined ? { pools: Object.freeze([...u.pools]) } : {}),
      });
      for (const key of ['id', 'username', 'mobile', 'email'] as const) {
        const v = u[key];
        if (v !== undefined) unique(users[key], lookupKey(key, v), user, at('users', i, key), `user ${key}`);
      }
    });

    (source.stores ?? []).forEach((s, i) => {
      if (s.manager !== undefined && !users.id.has(s.manager)) {
        issues.push({
          code: 'CONFIG_REFERENCE',
          file,
          pointer: at('stores', i, 'manager'),
          message: `user "${s.manager}" does not exist in tenant "${tenantId}"; expected the id of one of its users`,
        });
      }
    });

    const dummies: TenantData['dummies'] = {};
    const tillModel = mostCommon(tillProfiles);
    if (tillModel) dummies.till = dummyLike(tillModel);
    const clientModel = mostCommon(clientProfiles);
    if (clientModel) dummies.client = dummyLike(clientModel);
    const userModel = mostCommon(userProfiles);
    if (userModel) dummies.user = dummyLike(userModel);
    tenants.set(tenantId, { stores, storeList: Object.freeze([...stores.values()]), tills, clients, users, dummies });
  }
  // A tenant with no hash of a kind verifies its unknown names against the directory's most
  // common profile: one the process has calibrated anyway, not a default nobody uses.
  const overall = mostCommon(allProfiles);
  const fallback = overall ? dummyLike(overall) : defaultDummyHash();
  for (const data of tenants.values()) {
    data.dummies.till ??= fallback;
    data.dummies.client ??= fallback;
  }
  return new EmbeddedDirectory(tenants, parsed, fallback);
}

type ClientEntry = NonNullable<DirectoryFile['tenants'][string]['clients']>[number];

/** JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** What the schema cannot say about a client: which members each type needs or forbids. */
function clientProblems(c: ClientEntry): { at: string[]; message: string }[] {
  const problems: { at: string[]; message: string }[] = [];
  const keyed = c.jwks !== undefined || c.jwks_uri !== undefined;
  if (c.secret_hash !== undefined && keyed)
    problems.push({
      at: [c.jwks !== undefined ? 'jwks' : 'jwks_uri'],
      message: 'a client authenticates with a secret or with keys (private_key_jwt), not both',
    });
  if (c.jwks !== undefined && c.jwks_uri !== undefined) problems.push({ at: ['jwks_uri'], message: 'give "jwks" or "jwks_uri", not both' });
  (c.jwks?.keys ?? []).forEach((key, k) => {
    const secret = PRIVATE_JWK_MEMBERS.find((m) => Object.hasOwn(key, m));
    if (secret !== undefined)
      problems.push({ at: ['jwks', 'keys', String(k), secret], message: 'a private key member: list only the public keys of the client' });
  });
  if (c.token_exchange !== undefined && c.secret_hash === undefined)
    problems.push({ at: ['token_exchange'], message: 'a client that exchanges tokens must authenticate: it needs "secret_hash"' });
  if (c.type === 'sysapp') {
    if (c.secret_hash === undefined && !keyed) problems.push({ at: [], message: 'a sysapp needs "secret_hash", "jwks" or "jwks_uri"' });
    for (const name of [
      'redirect_uris',
      'post_logout_redirect_uris',
      'pool',
      'require_pkce',
      'id_token_signed_response_alg',
      'backchannel_logout_uri',
      'require_pushed_authorization_requests',
      'device_authorization',
    ] as const) {
      if (c[name] !== undefined) problems.push({ at: [name], message: `only a userapp has "${name}"` });
    }
    return problems;
  }
  if (c.redirect_uris === undefined) problems.push({ at: [], message: 'a userapp needs "redirect_uris"' });
  if (c.pool === undefined) problems.push({ at: [], message: 'a userapp needs "pool"' });
  if (c.resource_server === true && c.secret_hash === undefined && !keyed)
    problems.push({
      at: ['resource_server'],
      message: 'a resource server must authenticate: it needs "secret_hash", "jwks" or "jwks_uri"',
    });
  if (c.require_pkce === false && c.secret_hash === undefined && !keyed)
    problems.push({
      at: ['require_pkce'],
      message: 'only a confidential userapp (with "secret_hash") may skip PKCE; a public client always needs PKCE S256',
    });
  return problems;
}

function mostCommon(profiles: Map<string, { count: number; hash: ParsedHash }>): ParsedHash | undefined {
  let best: { count: number; hash: ParsedHash } | undefined;
  for (const p of profiles.values()) if (!best || p.count > best.count) best = p;
  return best?.hash;
}

/** Reads the directory file the main config names (`directory`, relative to the main file). */
export function loadDirectory(ctx: FeatureContext): EmbeddedDirectory {
  if (ctx.main.directory === undefined) return emptyDirectory();
  const path = resolve(ctx.dir, ctx.main.directory);
  const file = readDataFile(ctx, path);
  const exposed = worldReadableProblem(path, 'its password hashes and TOTP secrets');
  if (exposed) ctx.warnings.push({ code: 'CONFIG_EXPOSED', file: file.shown, pointer: '', message: exposed });
  if (file.ok) {
    const directory = buildDirectory(file.value, file.shown, file.issues);
    if (file.issues.length === 0) return directory;
  }
  ctx.issues.push(...file.issues);
  return emptyDirectory();
}
