/**
 * User pools of the signed-in tenant: the list, a new pool, and one pool's sign-in steps as an
 * ordered list, each naming the pipe that completes it (and one run when it opens), with its
 * form's fields. A save replaces the pool, naming the version the page read (If-Match); the
 * server loads the whole config with it first, so a step naming a pipe the tenant cannot call
 * is refused with the issue at its pointer. The pool's branding is saved with it; an issue
 * about one of its fields (an off-site logo) is shown under that field too. Members the page does not edit (titles, skip_if) are
 * kept as they were.
 */
import { useState } from 'preact/hooks';
import { api, refusal, type Body, type Failure } from '../api';
import { BrandingFields, brandingToSave, fieldIssues, type Branding, type FieldIssue } from '../branding';
import { useEdited, useRead } from '../hooks';
import { Alert, PageTitle } from '../ui';

type Pool = Body<'PUT /admin/pools/{id}'>;
type Step = Pool['steps'][number];
type Message = { kind: 'ok' | 'error'; text: string; issues?: string[] } | null;

/** The operations a step may name: the pipes the tenant runs. */
function usePipeIds(): string[] {
  return (useRead('GET /admin/pipes', {}).data?.pipes ?? []).map((p) => p.id);
}

function issuesOf(body: Failure | null): string[] {
  return (body?.issues ?? []).map((i) => `${i.pointer}: ${i.message}`);
}

function Messages({ message }: { message: Message }) {
  if (!message) return null;
  return (
    <Alert kind={message.kind}>
      {message.text}
      {message.issues && message.issues.length > 0 && (
        <ul class="issues">
          {message.issues.map((i) => (
            <li>{i}</li>
          ))}
        </ul>
      )}
    </Alert>
  );
}

export function PoolsPage() {
  const pools = useRead('GET /admin/pools', {});
  const pipes = usePipeIds();
  const [id, setId] = useState('');
  const [operation, setOperation] = useState('');
  const [message, setMessage] = useState<Message>(null);
  return (
    <section>
      <PageTitle>User pools</PageTitle>
      <Messages message={message} />
      {pools.error && <Alert kind="error">{pools.error}</Alert>}
      {pools.data && (
        <ul>
          {pools.data.pools.map((p) => (
            <li>
              <a href={`#/pools/${encodeURIComponent(p.id)}`}>{p.id}</a>: {p.steps.map((s) => s.operation).join(' → ')}
            </li>
          ))}
        </ul>
      )}
      <h2>New pool</h2>
      <form
        class="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          const body = { id, steps: [{ operation: operation || (pipes[0] ?? ''), fields: [{ name: 'username' }, { name: 'password' }] }] };
          const answer = await api('POST /admin/pools', { params: {}, body });
          if (answer.ok) location.hash = `#/pools/${encodeURIComponent(id)}`;
          else setMessage({ kind: 'error', text: refusal(answer), issues: issuesOf(answer.body) });
        }}
      >
        <label for="pool-id">Pool id (lower case)</label>
        <input id="pool-id" required value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} />
        <label for="pool-first">First step's pipe (a username and password form)</label>
        <select id="pool-first" value={operation} onChange={(e) => setOperation((e.target as HTMLSelectElement).value)}>
          {pipes.map((p) => (
            <option value={p}>{p}</option>
          ))}
        </select>
        <button type="submit" class="primary">
          Create pool
        </button>
      </form>
    </section>
  );
}

