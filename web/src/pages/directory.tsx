/**
 * Directory: the tills, API clients and users of the signed-in tenant, with what the admin
 * API does to them: search, create a till or a user, disable or enable, move a client or user
 * to another access group, unlock, and open one (directory-record.tsx) to edit it, set its
 * password or rotate its secret. A change from the list carries the ETag the list answer gave
 * for that record: the version the admin saw, not one read again just before the write.
 */
import { useState } from 'preact/hooks';
import { api, refusal, type Typed } from '../api';
import { useRead } from '../hooks';
import { Alert, PageTitle, SearchForm } from '../ui';
import { OnceSecret } from './directory-record';

type Kind = 'tills' | 'clients' | 'users';
const KEY: Record<Kind, string> = { tills: 'username', clients: 'client_id', users: 'id' };
const TITLES: Record<Kind, string> = { tills: 'Tills', clients: 'API clients', users: 'Users' };
type Row = Record<string, unknown> & { status?: string; locked?: boolean; lockedForSeconds?: number; access_group?: string };
/** The API sends no hash or TOTP seed (src/admin/directory-kinds.ts); should one ever come, it is not shown. */
const HIDDEN = (member: string) => member.endsWith('_hash') || member === 'totp_secret';
/** `has_password: true` reads "password set"; anything else as name: value. */
function chip(member: string, value: unknown): string {
  const has = /^has_(\w+)$/.exec(member);
  if (has && typeof value === 'boolean') return value ? `${has[1]} set` : `no ${has[1]}`;
  return `${member}: ${typeof value === 'string' ? value : JSON.stringify(value)}`;
}

