/**
 * Self-service accounts: users who signed themselves up, kept in the tenant's store (not in
 * the directory file). A record lives at `account:<id>` (a generated id); index keys
 * `account-key:<username|email|mobile>:<value, lower-cased>` name its id, each taken with
 * compare-and-set so two sign-ups can never hold one name. A pending account (its phone not
 * yet verified) and its index keys expire after `pendingTtlMs`, so an abandoned sign-up
 * frees its name; activation makes them permanent.
 *
 * Lookups read the directory file first, then the store (`findAccount`): a name the file
 * holds is never shadowed by a store account, and sign-up refuses it.
 */
import { randomBytes } from 'node:crypto';
import type { Directory, DirectoryUser, UserKey } from '../directory/directory.js';
import type { Store } from '../store/store.js';

type AccountStatus = 'pending' | 'active' | 'disabled';
type IndexKey = Exclude<UserKey, 'id'>;
const INDEX_KEYS: readonly IndexKey[] = ['username', 'email', 'mobile'];

/** The stored record of a self-service account. */
export interface StoredAccount {
  v: 1;
  id: string;
  username?: string;
  email?: string;
  mobile?: string;
  password_hash: string;
  status: AccountStatus;
  /** The pools it signed up in. */
  pools: string[];
  /** Epoch ms of the sign-up. */
  created: number;
}

/** Where a lookup searches: the directory file, the file then the store, or the store only. */
export type AccountSource = 'directory' | 'directory+store' | 'store';

export const accountsSchema = {
  enum: ['directory', 'directory+store', 'store'],
  default: 'directory',
  description:
    "Where users are looked up: the directory file only; the file, then self-service accounts in the store (sign-up); or the store only (a password reset, which never touches the operator's file).",
} as const;

const recordKey = (id: string) => `account:${id}`;
const indexKey = (by: IndexKey, value: string) => `account-key:${by}:${value.toLowerCase()}`;

/** A fresh account id: `sa-` and 128 random bits. */
export function newAccountId(): string {
  return `sa-${randomBytes(16).toString('base64url')}`;
}

function parseAccount(text: string | null): StoredAccount | undefined {
  if (text === null) return undefined;
  const parsed = JSON.parse(text) as StoredAccount;
  return parsed.v === 1 ? parsed : undefined;
}

/** The account as the directory contract shows users; a pending account shows as disabled (it cannot sign in). */
function asUser(account: StoredAccount): DirectoryUser {
  return {
    id: account.id,
    ...(account.username !== undefined ? { username: account.username } : {}),
    ...(account.email !== undefined ? { email: account.email } : {}),
    ...(account.mobile !== undefined ? { mobile: account.mobile } : {}),
    password_hash: account.password_hash,
    status: account.status === 'active' ? 'active' : 'disabled',
    pools: account.pools,
  };
}

export async function getAccount(store: Store, id: string): Promise<StoredAccount | undefined> {
  return parseAccount(await store.get(recordKey(id)));
}

/** A store account by one of its keys. */
async function findStored(store: Store, by: UserKey, value: string): Promise<StoredAccount | undefined> {
  if (value === '' || value.length > 256) return undefined;
  const id = by === 'id' ? value : await store.get(indexKey(by, value));
  if (id === null || !id.startsWith('sa-')) return undefined;
  const account = await getAccount(store, id);
  // An index key may outlive a record by a moment (expiry order): it must still name it back.
  if (account === undefined || (by !== 'id' && account[by]?.toLowerCase() !== value.toLowerCase())) return undefined;
  return account;
}

export interface FoundAccount {
  user: DirectoryUser;
  /** The store account's status; undefined for a user of the directory file. */
  stored?: StoredAccount;
}

/** A user by key: the directory file first, then (when the source says so) the store. */
export async function findAccount(
  directory: Directory,
  store: Store,
  tenant: string,
  source: AccountSource,
  by: UserKey,
  value: string,
): Promise<FoundAccount | undefined> {
  if (source !== 'store') {
    const user = directory.user(tenant, by, value);
    if (user !== undefined) return { user };
    if (source === 'directory') return undefined;
  } else if (directory.user(tenant, by, value) !== undefined) {
    return undefined;
  }
  const stored = await findStored(store, by, value);
  return stored === undefined ? undefined : { user: asUser(stored), stored };
}

/**
 * Creates a pending account; false when one of its keys is taken (in the file or the store),
 * with nothing left behind. Keys are claimed one by one with compare-and-set, and released
 * when a later one is taken.
 */
export async function createAccount(
  directory: Directory,
  store: Store,
  tenant: string,
  account: StoredAccount,
  pendingTtlMs: number,
): Promise<boolean> {
  const keys = INDEX_KEYS.filter((by) => account[by] !== undefined);
  if (keys.some((by) => directory.user(tenant, by, account[by] as string) !== undefined)) return false;
  const claimed: string[] = [];
  for (const by of keys) {
    const key = indexKey(by, account[by] as string);
    if (!(await store.compareAndSet(key, null, account.id, pendingTtlMs))) {
      // Claimed by this call a moment ago: no one else can hold them.
      for (const done of claimed) await store.del(done);
      return false;
    }
    claimed.push(key);
  }
  await store.set(recordKey(account.id), JSON.stringify(account), pendingTtlMs);
  return true;
}

/**
 * Replaces a store account's record when it still reads `before` (compare-and-set): its keys
 * and record become permanent when it is active. False when it changed meanwhile.
 */
export async function updateAccount(store: Store, before: StoredAccount, after: StoredAccount): Promise<boolean> {
  const ttl = after.status === 'pending' ? ((await store.ttl(recordKey(before.id))) ?? undefined) : undefined;
  if (!(await store.compareAndSet(recordKey(before.id), JSON.stringify(before), JSON.stringify(after), ttl))) return false;
  if (after.status !== 'pending' && before.status === 'pending')
    for (const by of INDEX_KEYS) if (after[by] !== undefined) await store.set(indexKey(by, after[by] as string), after.id);
  return true;
}

export const accountStatusSchema = {
  enum: ['active', 'pending'],
  default: 'active',
  description:
    'Which users count: active ones (sign-in, reset), or only pending self-service accounts (the code step of a sign-up); any other is treated as unknown.',
} as const;

/** Whether a found user counts for a lookup that wants `status` (a pending account only for `pending`). */
export function eligible(found: FoundAccount | undefined, status: 'active' | 'pending'): found is FoundAccount {
  if (found === undefined) return false;
  if (status === 'pending') return found.stored?.status === 'pending';
  return found.user.status !== 'disabled';
}

/** The `account` option of the valves that change a self-service account after otp-verify named it. */
export const ACCOUNT_OPTION = {
  account: {
    type: 'string',
    minLength: 1,
    default: '{{item.sub}}',
    description: 'Template of the account id (otp-verify puts it in sub).',
  },
} as const;
