/**
 * A user's links to upstream identity providers (made at sign-in by verified email, by proving
 * the account's password, or when the account was made): listed, and one removed, after which
 * the next sign-in from that upstream identity is a first one again.
 */
import { useState } from 'preact/hooks';
import { api, refusal } from '../api';
import { useRead } from '../hooks';
import { Alert } from '../ui';

export function UserLinks({ id }: { id: string }) {
  const links = useRead('GET /admin/directory/users/{id}/links', { id });
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const remove = async (link: { id: string; upstream: string; upstream_sub: string }) => {
    const answer = await api('DELETE /admin/directory/users/{id}/links/{link}', { params: { id, link: link.id } });
    setMessage(
      answer.ok
        ? { kind: 'ok', text: `The link to ${link.upstream} (${link.upstream_sub}) is removed.` }
        : { kind: 'error', text: refusal(answer) },
    );
    links.reload();
  };
  const list = links.data?.links;
  return (
    <>
      <h2>Linked sign-ins</h2>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {links.error && <Alert kind="error">{links.error}</Alert>}
      {list && list.length === 0 && <p>No upstream identity is linked to {id}.</p>}
      {list && list.length > 0 && (
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
            {list.map((link) => (
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
