/**
 * Access groups (the access-groups admin API): list and search with who created and last
 * changed each group and how many stores it has; create; edit the permissions table;
 * activate or deactivate; allocate stores; make a group the tenant default.
 */
import { useEffect, useState } from 'preact/hooks';
import { call, problem } from '../api';
import { Alert, PageTitle, SearchForm, when } from '../ui';

interface Summary {
  id: string;
  name: string;
  status: string;
  description: string;
  builtIn: boolean;
  isDefault: boolean;
  createdOn: string | null;
  createdBy: string | null;
  lastUpdatedOn: string | null;
  lastUpdatedBy: string | null;
  allocatedStores: number;
}
interface Detail extends Summary {
  permissions: Record<string, Record<string, string>>;
  scope: string;
  stores: { id: string; name: string }[];
}
interface Resources {
  apis: { id: string; title: string; resources: string[] }[];
  levels: string[];
}
interface Store {
  id: string;
  name: string;
  access_group?: string;
}

function GroupList() {
  const [groups, setGroups] = useState<Summary[] | null>(null);
  const [search, setSearch] = useState('');
  const [name, setName] = useState('');
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const load = async (part = search) => {
    const res = await call<{ groups: Summary[] }>('GET', `/admin/access-groups${part ? `?name=${encodeURIComponent(part)}` : ''}`);
    if (res.status === 200) setGroups(res.body.groups);
    else setMessage({ kind: 'error', text: problem(res) });
  };
  useEffect(() => void load(''), []);
  const create = async (e: Event) => {
    e.preventDefault();
    const res = await call<Detail>('POST', '/admin/access-groups', { body: { name } });
    if (res.status === 201) {
      location.hash = `#/access-groups/${encodeURIComponent(res.body.id)}`;
    } else setMessage({ kind: 'error', text: problem(res) });
  };
  return (
    <section>
      <PageTitle>Access groups</PageTitle>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      <SearchForm onSearch={() => void load()} button="Search">
        <label for="group-search">Search by name</label>
        <input id="group-search" type="search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
      </SearchForm>
      {groups && (
        <table>
          <caption class="sr-only">Access groups</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Stores</th>
              <th scope="col">Created</th>
              <th scope="col">Last updated</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr>
                <th scope="row">
                  <a href={`#/access-groups/${encodeURIComponent(g.id)}`}>{g.name}</a>
                  {g.builtIn && <span class="chip">built-in</span>}
                  {g.isDefault && <span class="chip">default</span>}
                </th>
                <td>{g.status}</td>
                <td>{g.allocatedStores}</td>
                <td>{g.createdBy ? `${g.createdBy}, ${when(g.createdOn ?? undefined)}` : '—'}</td>
                <td>{g.lastUpdatedBy ? `${g.lastUpdatedBy}, ${when(g.lastUpdatedOn ?? undefined)}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>New group</h2>
      <form class="inline" onSubmit={create}>
        <label for="group-name">Name</label>
        <input id="group-name" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary">
          Create group
        </button>
      </form>
    </section>
  );
}

function GroupDetail({ id }: { id: string }) {
  const [group, setGroup] = useState<Detail | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  // The default's version read with the group: "Make default" names it, so a default changed meanwhile is a 412.
  const [defaultEtag, setDefaultEtag] = useState<string | null>(null);
  const [resources, setResources] = useState<Resources | null>(null);
  const [stores, setStores] = useState<Store[]>([]);
  const [table, setTable] = useState<Record<string, Record<string, string>>>({});
  const [store, setStore] = useState('');
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const load = async () => {
    const [res, cat, st, fallback] = await Promise.all([
      call<Detail>('GET', `/admin/access-groups/${encodeURIComponent(id)}`),
      call<Resources>('GET', '/admin/resources'),
      call<{ stores: Store[] }>('GET', '/admin/directory/stores'),
      call('GET', '/admin/access-groups/default'),
    ]);
    if (res.status !== 200) return setMessage({ kind: 'error', text: problem(res) });
    setGroup(res.body);
    setEtag(res.etag);
    setDefaultEtag(fallback.etag);
    setTable(structuredClone(res.body.permissions));
    if (cat.status === 200) setResources(cat.body);
    if (st.status === 200) setStores(st.body.stores);
  };
  useEffect(() => void load(), [id]);
  const act = async (what: string, method: string, path: string, body?: unknown) => {
    const res = await call(method, path, { ifMatch: etag, ...(body !== undefined ? { body } : {}) });
    if (res.status === 200) {
      setMessage({ kind: 'ok', text: what });
      await load();
    } else setMessage({ kind: 'error', text: problem(res) });
  };
  if (!group) return <section>{message ? <Alert kind="error">{message.text}</Alert> : <p>Loading…</p>}</section>;
  const base = `/admin/access-groups/${encodeURIComponent(id)}`;
  const candidates = stores.filter((s) => s.access_group !== id);
  return (
    <section>
      <PageTitle>Access group {group.name}</PageTitle>
      <p>
        <a href="#/access-groups">All access groups</a>
      </p>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{group.id}</code> {group.builtIn && <span class="chip">built-in</span>}
        </dd>
        <dt>Status</dt>
        <dd>{group.status}</dd>
        <dt>Scope</dt>
        <dd>
          <code>{group.scope || '(nothing)'}</code>
        </dd>
      </dl>
      <p>
        {!group.builtIn &&
          (group.status === 'active' ? (
            <button type="button" onClick={() => act('Deactivated.', 'POST', `${base}/deactivate`)}>
              Deactivate
            </button>
          ) : (
            <button type="button" onClick={() => act('Activated.', 'POST', `${base}/activate`)}>
              Activate
            </button>
          ))}{' '}
        {!group.isDefault && group.status === 'active' && (
          <button
            type="button"
            onClick={async () => {
              const res = await call('PUT', '/admin/access-groups/default', { ifMatch: defaultEtag, body: { group: id } });
              setMessage(
                res.status === 200 ? { kind: 'ok', text: `${group.name} is the default now.` } : { kind: 'error', text: problem(res) },
              );
              await load();
            }}
          >
            Make default
          </button>
        )}
      </p>
      <h2>Permissions</h2>
      {resources && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act('Permissions saved.', 'PATCH', base, { permissions: table });
          }}
        >
          {resources.apis.map((api) => (
            <table>
              <caption>{api.title}</caption>
              <thead>
                <tr>
                  <th scope="col">Resource</th>
                  <th scope="col">Access</th>
                </tr>
              </thead>
              <tbody>
                {api.resources.map((r) => (
                  <tr>
                    <th scope="row">{r}</th>
                    <td>
                      <select
                        aria-label={`${api.title} ${r}`}
                        disabled={group.builtIn}
                        value={table[api.id]?.[r] ?? 'none'}
                        onChange={(e) => {
                          const value = (e.target as HTMLSelectElement).value;
                          const next = structuredClone(table);
                          next[api.id] ??= {};
                          if (value === 'none') delete next[api.id]![r];
                          else next[api.id]![r] = value;
                          setTable(next);
                        }}
                      >
                        {resources.levels.map((l) => (
                          <option value={l}>{l}</option>
                        ))}
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
          {!group.builtIn && (
            <button type="submit" class="primary">
              Save permissions
            </button>
          )}
        </form>
      )}
      <h2>Stores ({group.stores.length})</h2>
      <ul>
        {group.stores.map((s) => (
          <li>
            {s.name} (<code>{s.id}</code>){' '}
            <button
              type="button"
              onClick={() => act(`${s.id} returned to the default group.`, 'POST', `${base}/stores`, { remove: [s.id] })}
            >
              Remove {s.id}
            </button>
          </li>
        ))}
      </ul>
      {candidates.length > 0 && (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            const chosen = stores.find((s) => s.id === (store || candidates[0]?.id));
            if (!chosen) return;
            void act(`${chosen.id} allocated to ${group.name}.`, 'POST', `${base}/stores`, {
              add: [chosen.access_group ? { store: chosen.id, from: chosen.access_group } : chosen.id],
            });
          }}
        >
          <label for="store">Allocate a store</label>
          <select id="store" value={store || candidates[0]?.id} onChange={(e) => setStore((e.target as HTMLSelectElement).value)}>
            {candidates.map((s) => (
              <option value={s.id}>
                {s.name} ({s.id}
                {s.access_group ? `, now in ${s.access_group}` : ', default group'})
              </option>
            ))}
          </select>
          <button type="submit">Allocate</button>
        </form>
      )}
    </section>
  );
}

export function AccessGroups({ id }: { id: string | undefined }) {
  return id ? <GroupDetail id={id} /> : <GroupList />;
}
