/**
 * The directory accounts basic-auth checks a password against, per kind: tills, API clients
 * (sysapps with a secret) and users with a password. Users without a password and userapps
 * are unknown here, so they fail exactly like a name nobody holds. Also what a success puts
 * on the item for each kind.
 */
import type { Props } from '../engine/props.js';
import { defaultDummyHash } from '../credentials/hash.js';
import { parsePhc, type ParsedHash } from '../credentials/phc.js';
import type { Directory, DirectoryClient, DirectoryTill, DirectoryUser } from './directory.js';
import { EmbeddedDirectory, type CredentialKind } from './load.js';

export type Account = DirectoryTill | DirectoryClient | DirectoryUser;

export class CredentialAccounts {
  private readonly embedded: EmbeddedDirectory | null;

  constructor(
    private readonly kind: CredentialKind,
    private readonly directory: Directory,
  ) {
    this.embedded = directory instanceof EmbeddedDirectory ? directory : null;
  }

  /** The account the name designates, if it has a credential here. */
  find(tenant: string, username: string): Account | undefined {
    if (this.kind === 'till') return this.directory.till(tenant, username);
    if (this.kind === 'user') {
      const user = this.directory.user(tenant, 'username', username);
      return user?.password_hash !== undefined ? user : undefined;
    }
    const client = this.directory.client(tenant, username);
    return client?.type === 'sysapp' && client.secret_hash !== undefined ? client : undefined;
  }

  /** The account's hash, parsed (once, at load, for the embedded directory). */
  hashOf(account: Account): ParsedHash {
    const phc = ('client_id' in account ? account.secret_hash : account.password_hash) ?? '';
    const parsed = this.embedded?.parsedHash(phc) ?? parsePhc(phc);
    if (typeof parsed === 'string') throw new Error(`directory hash refused: ${parsed}`);
    return parsed;
  }

  /** What an unknown name is checked against: a hash of the same cost as the real ones. */
  dummyHash(tenant: string): ParsedHash {
    return this.embedded?.dummyHash(tenant, this.kind) ?? defaultDummyHash();
  }
}

/** The subject on the item: sub, kind, tenant, and store for a till, username for a user, scope for a client. */
export function putSubject(props: Props, kind: CredentialKind, tenant: string, account: Account): void {
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
}
