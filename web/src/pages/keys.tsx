/**
 * Signing keys of the signed-in tenant: each key with its state (active: signs its algorithm;
 * published: in the JWKS, waiting to sign; retired: still published for tokens already out),
 * the tenant's issuer, a rotation and an activation. Both writes name the key set the page
 * shows (If-Match), and the answer is the set now.
 */
import { useState } from 'preact/hooks';
import { api, refusal } from '../api';
import { useRead } from '../hooks';
import { Alert, PageTitle, when } from '../ui';

const ALGORITHMS = ['ES256', 'RS256', 'EdDSA', 'PS256'] as const;

export function KeysPage() {
  const keys = useRead('GET /admin/keys', {});
  const [algorithm, setAlgorithm] = useState<(typeof ALGORITHMS)[number]>('ES256');
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const data = keys.data;
  return (
    <section>
      <PageTitle>Signing keys</PageTitle>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {keys.error && <Alert kind="error">{keys.error}</Alert>}
      {data && (
        <>
          <dl class="facts">
            <dt>Issuer</dt>
            <dd>
              <code>{data.issuer}</code>
            </dd>
          </dl>
          <table>
            <caption class="sr-only">Signing keys</caption>
            <thead>
              <tr>
                <th scope="col">Key id</th>
                <th scope="col">Algorithm</th>
                <th scope="col">State</th>
                <th scope="col">Written</th>
                <th scope="col">Signs from</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.keys.map((k) => (
                <tr data-kid={k.kid}>
                  <th scope="row">
                    <code>{k.kid}</code>
                    {k.shared && <span class="chip">shared</span>}
                  </th>
                  <td>{k.alg}</td>
                  <td>
                    <span class={`chip state-${k.state}`}>{k.state}</span>
                  </td>
                  <td>{when(k.created)}</td>
                  <td>{when(k.activeFrom)}</td>
                  <td>
                    {k.state === 'published' && !k.shared && (
                      <button
                        type="button"
                        onClick={async () => {
                          const answer = await api('POST /admin/keys/{kid}/activate', {
                            params: { kid: k.kid },
                            ifMatch: keys.etag,
                            body: {},
                          });
                          keys.take(answer);
                          setMessage(answer.ok ? { kind: 'ok', text: `${k.kid} signs now.` } : { kind: 'error', text: refusal(answer) });
                        }}
                      >
                        Activate {k.kid}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            A key may sign no sooner than {data.activationFloorSeconds} s after it was written: relying parties cache the JWKS that long.
          </p>
          <form
            class="inline"
            onSubmit={async (e) => {
              e.preventDefault();
              const answer = await api('POST /admin/keys/rotate', { params: {}, ifMatch: keys.etag, body: { algorithm } });
              keys.take(answer);
              setMessage(
                answer.ok
                  ? { kind: 'ok', text: `New ${algorithm} key ${answer.body.kid} published.` }
                  : { kind: 'error', text: refusal(answer) },
              );
            }}
          >
            <label for="key-algorithm">Algorithm of the new key</label>
            <select
              id="key-algorithm"
              value={algorithm}
              onChange={(e) => setAlgorithm((e.target as HTMLSelectElement).value as typeof algorithm)}
            >
              {ALGORITHMS.map((a) => (
                <option value={a}>{a}</option>
              ))}
            </select>
            <button type="submit">Rotate</button>
          </form>
        </>
      )}
    </section>
  );
}