export function DirectoryPage({ kind }: { kind: Kind }) {
  const [q, setQ] = useState('');
  // The search the list shows: the list is read again when it (or the tab) changes, a late answer of an older one dropped.
  const [search, setSearch] = useState('');
  const list = useRead(`GET /admin/directory/${kind}`, {}, search ? { q: search } : undefined);
  const groups = useRead('GET /admin/access-groups', {});
  const stores = useRead('GET /admin/directory/stores', {}).data?.stores ?? [];
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [newTill, setNewTill] = useState({ username: '', store: '', password: '' });
  const [newUser, setNewUser] = useState({ id: '', username: '', email: '' });
  const [newClient, setNewClient] = useState({ client_id: '', type: 'sysapp', pool: '', redirect_uri: '' });
  const [created, setCreated] = useState<{ id: string; secret: string } | null>(null);
  const rows = (list.data as Record<string, unknown> | null)?.[kind] as Row[] | undefined;
  const etags = list.data?.etags ?? {};
  const groupList = (groups.data?.groups as { id: string; name: string }[] | undefined) ?? [];
  const outcome = (answer: Typed<unknown>, done: string) => {
    setMessage(answer.ok ? { kind: 'ok', text: done } : { kind: 'error', text: refusal(answer) });
    list.reload();
  };
  /** Writes with the ETag of the list read the row came from: a change made since is a 412, never overwritten. */
  const edit = async (row: Row, done: string, body: Record<string, unknown>) => {
    const id = String(row[KEY[kind]]);
    outcome(await api(`PATCH /admin/directory/${kind}/{id}`, { params: { id }, ifMatch: etags[id] ?? null, body }), done);
  };
  return (
    <section>
      <PageTitle>Directory: {TITLES[kind]}</PageTitle>
      <nav aria-label="Directory sections" class="tabs">
        {(Object.keys(TITLES) as Kind[]).map((k) => (
          <a href={`#/directory/${k}`} aria-current={k === kind ? 'page' : undefined}>
            {TITLES[k]}
          </a>
        ))}
      </nav>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {list.error && <Alert kind="error">{list.error}</Alert>}
      <SearchForm onSearch={() => setSearch(q)} button="Search">
        <label for="dir-search">Search {TITLES[kind].toLowerCase()}</label>
        <input id="dir-search" type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      </SearchForm>
      {rows && (
        <table>
          <caption class="sr-only">{TITLES[kind]}</caption>
          <thead>
            <tr>
              <th scope="col">{KEY[kind]}</th>
              <th scope="col">Details</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const id = String(row[KEY[kind]]);
              return (
                <tr data-id={id}>
                  <th scope="row">
                    <a href={`#/directory/${kind}/${encodeURIComponent(id)}`} aria-label={`Open ${id}`}>
                      {id}
                    </a>
                  </th>
                  <td>
                    {Object.entries(row)
                      .filter(([k]) => ![KEY[kind], 'status', 'locked', 'lockedForSeconds'].includes(k) && !HIDDEN(k))
                      .map(([k, v]) => (
                        <span class="chip">{chip(k, v)}</span>
                      ))}
                  </td>
                  <td>
                    {row.status ?? 'active'}
                    {row.locked && <span class="chip bad">locked {row.lockedForSeconds} s</span>}
                  </td>
                  <td class="actions">
                    {row.locked && (
                      <button
                        type="button"
                        onClick={async () =>
                          outcome(await api(`POST /admin/directory/${kind}/{id}/unlock`, { params: { id } }), `${id} is unlocked.`)
                        }
                      >
                        Unlock {id}
                      </button>
                    )}
                    <button
                      type="button"
                      onClick={() =>
                        edit(row, `${id} ${row.status === 'disabled' ? 'enabled' : 'disabled'}.`, {
                          status: row.status === 'disabled' ? 'active' : 'disabled',
                        })
                      }
                    >
                      {row.status === 'disabled' ? 'Enable' : 'Disable'} {id}
                    </button>
                    {kind !== 'tills' && (
                      <select
                        aria-label={`Access group of ${id}`}
                        value={row.access_group ?? ''}
                        onChange={(e) => {
                          const value = (e.target as HTMLSelectElement).value;
                          void edit(row, `${id} moved to ${value || 'the default group'}.`, { access_group: value || null });
                        }}
                      >
                        <option value="">(tenant default)</option>
                        {groupList.map((g) => (
                          <option value={g.id}>{g.name}</option>
                        ))}
                      </select>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {kind === 'tills' && (
        <>
          <h2>New till</h2>
          <form
            class="stack"
            onSubmit={async (e) => {
              e.preventDefault();
              const answer = await api('POST /admin/directory/tills', {
                params: {},
                body: { ...newTill, store: newTill.store || (stores[0]?.id ?? '') },
              });
              outcome(answer, `Till ${newTill.username} created.`);
              if (answer.ok) setNewTill({ username: '', store: '', password: '' });
            }}
          >
            <label for="till-username">Till code</label>
            <input
              id="till-username"
              required
              value={newTill.username}
              onInput={(e) => setNewTill({ ...newTill, username: (e.target as HTMLInputElement).value })}
            />
            <label for="till-store">Store</label>
            <select
              id="till-store"
              value={newTill.store || stores[0]?.id}
              onChange={(e) => setNewTill({ ...newTill, store: (e.target as HTMLSelectElement).value })}
            >
              {stores.map((s) => (
                <option value={s.id}>{s.name}</option>
              ))}
            </select>
            <label for="till-password">Password (8 to 256 bytes; hashed on the server)</label>
            <input
              id="till-password"
              type="password"
              autocomplete="new-password"
              required
              value={newTill.password}
              onInput={(e) => setNewTill({ ...newTill, password: (e.target as HTMLInputElement).value })}
            />
            <button type="submit" class="primary">
              Create till
            </button>
          </form>
        </>
      )}
      {kind === 'users' && (
        <>
          <h2>New user</h2>
          <form
            class="stack"
            onSubmit={async (e) => {
              e.preventDefault();
              const body = Object.fromEntries(Object.entries(newUser).filter(([, v]) => v.trim() !== '')) as { id: string };
              const answer = await api('POST /admin/directory/users', { params: {}, body });
              // On to the new user's page, where its password is set.
              if (answer.ok) location.hash = `#/directory/users/${encodeURIComponent(newUser.id)}`;
              else setMessage({ kind: 'error', text: refusal(answer) });
            }}
          >
            <label for="user-id">User id (the subject of its tokens)</label>
            <input
              id="user-id"
              required
              value={newUser.id}
              onInput={(e) => setNewUser({ ...newUser, id: (e.target as HTMLInputElement).value })}
            />
            <label for="user-username">Username</label>
            <input
              id="user-username"
              value={newUser.username}
              onInput={(e) => setNewUser({ ...newUser, username: (e.target as HTMLInputElement).value })}
            />
            <label for="user-email">Email</label>
            <input
              id="user-email"
              type="email"
              value={newUser.email}
              onInput={(e) => setNewUser({ ...newUser, email: (e.target as HTMLInputElement).value })}
            />
            <button type="submit" class="primary">
              Create user
            </button>
          </form>
        </>
      )}
      {kind === 'clients' && (
        <>
          <h2>New API client</h2>
          {created && <OnceSecret id={created.id} secret={created.secret} />}
          <form
            class="stack"
            onSubmit={async (e) => {
              e.preventDefault();
              setCreated(null);
              const userapp = newClient.type === 'userapp';
              const answer = await api('POST /admin/directory/clients', {
                params: {},
                body: {
                  client_id: newClient.client_id,
                  type: userapp ? 'userapp' : 'sysapp',
                  ...(userapp && newClient.pool ? { pool: newClient.pool } : {}),
                  ...(userapp && newClient.redirect_uri ? { redirect_uris: [newClient.redirect_uri] } : {}),
                },
              });
              outcome(
                answer,
                answer.ok && answer.body.secret
                  ? `Client ${newClient.client_id} created: copy its secret now, it is not shown again.`
                  : `Client ${newClient.client_id} created.`,
              );
              if (answer.ok && answer.body.secret) setCreated({ id: newClient.client_id, secret: answer.body.secret });
              if (answer.ok) setNewClient({ client_id: '', type: 'sysapp', pool: '', redirect_uri: '' });
            }}
          >
            <label for="client-id">Client id</label>
            <input
              id="client-id"
              required
              value={newClient.client_id}
              onInput={(e) => setNewClient({ ...newClient, client_id: (e.target as HTMLInputElement).value })}
            />
            <label for="client-type">Kind</label>
            <select
              id="client-type"
              value={newClient.type}
              onChange={(e) => setNewClient({ ...newClient, type: (e.target as HTMLSelectElement).value })}
            >
              <option value="sysapp">sysapp: a server (client credentials; a secret is made and shown once)</option>
              <option value="userapp">userapp: signs users in (authorization code with PKCE; public)</option>
            </select>
            {newClient.type === 'userapp' && (
              <>
                <label for="client-pool">User pool</label>
                <input
                  id="client-pool"
                  value={newClient.pool}
                  onInput={(e) => setNewClient({ ...newClient, pool: (e.target as HTMLInputElement).value })}
                />
                <label for="client-redirect">Redirect URI</label>
                <input
                  id="client-redirect"
                  type="url"
                  value={newClient.redirect_uri}
                  onInput={(e) => setNewClient({ ...newClient, redirect_uri: (e.target as HTMLInputElement).value })}
                />
              </>
            )}
            <button type="submit" class="primary">
              Create client
            </button>
          </form>
        </>
      )}
    </section>
  );
}
