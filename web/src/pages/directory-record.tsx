/**
 * One till, API client or user: edit its details (a user's names and contact data, a client's
 * redirect URIs, pool and access group), set a password in a masked form, rotate a client's
 * secret (made on the server and shown here once), unlock it, and see and end a user's
 * sessions and links to upstream identities (user-links.tsx). Every write carries the ETag of the read this page shows, and takes the answer's
 * as the next: a change someone else made meanwhile is a 412, never overwritten.
 */
import { useState } from 'preact/hooks';
import { api, refusal, type Reply, type Typed } from '../api';
import { useEdited, useRead } from '../hooks';
import { Alert, PageTitle, when } from '../ui';
import { UserLinks } from './user-links';

type Kind = 'tills' | 'clients' | 'users';
type RecordRoute = `GET /admin/directory/${Kind}/{id}`;
type Row = Reply<RecordRoute>;
const SINGULAR: Record<Kind, string> = { tills: 'Till', clients: 'API client', users: 'User' };
/** The text members the details form edits, with their labels. */
const TEXT_FIELDS: Record<Kind, [string, string][]> = {
  tills: [],
  clients: [],
  users: [
    ['username', 'Username'],
    ['name', 'Full name'],
    ['email', 'Email'],
    ['mobile', 'Mobile (E.164, e.g. +15550000001)'],
  ],
};
/** The list members the details form edits, one entry a line. */
const LIST_FIELDS: Record<Kind, [string, string][]> = {
  tills: [],
  clients: [
    ['redirect_uris', 'Redirect URIs (one a line)'],
    ['post_logout_redirect_uris', 'Post-logout redirect URIs (one a line)'],
  ],
  users: [],
};
/** The members chosen from a list (pools, access groups). */
const CHOICES: Record<Kind, [string, string][]> = {
  tills: [],
  clients: [
    ['pool', 'User pool (userapps)'],
    ['access_group', 'Access group'],
  ],
  users: [['access_group', 'Access group']],
};

type Message = { kind: 'ok' | 'error'; text: string } | null;

function draftOf(kind: Kind, record: Row): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [member] of [...TEXT_FIELDS[kind], ...CHOICES[kind]])
    fields[member] = typeof record[member] === 'string' ? (record[member] as string) : '';
  for (const [member] of LIST_FIELDS[kind]) fields[member] = Array.isArray(record[member]) ? (record[member] as string[]).join('\n') : '';
  return fields;
}

/** The changed members of the form: '' or an empty list removes a member (null). */
function changesOf(kind: Kind, record: Row, draft: Record<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [member] of [...TEXT_FIELDS[kind], ...CHOICES[kind]]) {
    const value = (draft[member] ?? '').trim();
    const before = typeof record[member] === 'string' ? record[member] : '';
    if (value !== before) body[member] = value === '' ? null : value;
  }
  for (const [member] of LIST_FIELDS[kind]) {
    const value = (draft[member] ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const before = Array.isArray(record[member]) ? (record[member] as string[]) : [];
    if (value.join('\n') !== before.join('\n')) body[member] = value.length === 0 ? null : value;
  }
  return body;
}

