/**
 * Access groups (the access-groups admin API): list and search with who created and last
 * changed each group and how many stores it has; create; edit the permissions table;
 * activate or deactivate; allocate stores; make a group the tenant default.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, refusal, type Reply, type Typed } from '../api';
import { useRead } from '../hooks';
import { Alert, PageTitle, SearchForm, when } from '../ui';

type Detail = Reply<'GET /admin/access-groups/{id}'>;

function GroupList() {
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const list = useRead('GET /admin/access-groups', {}, applied ? { name: applied } : undefined);
  const groups = list.data?.groups;
  const [name, setName] = useState('');
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    const answer = await api('POST /admin/access-groups', { params: {}, body: { name } });
    if (answer.ok) location.hash = `#/access-groups/${encodeURIComponent(answer.body.id)}`;
    else setMessage({ kind: 'error', text: refusal(answer) });
  };
  return (
    <section>
      <PageTitle>Access groups</PageTitle>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {list.error && <Alert kind="error">{list.error}</Alert>}
      <SearchForm onSearch={() => setApplied(search)} button="Search">
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
  const read = useRead('GET /admin/access-groups/{id}', { id });
  // The default's version read with the group: "Make default" names it, so a default changed meanwhile is a 412.
  const fallback = useRead('GET /admin/access-groups/default', {});
  const resources = useRead('GET /admin/resources', {}).data;
  const storeList = useRead('GET /admin/directory/stores', {});
  const stores = storeList.data?.stores ?? [];
  const group = read.data;
  const [table, setTable] = useState<Detail['permissions']>({});
  const [store, setStore] = useState('');
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  useEffect(() => {
    if (group) setTable(structuredClone(group.permissions));
  }, [group]);
  /** Shows a write's answer (the group now, with the ETag the next write names); stores moved, so they are read again. */
  const settle = (answer: Typed<Detail>, what: string) => {
    read.take(answer);
    setMessage(answer.ok ? { kind: 'ok', text: what } : { kind: 'error', text: refusal(answer) });
    if (answer.ok) storeList.reload();
  };
  const ifMatch = read.etag;
  if (!group) return <section>{read.error ? <Alert kind="error">{read.error}</Alert> : <p>Loading…</p>}</section>;
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
            <button
              type="button"
              onClick={async () =>
                settle(await api('POST /admin/access-groups/{id}/deactivate', { params: { id }, ifMatch }), 'Deactivated.')
              }
            >
              Deactivate
            </button>
          ) : (
            <button
              type="button"
              onClick={async () => settle(await api('POST /admin/access-groups/{id}/activate', { params: { id }, ifMatch }), 'Activated.')}
            >
              Activate
            </button>
          ))}{' '}
        {!group.isDefault && group.status === 'active' && (
          <button
            type="button"
            onClick={async () => {
              const answer = await api('PUT /admin/access-groups/default', { params: {}, ifMatch: fallback.etag, body: { group: id } });
              setMessage(answer.ok ? { kind: 'ok', text: `${group.name} is the default now.` } : { kind: 'error', text: refusal(answer) });
              fallback.take(answer);
              read.reload();
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
            void api('PATCH /admin/access-groups/{id}', { params: { id }, ifMatch, body: { permissions: table } }).then((answer) =>
              settle(answer, 'Permissions saved.'),
            );
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
              onClick={async () =>
                settle(
                  await api('POST /admin/access-groups/{id}/stores', { params: { id }, ifMatch, body: { remove: [s.id] } }),
                  `${s.id} returned to the default group.`,
                )
              }
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
            const add = [chosen.access_group ? { store: chosen.id, from: chosen.access_group } : chosen.id];
            void api('POST /admin/access-groups/{id}/stores', { params: { id }, ifMatch, body: { add } }).then((answer) =>
              settle(answer, `${chosen.id} allocated to ${group.name}.`),
            );
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
