/**
 * Tenants: each with its display name, operations and issuer (the `iss` of its tokens); an
 * operator creates one here. A tenant admin sees its own tenant, and no create form (the
 * server would refuse it with OPERATOR_ONLY). Below, the signed-in tenant's branding.
 */
import { useState } from 'preact/hooks';
import { api, refusal } from '../api';
import { useRead } from '../hooks';
import { session } from '../auth';
import { TenantBranding } from './tenant-branding';
import { Alert, PageTitle } from '../ui';

export function TenantsPage() {
  const tenants = useRead('GET /admin/tenants', {});
  const role = useRead('GET /admin/overview', {}).data?.role;
  const [draft, setDraft] = useState({ id: '', displayName: '' });
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  return (
    <section>
      <PageTitle>Tenants</PageTitle>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {tenants.error && <Alert kind="error">{tenants.error}</Alert>}
      {tenants.data && (
        <table>
          <caption class="sr-only">Tenants</caption>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">Issuer</th>
              <th scope="col">Operations</th>
            </tr>
          </thead>
          <tbody>
            {tenants.data.tenants.map((t) => (
              <tr data-id={t.id}>
                <th scope="row">{t.id}</th>
                <td>{t.displayName}</td>
                <td>
                  <code>{t.issuer}</code>
                </td>
                <td>{t.allowedOperation.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {role === 'operator' && (
        <>
          <h2>New tenant</h2>
          <form
            class="stack"
            onSubmit={async (e) => {
              e.preventDefault();
              const answer = await api('POST /admin/tenants', {
                params: {},
                body: { id: draft.id, ...(draft.displayName ? { displayName: draft.displayName } : {}) },
              });
              setMessage(
                answer.ok
                  ? { kind: 'ok', text: `Tenant ${answer.body.id} created; its issuer is ${answer.body.issuer ?? '(none)'}.` }
                  : { kind: 'error', text: refusal(answer) },
              );
              if (answer.ok) {
                setDraft({ id: '', displayName: '' });
                tenants.reload();
              }
            }}
          >
            <label for="tenant-id">Tenant id (lower case)</label>
            <input
              id="tenant-id"
              required
              value={draft.id}
              onInput={(e) => setDraft({ ...draft, id: (e.target as HTMLInputElement).value })}
            />
            <label for="tenant-name">Display name</label>
            <input
              id="tenant-name"
              value={draft.displayName}
              onInput={(e) => setDraft({ ...draft, displayName: (e.target as HTMLInputElement).value })}
            />
            <button type="submit" class="primary">
              Create tenant
            </button>
          </form>
        </>
      )}
      <TenantBranding tenant={session()?.tenant ?? ''} />
    </section>
  );
}
