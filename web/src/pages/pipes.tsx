/**
 * Pipes: the list, and one pipe drawn top to bottom as its valves run. Each step shows its
 * valve, its exec_if / skip_if condition, whether a refusal lets the pipe go on
 * (proceed_on_error), and for pipe-call a link to the pipe it runs. Choosing a step shows
 * its config beside the valve's schema descriptions.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, refusal, type Reply } from '../api';
import { useRead } from '../hooks';
import { valveSchemas, type ValveSchemas } from '../valve-schemas';
import { Alert, Json, PageTitle } from '../ui';

/** A pipe file as GET /admin/pipes/{id} answers it. */
export type Pipe = Reply<'GET /admin/pipes/{id}'>;

export function PipeList() {
  const read = useRead('GET /admin/pipes', {});
  const pipes = read.data?.pipes;
  const error = read.error;
  return (
    <section>
      <PageTitle>Pipes</PageTitle>
      {error && <Alert kind="error">{error}</Alert>}
      {pipes && (
        <table>
          <caption class="sr-only">Every pipe</caption>
          <thead>
            <tr>
              <th scope="col">Pipe</th>
              <th scope="col">Valves</th>
              <th scope="col">Owner</th>
              <th scope="col">Tenants</th>
              <th scope="col">Calls</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {pipes.map((p) => (
              <tr>
                <th scope="row">
                  <a href={`#/pipes/${encodeURIComponent(p.id)}`}>{p.id}</a>
                </th>
                <td>{p.valves}</td>
                <td>{p.owner === 'shared' ? (p.editable ? 'shared' : 'shared (operator)') : p.owner}</td>
                <td>{p.usedBy.join(', ') || '—'}</td>
                <td>{p.calls.join(', ') || '—'}</td>
                <td>{p.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function condition(value: unknown): string {
  return JSON.stringify(value);
}

export function PipeView({ id }: { id: string }) {
  const [pipe, setPipe] = useState<Pipe | null>(null);
  const [editable, setEditable] = useState(false);
  const [cat, setCat] = useState<ValveSchemas | null>(null);
  const [chosen, setChosen] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    void api('GET /admin/pipes/{id}', { params: { id }, signal: controller.signal }).then(
      (res) => {
        if (controller.signal.aborted) return;
        if (!res.ok) return setError(refusal(res));
        setPipe(res.body);
        setEditable(res.pipe?.editable === true);
      },
      () => undefined,
    );
    void valveSchemas().then(
      (schemas) => !controller.signal.aborted && setCat(schemas),
      (e: Error) => setError(e.message),
    );
    return () => controller.abort();
  }, [id]);
  const step = chosen === null ? undefined : pipe?.valves[chosen];
  const valve = step && cat?.valves.find((v) => v.name === step.name);
  return (
    <section>
      <PageTitle>Pipe {id}</PageTitle>
      <p>
        {/* A shared pipe is the operator's: a tenant admin edits a copy of its own instead. */}
        <a class="button" href={`#/edit/${encodeURIComponent(id)}`}>
          {editable ? `Edit ${id}` : `Make your tenant's own ${id}`}
        </a>{' '}
        <a class="button" href={`#/try?operation=${encodeURIComponent(id)}`}>
          Try {id}
        </a>
      </p>
      {error && <Alert kind="error">{error}</Alert>}
      {pipe && (
        <div class="pipe-view">
          <div>
            {pipe.description && <p>{pipe.description}</p>}
            <ol class="diagram" aria-label={`Valves of ${id}, top to bottom`}>
              <li class="terminal">request</li>
              {pipe.valves.map((s, i) => (
                <li class={`step${s.enabled === false ? ' disabled' : ''}`} data-valve={s.name}>
                  <button type="button" aria-pressed={chosen === i} onClick={() => setChosen(i)}>
                    <span class="index">#{i}</span> <strong>{s.name}</strong>
                    {s.id && <span class="label"> ({s.id})</span>}
                    {s.enabled === false && <span class="chip">disabled</span>}
                  </button>
                  {s.exec_if !== undefined && (
                    <div class="cond">
                      runs only if <code>{condition(s.exec_if)}</code>
                    </div>
                  )}
                  {s.skip_if !== undefined && (
                    <div class="cond">
                      skipped if <code>{condition(s.skip_if)}</code>
                    </div>
                  )}
                  {s.proceed_on_error && <div class="branch">on refusal: goes on (error.code, error.valve set)</div>}
                  {s.name === 'pipe-call' && typeof s.config?.pipe === 'string' && (
                    <div class="link">
                      runs pipe <a href={`#/pipes/${encodeURIComponent(s.config.pipe)}`}>{s.config.pipe}</a>
                    </div>
                  )}
                </li>
              ))}
              <li class="terminal">answer: {(pipe.response ?? []).join(', ') || '{}'}</li>
            </ol>
          </div>
          <aside aria-live="polite" class="step-detail">
            {step ? (
              <>
                <h2>
                  #{chosen} {step.name}
                </h2>
                {valve && <p>{valve.summary}</p>}
                <h3>Config</h3>
                <Json value={step.config ?? {}} label={`Config of step ${chosen}`} />
                {valve?.configSchema.properties && (
                  <>
                    <h3>Settings of {step.name}</h3>
                    <dl class="schema">
                      {Object.entries(valve.configSchema.properties).map(([name, s]) => (
                        <>
                          <dt>
                            <code>{name}</code>
                            {s.default !== undefined && <span class="muted"> (default {JSON.stringify(s.default)})</span>}
                          </dt>
                          <dd>
                            {s.description ?? (s.enum ? `one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}` : String(s.type ?? ''))}
                          </dd>
                        </>
                      ))}
                    </dl>
                  </>
                )}
              </>
            ) : (
              <p>Choose a valve to see its config and what each setting means.</p>
            )}
          </aside>
        </div>
      )}
    </section>
  );
}
