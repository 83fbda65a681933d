/**
 * Directory: the tills, API clients and users of the signed-in tenant, with what the admin
 * API does to them: search, create a till or a user, disable or enable, move a client or user
 * to another access group, unlock, and open one (directory-record.tsx) to edit it, set its
 * password or rotate its secret. A change from the list carries the ETag the list answer gave
 * for that record: the version the admin saw, not one read again just before the write.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, problem } from '../api';
import { Alert, PageTitle, SearchForm } from '../ui';

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
  const [rows, setRows] = useState<Row[] | null>(null);
  const [q, setQ] = useState('');
  const [groups, setGroups] = useState<{ id: string; name: string }[]>([]);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [newTill, setNewTill] = useState({ username: '', store: '', password: '' });
  const [newUser, setNewUser] = useState({ id: '', username: '', email: '' });
  const [stores, setStores] = useState<{ id: string; name: string }[]>([]);
  const [etags, setEtags] = useState<Record<string, string>>({});
  // Only the newest list request's answer is shown: a late one (another tab, an older search) is dropped.
  const latest = useRef(0);
  const load = async (part = q) => {
    const mine = ++latest.current;
    const res = await call('GET', `/admin/directory/${kind}${part ? `?q=${encodeURIComponent(part)}` : ''}`);
    if (mine !== latest.current) return;
    if (res.status === 200) {
      setRows(res.body[kind]);
      setEtags(res.body.etags ?? {});
    } else setMessage({ kind: 'error', text: problem(res) });
  };
  useEffect(() => {
    setRows(null);
    setMessage(null);
    void load('');
    void call('GET', '/admin/access-groups').then((r) => r.status === 200 && setGroups(r.body.groups));
    void call('GET', '/admin/directory/stores').then((r) => r.status === 200 && setStores(r.body.stores));
  }, [kind]);
  const path = (row: Row) => `/admin/directory/${kind}/${encodeURIComponent(String(row[KEY[kind]]))}`;
  /** Writes with the ETag of the list read the row came from: a change made since is a 412, never overwritten. */
  const write = async (row: Row, what: string, method: string, suffix: string, body?: unknown) => {
    const etag = etags[String(row[KEY[kind]])] ?? null;
    const res = await call(method, `${path(row)}${suffix}`, { ifMatch: etag, ...(body !== undefined ? { body } : {}) });
    setMessage(res.status === 200 ? { kind: 'ok', text: what } : { kind: 'error', text: problem(res) });
    await load();
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
      <SearchForm onSearch={() => void load()} button="Search">
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
                        onClick={async () => {
                          const res = await call('POST', `${path(row)}/unlock`);
                          setMessage(
                            res.status === 200 ? { kind: 'ok', text: `${id} is unlocked.` } : { kind: 'error', text: problem(res) },
                          );
                          await load();
                        }}
                      >
                        Unlock {id}
                      </button>
                    )}
                    <button
                      type="button"
                      onClick={() =>
                        write(row, `${id} ${row.status === 'disabled' ? 'enabled' : 'disabled'}.`, 'PATCH', '', {
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
                          void write(row, `${id} moved to ${value || 'the default group'}.`, 'PATCH', '', { access_group: value || null });
                        }}
                      >
                        <option value="">(tenant default)</option>
                        {groups.map((g) => (
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
              const res = await call('POST', '/admin/directory/tills', { body: { ...newTill, store: newTill.store || stores[0]?.id } });
              setMessage(
                res.status === 201 ? { kind: 'ok', text: `Till ${newTill.username} created.` } : { kind: 'error', text: problem(res) },
              );
              if (res.status === 201) setNewTill({ username: '', store: '', password: '' });
              await load();
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
              const body = Object.fromEntries(Object.entries(newUser).filter(([, v]) => v.trim() !== ''));
              const res = await call('POST', '/admin/directory/users', { body });
              if (res.status === 201) {
                // On to the new user's page, where its password is set.
                location.hash = `#/directory/users/${encodeURIComponent(newUser.id)}`;
                return;
              }
              setMessage({ kind: 'error', text: problem(res) });
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
    </section>
  );
}