export function PoolEditor({ id }: { id: string }) {
  const read = useRead('GET /admin/pools/{id}', { id });
  const pipes = usePipeIds();
  // The tenant's branding, which the pool's empty fields inherit (shown as their placeholders).
  const tenantBranding = useRead('GET /admin/branding', {}).data ?? undefined;
  const [steps, setSteps, discardSteps] = useEdited<Step[]>(read.data?.steps ?? []);
  const [branding, setBranding, discardBranding] = useEdited<Branding>(read.data?.branding ?? {});
  const [message, setMessage] = useState<Message>(null);
  const [problems, setProblems] = useState<FieldIssue[]>([]);
  const change = (index: number, next: Partial<Step>) => setSteps(steps.map((s, i) => (i === index ? ({ ...s, ...next } as Step) : s)));
  const move = (index: number, by: number) => {
    const next = [...steps];
    const [step] = next.splice(index, 1);
    next.splice(index + by, 0, step as Step);
    setSteps(next);
  };
  return (
    <section>
      <PageTitle>Pool {id}</PageTitle>
      <p>
        <a href="#/pools">All pools</a>
      </p>
      <Messages message={message} />
      {read.error && <Alert kind="error">{read.error}</Alert>}
      {read.data && (
        <form
          class="stack"
          onSubmit={async (e) => {
            e.preventDefault();
            const { id: _id, branding: _branding, ...pool } = read.data as Pool & { id: string };
            const brand = brandingToSave(branding);
            const answer = await api('PUT /admin/pools/{id}', {
              params: { id },
              ifMatch: read.etag,
              body: { ...pool, steps, ...(brand ? { branding: brand } : {}) },
            });
            read.take(answer);
            if (answer.ok) {
              // Saved: the form shows what the server now holds.
              discardSteps();
              discardBranding();
            }
            setProblems(answer.ok ? [] : fieldIssues(answer.body));
            setMessage(
              answer.ok
                ? { kind: 'ok', text: `Pool ${id} saved.` }
                : { kind: 'error', text: refusal(answer), issues: issuesOf(answer.body) },
            );
          }}
        >
          <h2>Steps, in order</h2>
          <ol class="steps">
            {steps.map((step, index) => (
              <li data-operation={step.operation}>
                <label for={`step-${index}-operation`}>Step {index + 1}: pipe</label>
                <select
                  id={`step-${index}-operation`}
                  value={step.operation}
                  onChange={(e) => change(index, { operation: (e.target as HTMLSelectElement).value })}
                >
                  {[...new Set([step.operation, ...pipes])].map((p) => (
                    <option value={p}>{p}</option>
                  ))}
                </select>
                <label for={`step-${index}-start`}>Step {index + 1}: pipe run when it opens (optional)</label>
                <select
                  id={`step-${index}-start`}
                  value={step.start ?? ''}
                  onChange={(e) => {
                    const start = (e.target as HTMLSelectElement).value;
                    const { start: _old, ...rest } = step;
                    setSteps(steps.map((s, i) => (i === index ? ((start ? { ...rest, start } : rest) as Step) : s)));
                  }}
                >
                  <option value="">(none)</option>
                  {pipes.map((p) => (
                    <option value={p}>{p}</option>
                  ))}
                </select>
                <label for={`step-${index}-fields`}>Step {index + 1}: form fields (names, comma separated)</label>
                <input
                  id={`step-${index}-fields`}
                  value={(step.fields ?? []).map((f) => f.name).join(', ')}
                  onChange={(e) => {
                    const names = (e.target as HTMLInputElement).value
                      .split(',')
                      .map((n) => n.trim())
                      .filter(Boolean);
                    const before = new Map((step.fields ?? []).map((f) => [f.name, f]));
                    change(index, { fields: names.map((name) => before.get(name) ?? { name }) });
                  }}
                />
                <span class="actions">
                  <button type="button" disabled={index === 0} onClick={() => move(index, -1)}>
                    Move step {index + 1} up
                  </button>
                  <button type="button" disabled={index === steps.length - 1} onClick={() => move(index, 1)}>
                    Move step {index + 1} down
                  </button>
                  <button type="button" disabled={steps.length === 1} onClick={() => setSteps(steps.filter((_, i) => i !== index))}>
                    Remove step {index + 1}
                  </button>
                </span>
              </li>
            ))}
          </ol>
          <p>
            <button type="button" onClick={() => setSteps([...steps, { operation: pipes[0] ?? '', fields: [{ name: 'otp' }] } as Step])}>
              Add a step
            </button>
          </p>
          <h2>Branding</h2>
          <p class="muted">How this pool's hosted login looks; a field left empty takes the tenant's branding, else the default look.</p>
          <BrandingFields
            id="pool-branding"
            root="/branding"
            value={branding}
            issues={problems}
            inherited={tenantBranding}
            onChange={setBranding}
          />
          <button type="submit" class="primary">
            Save pool {id}
          </button>
        </form>
      )}
    </section>
  );
}
