/** Audit: the recent audit events of the tenant (and of no tenant, such as reloads), filtered by tenant, subject and event. */
import { useEffect, useState } from 'preact/hooks';
import { call, problem } from '../api';
import { Alert, PageTitle, SearchForm, when } from '../ui';

interface AuditEvent {
  time: string;
  event: string;
  subject?: string;
  tenant?: string;
  operation?: string;
  code?: string;
  [k: string]: unknown;
}

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

export function AuditPage() {
  const [filters, setFilters] = useState({ tenant: '', subject: '', event: '' });
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== ''));
    const res = await call<{ events: AuditEvent[] }>('GET', `/admin/audit${q.size ? `?${q}` : ''}`);
    if (res.status === 200) setEvents(res.body.events);
    else setError(problem(res));
  };
  useEffect(() => void load(), []);
  const field = (name: keyof typeof filters, label: string) => (
    <>
      <label for={`audit-${name}`}>{label}</label>
      <input
        id={`audit-${name}`}
        value={filters[name]}
        onInput={(e) => setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value })}
      />
    </>
  );
  return (
    <section>
      <PageTitle>Audit</PageTitle>
      <SearchForm onSearch={() => void load()} button="Filter">
        {field('tenant', 'Tenant')}
        {field('subject', 'Subject')}
        {field('event', 'Event (prefix)')}
      </SearchForm>
      {error && <Alert kind="error">{error}</Alert>}
      {events && (
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
            {events.map(({ time, event, subject, tenant, operation, code, requestId: _r, ...rest }) => (
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
