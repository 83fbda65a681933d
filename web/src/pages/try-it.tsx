/**
 * Try it: runs an operation of the signed-in tenant as a dry run with a trace. The timeline
 * shows each valve: ran or skipped (and the condition that decided), what it added, changed
 * or removed on the item and the session (secrets masked as the CLI masks them), its
 * outcome and time; then the answer. A dry run is the real pipe on the real store.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, refusal, type Reply } from '../api';
import { session } from '../auth';
import { useRead } from '../hooks';
import { Alert, Json, PageTitle } from '../ui';

type Result = Reply<'POST /admin/dry-run'>;

const SIGN = { added: '+', changed: '~', removed: '-' } as const;

export function TryIt({ operation: initial }: { operation: string }) {
  const tenant = useRead('GET /admin/tenants/{id}', { id: session()?.tenant ?? '' });
  const operations = tenant.data?.allowedOperation ?? [];
  const [operation, setOperation] = useState(initial);
  const [body, setBody] = useState('{\n  "username": "till-001",\n  "password": "till-001-pass"\n}');
  const [headers, setHeaders] = useState('');
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Without an operation in the address, the tenant's first one is chosen once its operations are read.
  useEffect(() => {
    if (!initial && tenant.data) setOperation((current) => current || (tenant.data?.allowedOperation[0] ?? ''));
  }, [tenant.data, initial]);
  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const parsedHeaders: Record<string, string> = {};
    for (const line of headers
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)) {
      const at = line.indexOf(':');
      if (at < 1) return setError(`Header line "${line}" is not "name: value".`);
      parsedHeaders[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    const res = await api('POST /admin/dry-run', { params: {}, body: { operation, body, headers: parsedHeaders } });
    if (!res.ok) return setError(refusal(res));
    setResult(res.body);
  };
  return (
    <section>
      <PageTitle>Try it</PageTitle>
      <form class="try" onSubmit={run}>
        <label for="operation">Operation</label>
        <select id="operation" value={operation} onChange={(e) => setOperation((e.target as HTMLSelectElement).value)}>
          {operations.map((o) => (
            <option value={o}>{o}</option>
          ))}
        </select>
        <label for="body">Body (a flat JSON object of strings)</label>
        <textarea id="body" rows={6} spellcheck={false} value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
        <label for="headers">Headers, one "name: value" per line</label>
        <textarea
          id="headers"
          rows={2}
          spellcheck={false}
          value={headers}
          onInput={(e) => setHeaders((e.target as HTMLTextAreaElement).value)}
        />
        <button type="submit" class="primary">
          Run as a dry run
        </button>
      </form>
      {(error ?? tenant.error) && <Alert kind="error">{error ?? tenant.error}</Alert>}
      {result && (
        <div class="result" aria-live="polite">
          <h2>Timeline</h2>
          <ol class="timeline">
            {(result.trace?.steps ?? []).map((s) => (
              <li class={`outcome-${s.outcome}`} style={{ marginLeft: `${(s.depth ?? 0) * 1.5}em` }}>
                <div>
                  <strong>
                    #{s.index} {s.label !== `${s.index}:${s.valve}` ? `${s.label} (${s.valve})` : s.valve}
                  </strong>{' '}
                  <span class="chip">{s.outcome}</span> {s.ms !== undefined && <span class="muted">{s.ms} ms</span>}
                </div>
                {s.reason && <div class="cond">{s.reason}</div>}
                {s.code && (
                  <div class="bad">
                    {s.code}
                    {s.detail ? `: ${s.detail}` : ''}
                  </div>
                )}
                {s.changes.length > 0 && (
                  <ul class="changes">
                    {s.changes.map((c) => (
                      <li>
                        <code>
                          {SIGN[c.op]} {c.scope}.{c.name}
                          {c.value !== undefined ? ` = ${JSON.stringify(c.value)}` : ''}
                          {c.previous !== undefined ? ` (was ${JSON.stringify(c.previous)})` : ''}
                        </code>
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ol>
          <h2>
            Answer: <span class={result.status === 200 ? 'good' : 'bad'}>{result.status}</span>
            {result.error && <> {result.error.code}</>}
          </h2>
          {result.error?.detail && <p>Why (not sent to callers): {result.error.detail}</p>}
          <Json value={result.body} label="Answer body" />
        </div>
      )}
    </section>
  );
}