export function DirectoryRecord({ kind, id }: { kind: Kind; id: string }) {
  const read = useRead(`GET /admin/directory/${kind}/{id}` as RecordRoute, { id });
  const groups = useRead('GET /admin/access-groups', {});
  const pools = useRead('GET /admin/pools', {});
  const [message, setMessage] = useState<Message>(null);
  const [password, setPassword] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const record = read.data;
  // The form starts from each read or write answer shown.
  const [draft, setDraft, discardDraft] = useEdited<Record<string, string>>(record ? draftOf(kind, record) : {});

  /** Shows a write's answer (the record now, with its ETag for the next write) and says how it went. */
  const settle = (answer: Typed<Row>, done: string) => {
    read.take(answer);
    if (answer.ok) discardDraft();
    setMessage(answer.ok ? { kind: 'ok', text: done } : { kind: 'error', text: refusal(answer) });
    return answer;
  };
  const ifMatch = read.etag;

  return (
    <section>
      <PageTitle>
        {SINGULAR[kind]} {id}
      </PageTitle>
      <p>
        <a href={`#/directory/${kind}`}>Back to the list</a>
      </p>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {read.error && <Alert kind="error">{read.error}</Alert>}
      {record && (
        <>
          <p>
            Status: {String(record.status ?? 'active')}
            {kind === 'clients' && <span class="chip">{String(record.type ?? 'sysapp')}</span>}
            {record.locked && <span class="chip bad">locked {record.lockedForSeconds} s</span>}
          </p>
          {record.locked && (
            <p>
              <button
                type="button"
                onClick={async () =>
                  settle(await api(`POST /admin/directory/${kind}/{id}/unlock`, { params: { id } }), `${id} is unlocked.`)
                }
              >
                Unlock {id}
              </button>
            </p>
          )}
          {TEXT_FIELDS[kind].length + LIST_FIELDS[kind].length + CHOICES[kind].length > 0 && (
            <form
              class="stack"
              onSubmit={async (e) => {
                e.preventDefault();
                const body = changesOf(kind, record, draft);
                if (Object.keys(body).length === 0) return setMessage({ kind: 'ok', text: 'Nothing to save.' });
                settle(await api(`PATCH /admin/directory/${kind}/{id}`, { params: { id }, ifMatch, body }), `${id} saved.`);
              }}
            >
              <h2>Details</h2>
              {TEXT_FIELDS[kind].map(([member, label]) => (
                <>
                  <label for={`record-${member}`}>{label}</label>
                  <input
                    id={`record-${member}`}
                    value={draft[member] ?? ''}
                    onInput={(e) => setDraft({ ...draft, [member]: (e.target as HTMLInputElement).value })}
                  />
                </>
              ))}
              {LIST_FIELDS[kind].map(([member, label]) => (
                <>
                  <label for={`record-${member}`}>{label}</label>
                  <textarea
                    id={`record-${member}`}
                    rows={3}
                    spellcheck={false}
                    value={draft[member] ?? ''}
                    onInput={(e) => setDraft({ ...draft, [member]: (e.target as HTMLTextAreaElement).value })}
                  />
                </>
              ))}
              {CHOICES[kind].map(([member, label]) => {
                const options =
                  member === 'pool'
                    ? (pools.data?.pools ?? []).map((p) => ({ id: p.id, name: p.id }))
                    : ((groups.data?.groups as { id: string; name: string }[] | undefined) ?? []);
                return (
                  <>
                    <label for={`record-${member}`}>{label}</label>
                    <select
                      id={`record-${member}`}
                      value={draft[member] ?? ''}
                      onChange={(e) => setDraft({ ...draft, [member]: (e.target as HTMLSelectElement).value })}
                    >
                      <option value="">{member === 'pool' ? '(none)' : '(tenant default)'}</option>
                      {options.map((o) => (
                        <option value={o.id}>{o.name}</option>
                      ))}
                    </select>
                  </>
                );
              })}
              <button type="submit" class="primary">
                Save {id}
              </button>
            </form>
          )}
          {kind !== 'clients' && (
            <form
              class="stack"
              onSubmit={async (e) => {
                e.preventDefault();
                const answer = settle(
                  await api(`POST /admin/directory/${kind as 'users' | 'tills'}/{id}/password`, {
                    params: { id },
                    ifMatch,
                    body: { password },
                  }),
                  `Password of ${id} set.`,
                );
                if (answer.ok) setPassword('');
              }}
            >
              <h2>Password</h2>
              <label for="record-password">New password of {id} (8 to 256 bytes; hashed on the server)</label>
              <input
                id="record-password"
                type="password"
                autocomplete="new-password"
                required
                minLength={8}
                value={password}
                onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
              />
              <button type="submit">Set password</button>
            </form>
          )}
          {kind === 'users' && <UserLinks id={id} />}
          {kind === 'clients' && record.has_secret && (
            <>
              <h2>Secret</h2>
              <p>A new secret is made on the server and shown here once; the old one stops working at once.</p>
              <button
                type="button"
                onClick={async () => {
                  setSecret(null);
                  const answer = await api('POST /admin/directory/clients/{id}/secret/rotate', { params: { id }, ifMatch });
                  // The secret lives in this page's state only: the record shown is the answer without it.
                  if (!answer.ok) return settle(answer, '');
                  const { secret: once, ...shown } = answer.body;
                  setSecret(once ?? null);
                  settle({ ...answer, body: shown as Row }, `Secret of ${id} rotated: copy it now, it is not shown again.`);
                }}
              >
                Rotate secret of {id}
              </button>
              {secret && <OnceSecret id={id} secret={secret} />}
            </>
          )}
          {kind === 'users' && <Sessions id={id} />}
        </>
      )}
    </section>
  );
}

export function OnceSecret({ id, secret }: { id: string; secret: string }) {
  return (
    <p>
      <label for="record-secret">New secret of {id}</label>
      <input id="record-secret" readOnly value={secret} autocomplete="off" spellcheck={false} />
    </p>
  );
}

/** The user's sessions (hosted-login single sign-on, PUT logins with a refresh token), each ended by a button (its tokens stop working). */
function Sessions({ id }: { id: string }) {
  const sessions = useRead('GET /admin/directory/users/{id}/sessions', { id });
  const [message, setMessage] = useState<Message>(null);
  return (
    <>
      <h2>Sessions</h2>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {sessions.error && <Alert kind="error">{sessions.error}</Alert>}
      {sessions.data && sessions.data.sessions.length === 0 && <p>No session.</p>}
      {sessions.data && sessions.data.sessions.length > 0 && (
        <table>
          <caption class="sr-only">Sessions of {id}</caption>
          <thead>
            <tr>
              <th scope="col">Where</th>
              <th scope="col">Signed in</th>
              <th scope="col">Ends</th>
              <th scope="col">Apps</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {sessions.data.sessions.map((s) => (
              <tr data-session={s.handle}>
                <td>{s.door === 'hosted' ? 'hosted login' : 'PUT login'}</td>
                <td>{when(s.signedIn)}</td>
                <td>{when(s.expires)}</td>
                <td>{s.clients.join(', ')}</td>
                <td>
                  <button
                    type="button"
                    aria-label={`End the session of ${id} in ${s.clients.join(', ') || 'no app'}`}
                    onClick={async () => {
                      const answer = await api('DELETE /admin/directory/users/{id}/sessions/{handle}', {
                        params: { id, handle: s.handle },
                      });
                      setMessage(answer.ok ? { kind: 'ok', text: `Session of ${id} ended.` } : { kind: 'error', text: refusal(answer) });
                      sessions.reload();
                    }}
                  >
                    End session
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
