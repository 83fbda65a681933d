/**
 * The signed-in tenant's own branding: the look of its hosted login wherever a pool sets none
 * of its own (a pool's fields override it one by one). Saved with the version the page read
 * (If-Match); an off-site logo or stylesheet is refused with the issue under its field.
 */
import { useState } from 'preact/hooks';
import { api, refusal } from '../api';
import { BrandingFields, brandingToSave, fieldIssues, type Branding, type FieldIssue } from '../branding';
import { useEdited, useRead } from '../hooks';
import { Alert } from '../ui';

export function TenantBranding({ tenant }: { tenant: string }) {
  const read = useRead('GET /admin/branding', {});
  const [shown, setDraft, discardDraft] = useEdited<Branding | null>(read.data);
  const [problems, setProblems] = useState<FieldIssue[]>([]);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  return (
    <>
      <h2>Branding of {tenant}</h2>
      <p class="muted">How the tenant's hosted login looks; a pool's own branding overrides it field by field.</p>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {read.error && <Alert kind="error">{read.error}</Alert>}
      {shown && (
        <form
          class="stack"
          onSubmit={async (e) => {
            e.preventDefault();
            const answer = await api('PUT /admin/branding', { params: {}, ifMatch: read.etag, body: brandingToSave(shown) ?? {} });
            read.take(answer);
            // Saved: the page shows what the server now holds.
            if (answer.ok) discardDraft();
            setProblems(answer.ok ? [] : fieldIssues(answer.body));
            setMessage(answer.ok ? { kind: 'ok', text: `Branding of ${tenant} saved.` } : { kind: 'error', text: refusal(answer) });
          }}
        >
          <BrandingFields id="tenant-branding" root="" value={shown} issues={problems} onChange={setDraft} />
          <button type="submit" class="primary">
            Save branding
          </button>
        </form>
      )}
    </>
  );
}
