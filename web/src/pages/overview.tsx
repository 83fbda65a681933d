/**
 * Overview: tenants and their operations, the config version and the last refused reload,
 * store and LDAP health, and calls and refusals by code per operation. The counters are
 * totals since the server started; the page samples them every 10 s and shows what changed
 * over the last five minutes it has seen.
 */
import { useEffect } from 'preact/hooks';
import type { Reply } from '../api';
import { useRead } from '../hooks';
import { Alert, PageTitle, when } from '../ui';

/** A call counter: door (put, hosted, token or dry-run), operation, outcome, code and count. */
type Counter = NonNullable<Reply<'GET /admin/overview'>['calls']>[number];

const WINDOW_MS = 5 * 60_000;
const samples: { at: number; calls: Counter[] }[] = [];

function key(c: Counter): string {
  return `${c.door}\u0000${c.operation}\u0000${c.outcome}\u0000${c.code}`;
}

/** Per door and operation ("hosted · login-password"): calls, successes and refusals by code, over the window. */
function recent(): Map<string, { total: number; success: number; codes: Map<string, number> }> {
  const out = new Map<string, { total: number; success: number; codes: Map<string, number> }>();
  const last = samples[samples.length - 1];
  if (!last) return out;
  const first = samples.find((s) => s.at >= last.at - WINDOW_MS) ?? last;
  const before = new Map(first.calls.map((c) => [key(c), c.count]));
  for (const c of last.calls) {
    const delta = samples.length === 1 ? c.count : c.count - (before.get(key(c)) ?? 0);
    const name = `${c.door} · ${c.operation || '(none)'}`;
    const row = out.get(name) ?? { total: 0, success: 0, codes: new Map() };
    row.total += delta;
    if (c.outcome === 'success') row.success += delta;
    else if (delta > 0) row.codes.set(c.code, (row.codes.get(c.code) ?? 0) + delta);
    out.set(name, row);
  }
  return out;
}

export function Overview() {
  const overview = useRead('GET /admin/overview', {});
  const { data, error, reload } = overview;
  // Read again every 10 s while the page is open; each answer is one sample of the counters.
  useEffect(() => {
    const timer = setInterval(reload, 10_000);
    return () => clearInterval(timer);
  }, [reload]);
  useEffect(() => {
    if (!data?.calls) return;
    samples.push({ at: Date.now(), calls: data.calls });
    while (samples.length > 0 && (samples[0] as { at: number }).at < Date.now() - 2 * WINDOW_MS) samples.shift();
  }, [data]);
  const rows = recent();
  return (
    <section>
      <PageTitle>Overview</PageTitle>
      {error && <Alert kind="error">{error}</Alert>}
      {data && (
        <>
          <h2>Configuration</h2>
          <dl class="facts">
            <dt>Version</dt>
            <dd>
              <code>{data.version}</code> since {when(data.loadedAt)}
            </dd>
            <dt>Last reload error</dt>
            <dd>
              {data.lastReloadError ? (
                <>
                  <span class="bad">
                    {data.lastReloadError.count} issue(s) at {when(data.lastReloadError.at)}
                  </span>
                  <ul>
                    {(data.lastReloadError.issues ?? []).map((i) => (
                      <li>
                        <code>{i.file}</code> <code>{i.pointer || '/'}</code>: {i.message}
                      </li>
                    ))}
                  </ul>
                </>
              ) : (
                'none: the files on disk are what serves'
              )}
            </dd>
            <dt>Store</dt>
            <dd class={data.store === 'up' ? 'good' : 'bad'}>{data.store}</dd>
            <dt>LDAP</dt>
            <dd>
              {data.ldap.length === 0
                ? 'none configured'
                : data.ldap.map((l) => (
                    <span class={l.reachable ? 'good' : 'bad'}>
                      {l.id} ({l.url}): {l.reachable ? 'reachable' : 'unreachable'}{' '}
                    </span>
                  ))}
            </dd>
          </dl>
          <h2>Tenants</h2>
          <table>
            <caption class="sr-only">Tenants and the operations they may call</caption>
            <thead>
              <tr>
                <th scope="col">Tenant</th>
                <th scope="col">Name</th>
                <th scope="col">Operations</th>
              </tr>
            </thead>
            <tbody>
              {data.tenants.map((t) => (
                <tr>
                  <th scope="row">{t.id}</th>
                  <td>{t.displayName}</td>
                  <td>
                    {t.operations.map((o) => (
                      <a class="chip" href={`#/pipes/${encodeURIComponent(o)}`}>
                        {o}
                      </a>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Calls of {data.tenant}, last five minutes</h2>
          {data.calls === null ? (
            <p>Metrics are off on this server.</p>
          ) : (
            <table>
              <caption class="sr-only">Calls and refusals by code per operation</caption>
              <thead>
                <tr>
                  <th scope="col">Door · operation</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Succeeded</th>
                  <th scope="col">Refused or failed, by code</th>
                </tr>
              </thead>
              <tbody>
                {[...rows.entries()].map(([op, r]) => (
                  <tr>
                    <th scope="row">{op}</th>
                    <td>{r.total}</td>
                    <td>{r.success}</td>
                    <td>
                      {[...r.codes.entries()].map(([code, n]) => (
                        <span class="chip bad">
                          {code} × {n}
                        </span>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
