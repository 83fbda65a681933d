/**
 * A user's links to upstream identity providers (made at sign-in by verified email, by proving
 * the account's password, or when the account was made): listed, and one removed, after which
 * the next sign-in from that upstream identity is a first one again.
 */
import { useEffect, useState } from 'preact/hooks';
import { call, problem } from '../api';
import { Alert } from '../ui';

interface Link {
  id: string;
  upstream: string;
  upstream_sub: string;
  linked_at: string;
  how: string;
}

export function UserLinks({ id }: { id: string }) {
  const path = `/admin/directory/users/${encodeURIComponent(id)}/links`;
  const [links, setLinks] = useState<Link[] | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const load = async () => {
    const res = await call<{ links: Link[] }>('GET', path);
    if (res.status === 200) setLinks(res.body.links);
    else setMessage({ kind: 'error', text: problem(res) });
  };
  useEffect(() => void load(), [path]);
  const remove = async (link: Link) => {
    const res = await call('DELETE', `${path}/${encodeURIComponent(link.id)}`);
    setMessage(
      res.status === 204
        ? { kind: 'ok', text: `The link to ${link.upstream} (${link.upstream_sub}) is removed.` }
        : { kind: 'error', text: problem(res) },
    );
    await load();
  };
  return (
    <>
      <h2>Linked sign-ins</h2>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {links && links.length === 0 && <p>No upstream identity is linked to {id}.</p>}
      {links && links.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Upstream</th>
              <th scope="col">Its subject</th>
              <th scope="col">Linked</th>
              <th scope="col">How</th>
              <th scope="col">
                <span class="sr-only">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {links.map((link) => (
              <tr key={link.id} data-link={link.id}>
                <td>{link.upstream}</td>
                <td>{link.upstream_sub}</td>
                <td>{link.linked_at}</td>
                <td>{link.how}</td>
                <td>
                  <button type="button" onClick={() => void remove(link)}>
                    Remove link to {link.upstream}
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
