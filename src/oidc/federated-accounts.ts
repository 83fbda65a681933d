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
