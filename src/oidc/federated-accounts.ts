/**
 * Accounts from upstream sign-ins, in the store (already scoped to the tenant): a link from
 * (upstream id, upstream sub) to a local account id, and, for an account created just in
 * time, its record (the mapped attributes and the pools it signed in to). The federated-account
 * valve writes them; the provider's findAccount and the hosted login's pool check read a
 * record when the directory has no user of that id.
 */
import type { Store } from '../store/store.js';

/** A just-in-time account: not in the directory, kept here. */
export interface FederatedAccount {
  readonly upstream: string;
  readonly upstream_sub: string;
  /** Attributes mapped from the upstream at creation (email, email_verified, name, …). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Pools whose step resolved this account. */
  readonly pools: readonly string[];
}

/** The prefix of a just-in-time account's id, so it never collides with a directory user id of the operator's. */
export const FEDERATED_ID_PREFIX = 'fed-';

export const linkKey = (upstream: string, upstreamSub: string) =>
  `fed-link:${upstream.length}:${upstream}:${Buffer.from(upstreamSub).toString('base64url')}`;
export const accountKey = (id: string) => `fed-account:${id}`;

/** The handle of a link waiting for the local account's proof (federated-account's prove_local, federated-link). */
export const LINK_ID = 'link_id';
export const pendingLinkKey = (handle: string) => `fed-pending-link:${handle}`;
/** As long as a sign-in may wait (the provider's interaction lifetime). */
export const PENDING_LINK_MS = 600_000;

/** A link to make once the user proves `account`. */
export interface PendingLink {
  readonly upstream: string;
  readonly upstream_sub: string;
  readonly account: string;
}

export async function readFederatedAccount(store: Store, id: string): Promise<FederatedAccount | undefined> {
  if (!id.startsWith(FEDERATED_ID_PREFIX)) return undefined;
  const text = await store.get(accountKey(id));
  return text === null ? undefined : (JSON.parse(text) as FederatedAccount);
}

/** A link of a local account to an upstream identity, as the account's index keeps it. */
export interface AccountLink {
  /** Stable id of the link within the account: `<upstream>:<base64url of the upstream sub>`. */
  readonly id: string;
  readonly upstream: string;
  readonly upstream_sub: string;
  /** ISO time the link was made. */
  readonly linked_at: string;
  /** How: email (verified by the upstream), password (the local account proven), created (just in time). */
  readonly how: 'email' | 'password' | 'created';
}

const indexKey = (id: string) => `fed-links-of:${id}`;
const linkIdOf = (upstream: string, upstreamSub: string) => `${upstream}:${Buffer.from(upstreamSub).toString('base64url')}`;

export async function linksOf(store: Store, accountId: string): Promise<AccountLink[]> {
  const text = await store.get(indexKey(accountId));
  return text === null ? [] : (JSON.parse(text) as AccountLink[]);
}

/** Rewrites the account's index by compare-and-set, so two links made at once both stay. */
async function editIndex(store: Store, accountId: string, edit: (links: AccountLink[]) => AccountLink[]): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = await store.get(indexKey(accountId));
    const links = edit(before === null ? [] : (JSON.parse(before) as AccountLink[]));
    if (await store.compareAndSet(indexKey(accountId), before, JSON.stringify(links))) return;
  }
  throw new Error(`the link index of ${accountId} kept changing`);
}

/** Records a link made (the link key itself is written by the caller, by compare-and-set) in the account's index. */
export function indexLink(store: Store, accountId: string, link: Omit<AccountLink, 'id' | 'linked_at'>, now: number): Promise<void> {
  const id = linkIdOf(link.upstream, link.upstream_sub);
  return editIndex(store, accountId, (links) => [
    ...links.filter((l) => l.id !== id),
    { id, ...link, linked_at: new Date(now).toISOString() },
  ]);
}

/** Removes a link of the account: the next sign-in from that upstream identity is a first one again. False when it has no such link. */
export async function unlink(store: Store, accountId: string, linkId: string): Promise<boolean> {
  const link = (await linksOf(store, accountId)).find((l) => l.id === linkId);
  if (!link) return false;
  const key = linkKey(link.upstream, link.upstream_sub);
  if ((await store.get(key)) === accountId) await store.del(key);
  await editIndex(store, accountId, (links) => links.filter((l) => l.id !== linkId));
  return true;
}
