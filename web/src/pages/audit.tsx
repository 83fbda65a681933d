/**
 * Audit: the events kept in the store for the tenant (and those of no tenant, such as
 * reloads), newest first, filtered by tenant, subject (the actor), event, door and time, an
 * admin change's diff shown member by member (the server masks secrets), and the same
 * selection exported as JSON lines.
 */
import { useState } from 'preact/hooks';
import { fetchText } from '../api';
import { useRead } from '../hooks';
import { Alert, PageTitle, SearchForm, when } from '../ui';

interface Difference {
  file?: string;
  pointer?: string;
  before?: unknown;
  after?: unknown;
  more?: number;
}

/** An admin change's diff (server-masked: secrets are "***"), one member a line: file and pointer, before → after. */
function Diff({ text }: { text: string }) {
  let differences: Difference[];
  try {
    differences = JSON.parse(text) as Difference[];
  } catch {
    return <span class="chip">diff: {text}</span>;
  }
  const shown = (value: unknown) => (value === undefined ? '(none)' : JSON.stringify(value));
  return (
    <ul class="diff" aria-label="Changes">
      {differences.map((d) =>
        d.more !== undefined ? (
          <li>… and {d.more} more</li>
        ) : (
          <li>
            <code>
              {d.file}
              {d.pointer}
            </code>
            : {shown(d.before)} → {shown(d.after)}
          </li>
        ),
      )}
    </ul>
  );
}

type Filters = { tenant: string; subject: string; event: string; door: string; since: string; until: string };
const NONE: Filters = { tenant: '', subject: '', event: '', door: '', since: '', until: '' };

/** The query of the filters: times typed in local time are sent as ISO instants. */
function queryOf(filters: Filters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(filters)) {
    if (value === '') continue;
    out[name] = name === 'since' || name === 'until' ? new Date(value).toISOString() : value;
  }
  return out;
}

export function AuditPage() {
  const [filters, setFilters] = useState<Filters>(NONE);
  // The filters the table shows: set by the Filter button, so typing does not read on every key.
  const [applied, setApplied] = useState<Filters>(NONE);
  const audit = useRead('GET /admin/audit', {}, queryOf(applied));
  const [error, setError] = useState<string | null>(null);
  const field = (name: keyof Filters, label: string, type = 'text') => (
    <>
      <label for={`audit-${name}`}>{label}</label>
      <input
        id={`audit-${name}`}
        type={type}
        value={filters[name]}
        onInput={(e) => setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value })}
      />
    </>
  );
  const exportLines = async () => {
    const query = new URLSearchParams({ ...queryOf(applied), format: 'jsonl', limit: '1000' });
    const { status, text } = await fetchText(`/admin/audit?${query}`);
    if (status !== 200) return setError(`Export refused (HTTP ${status}).`);
    setError(null);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
    link.download = 'audit.jsonl';
    link.click();
    URL.revokeObjectURL(link.href);
  };
  return (
    <section>
      <PageTitle>Audit</PageTitle>
      <SearchForm onSearch={() => setApplied(filters)} button="Filter">
        {field('tenant', 'Tenant')}
        {field('subject', 'Subject')}
        {field('event', 'Event (prefix)')}
        {field('door', 'Door')}
        {field('since', 'Since', 'datetime-local')}
        {field('until', 'Until', 'datetime-local')}
      </SearchForm>
      <p>
        <button type="button" onClick={() => void exportLines()}>
          Export as JSON lines
        </button>
      </p>
      {(error ?? audit.error) && <Alert kind="error">{error ?? audit.error}</Alert>}
      {audit.data && (
        <table>
          <caption class="sr-only">Recent audit events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Subject</th>
              <th scope="col">Tenant</th>
              <th scope="col">Operation</th>
              <th scope="col">Code</th>
              <th scope="col">More</th>
            </tr>
          </thead>
          <tbody>
            {audit.data.events.map(({ time, event, subject, tenant, operation, code, requestId: _r, ...rest }) => (
              <tr>
                <td>{when(time)}</td>
                <td>{event}</td>
                <td>{subject ?? ''}</td>
                <td>{tenant ?? ''}</td>
                <td>{operation ?? ''}</td>
                <td>{code ?? ''}</td>
                <td>
                  {Object.entries(rest).map(([k, v]) =>
                    k === 'diff' && typeof v === 'string' ? (
                      <Diff text={v} />
                    ) : (
                      <span class="chip">
                        {k}: {String(v)}
                      </span>
                    ),
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
