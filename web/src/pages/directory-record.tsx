/**
 * One till, API client or user: edit its details (a user's names and contact data, a client's
 * redirect URIs), set a password in a masked form, rotate a client's secret (made on the
 * server and shown here once), unlock it; a user's links to upstream identities (user-links.tsx). Every write carries the ETag of the read this page
 * shows, and takes the answer's as the next: a change someone else made meanwhile is a 412,
 * never overwritten.
 */
import { useEffect, useState } from 'preact/hooks';
import { call, problem, type Answer } from '../api';
import { Alert, PageTitle } from '../ui';
import { UserLinks } from './user-links';

type Kind = 'tills' | 'clients' | 'users';
type Row = Record<string, unknown> & { locked?: boolean; lockedForSeconds?: number; has_secret?: boolean };
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

type Message = { kind: 'ok' | 'error'; text: string } | null;

export function DirectoryRecord({ kind, id }: { kind: Kind; id: string }) {
  const path = `/admin/directory/${kind}/${encodeURIComponent(id)}`;
  const [record, setRecord] = useState<Row | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [password, setPassword] = useState('');
  const [secret, setSecret] = useState<string | null>(null);

  /** Takes a record answer as the page's: its body and its ETag, the version the next write names. */
  const take = (res: Answer<Row>) => {
    const { secret: _once, ...shown } = res.body; // a rotated secret lives in its own state, shown once
    setRecord(shown);
    setEtag(res.etag);
    const fields: Record<string, string> = {};
    for (const [member] of TEXT_FIELDS[kind]) fields[member] = typeof res.body[member] === 'string' ? (res.body[member] as string) : '';
    for (const [member] of LIST_FIELDS[kind])
      fields[member] = Array.isArray(res.body[member]) ? (res.body[member] as string[]).join('\n') : '';
    setDraft(fields);
  };
  useEffect(() => {
    let current = true;
    void call<Row>('GET', path).then((res) => {
      if (!current) return;
      if (res.status === 200) take(res);
      else setMessage({ kind: 'error', text: problem(res) });
    });
    // A late answer for a record left behind is dropped.
    return () => {
      current = false;
    };
  }, [path]);

  /** A write with the ETag of the read shown; the answer is the record now. */
  const write = async (method: 'PATCH' | 'POST', suffix: string, done: string, body?: unknown): Promise<Answer<Row>> => {
    const res = await call<Row>(method, `${path}${suffix}`, {
      ifMatch: etag,
      ...(body !== undefined ? { body } : {}),
    });
    if (res.status === 200) take(res);
    setMessage(res.status === 200 ? { kind: 'ok', text: done } : { kind: 'error', text: problem(res) });
    return res;
  };

  const changes = () => {
    const body: Record<string, unknown> = {};
    for (const [member] of TEXT_FIELDS[kind]) {
      const value = (draft[member] ?? '').trim();
      const before = typeof record?.[member] === 'string' ? record[member] : '';
      if (value !== before) body[member] = value === '' ? null : value;
    }
    for (const [member] of LIST_FIELDS[kind]) {
      const value = (draft[member] ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const before = Array.isArray(record?.[member]) ? (record[member] as string[]) : [];
      if (value.join('\n') !== before.join('\n')) body[member] = value.length === 0 ? null : value;
    }
    return body;
  };

  return (
    <section>
      <PageTitle>
        {SINGULAR[kind]} {id}
      </PageTitle>
      <p>
        <a href={`#/directory/${kind}`}>Back to the list</a>
      </p>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {record && (
        <>
          <p>
            Status: {String(record.status ?? 'active')}
            {record.locked && <span class="chip bad">locked {record.lockedForSeconds} s</span>}
          </p>
          {record.locked && (
            <p>
              <button type="button" onClick={() => void write('POST', '/unlock', `${id} is unlocked.`)}>
                Unlock {id}
              </button>
            </p>
          )}
          {TEXT_FIELDS[kind].length + LIST_FIELDS[kind].length > 0 && (
            <form
              class="stack"
              onSubmit={(e) => {
                e.preventDefault();
                const body = changes();
                if (Object.keys(body).length === 0) setMessage({ kind: 'ok', text: 'Nothing to save.' });
                else void write('PATCH', '', `${id} saved.`, body);
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
                const res = await write('POST', '/password', `Password of ${id} set.`, { password });
                if (res.status === 200) setPassword('');
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
                  const res = await write('POST', '/secret/rotate', `Secret of ${id} rotated: copy it now, it is not shown again.`);
                  if (res.status === 200) setSecret(String((res.body as Row & { secret?: string }).secret ?? ''));
                }}
              >
                Rotate secret of {id}
              </button>
              {secret && (
                <p>
                  <label for="record-secret">New secret of {id}</label>
                  <input id="record-secret" readOnly value={secret} autocomplete="off" spellcheck={false} />
                </p>
              )}
            </>
          )}
        </>
      )}
    </section>
  );
}
