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

export async function readFederatedAccount(store: Store, id: string): Promise<FederatedAccount | undefined> {
  if (!id.startsWith(FEDERATED_ID_PREFIX)) return undefined;
  const text = await store.get(accountKey(id));
  return text === null ? undefined : (JSON.parse(text) as FederatedAccount);
}

/** A local account's links to upstream accounts (made by email), listed for the account page. */
interface FederatedLink {
  readonly upstream: string;
  readonly sub: string;
}
const linksOfKey = (accountId: string) => `fed-links-of:${accountId}`;
const MAX_LINKS = 16;
const CAS_TRIES = 5;

async function updateLinks(store: Store, accountId: string, change: (links: FederatedLink[]) => FederatedLink[]): Promise<void> {
  for (let i = 0; i < CAS_TRIES; i++) {
    const text = await store.get(linksOfKey(accountId));
    const links = text === null ? [] : (JSON.parse(text) as FederatedLink[]);
    if (await store.compareAndSet(linksOfKey(accountId), text, JSON.stringify(change(links).slice(-MAX_LINKS)))) return;
  }
  throw new Error(`federated links of ${accountId} changed under ${CAS_TRIES} tries`);
}

export function indexLink(store: Store, accountId: string, link: FederatedLink): Promise<void> {
  return updateLinks(store, accountId, (links) => [
    ...links.filter((l) => l.upstream !== link.upstream || l.sub !== link.sub),
    { upstream: link.upstream, sub: link.sub },
  ]);
}

/** The links of an account that still lead to it. */
export async function linksOf(store: Store, accountId: string): Promise<FederatedLink[]> {
  const text = await store.get(linksOfKey(accountId));
  const links = text === null ? [] : (JSON.parse(text) as FederatedLink[]);
  const live = await Promise.all(links.map(async (l) => ((await store.get(linkKey(l.upstream, l.sub))) === accountId ? l : undefined)));
  return live.filter((l): l is FederatedLink => l !== undefined);
}

/** Ends a link of `accountId`: the upstream account signs in to it no more. False when it is not its link. */
export async function unlink(store: Store, accountId: string, link: FederatedLink): Promise<boolean> {
  const key = linkKey(link.upstream, link.sub);
  if (!(await store.compareAndSet(key, accountId, accountId))) return false;
  await store.del(key);
  await updateLinks(store, accountId, (links) => links.filter((l) => l.upstream !== link.upstream || l.sub !== link.sub));
  return true;
}
