import { describe, expect, it } from '@jest/globals';
import { CredentialAccounts, putSubject } from '../../src/directory/accounts.js';
import { buildDirectory } from '../../src/directory/load.js';
import type { ConfigIssue } from '../../src/config-kit/issues.js';

const SCRYPT = '$scrypt$ln=15,r=8,p=1$m5MNta6pbYubY/L+n8a5QA$oFlieKJVewTYvpEdKItZQ8pFt+4Fefw7qeqJJCYYixw';
const BCRYPT = '$2b$10$5fSXIDedAv.UJ2RznUVBlONhHKOsCRH5bh5ZoRyRp1YwxzAP98UYS';

const issues: ConfigIssue[] = [];
const directory = buildDirectory(
  {
    tenants: {
      demo: {
        stores: [{ id: 's1', name: 'Store 1' }],
        tills: [{ username: 'till-1', password_hash: SCRYPT, store: 's1' }],
        users: [
          { id: 'u-1', username: 'alice', password_hash: BCRYPT },
          { id: 'u-2', username: 'bob' },
        ],
        clients: [
          { client_id: 'server', secret_hash: SCRYPT, scopes: ['a', 'b'] },
          // A confidential userapp: it has a secret, but signs users in; it is no API client here.
          { client_id: 'app', type: 'userapp', secret_hash: SCRYPT, pool: 'web', redirect_uris: ['https://app.example/cb'] },
        ],
      },
    },
  },
  'directory.json',
  issues,
);

describe('credential accounts', () => {
  it('loads the fixture without issues', () => {
    expect(issues).toEqual([]);
  });

  it('finds tills, sysapp clients and users with a password; a user without one and a userapp are unknown', () => {
    expect(new CredentialAccounts('till', directory).find('demo', 'till-1')).toMatchObject({ store: 's1' });
    expect(new CredentialAccounts('user', directory).find('demo', 'alice')).toMatchObject({ id: 'u-1' });
    expect(new CredentialAccounts('user', directory).find('demo', 'bob')).toBeUndefined();
    expect(new CredentialAccounts('client', directory).find('demo', 'server')).toMatchObject({ client_id: 'server' });
    expect(new CredentialAccounts('client', directory).find('demo', 'app')).toBeUndefined();
    // Another tenant, or another kind's name, is unknown.
    expect(new CredentialAccounts('till', directory).find('acme', 'till-1')).toBeUndefined();
    expect(new CredentialAccounts('till', directory).find('demo', 'alice')).toBeUndefined();
  });

  it('gives the parsed hash of an account, and a dummy of the same cost for an unknown name', () => {
    const tills = new CredentialAccounts('till', directory);
    const till = tills.find('demo', 'till-1');
    expect(tills.hashOf(till as NonNullable<typeof till>)).toMatchObject({ algorithm: 'scrypt' });
    const users = new CredentialAccounts('user', directory);
    expect(users.hashOf(users.find('demo', 'alice') as NonNullable<ReturnType<typeof users.find>>)).toMatchObject({ algorithm: 'bcrypt' });
    expect(users.dummyHash('demo')).toMatchObject({ algorithm: 'bcrypt' });
    expect(tills.dummyHash('demo')).toMatchObject({ algorithm: 'scrypt' });
  });

  it('puts the subject of each kind on the item', () => {
    const accounts = (kind: 'till' | 'client' | 'user', name: string) =>
      new CredentialAccounts(kind, directory).find('demo', name) as NonNullable<ReturnType<CredentialAccounts['find']>>;
    const props: Record<string, string> = {};
    putSubject(props, 'till', 'demo', accounts('till', 'till-1'));
    expect(props).toEqual({ tenant: 'demo', kind: 'till', sub: 'till-1', store: 's1' });
    const user: Record<string, string> = {};
    putSubject(user, 'user', 'demo', accounts('user', 'alice'));
    expect(user).toEqual({ tenant: 'demo', kind: 'user', sub: 'u-1', username: 'alice' });
    const client: Record<string, string> = {};
    putSubject(client, 'client', 'demo', accounts('client', 'server'));
    expect(client).toEqual({ tenant: 'demo', kind: 'client', sub: 'server', scope: 'a b' });
  });
});
