/**
 * Editing a pipe: CodeMirror with the JSON language, completion from the valves' schemas
 * (pipe and step members, valve names, each valve's settings and their values), and lint:
 * syntax errors at once, and, a moment after typing stops, the issues the server finds when
 * it loads the whole config with this pipe (nothing is written). Save sends the pipe with
 * the ETag it was read with; a refused save lists the server's issues, each at its pointer.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, highlightActiveLine } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { json, jsonParseLinter } from '@codemirror/lang-json';
import { bracketMatching, syntaxHighlighting, defaultHighlightStyle } from '@codemirror/language';
import { linter, lintGutter, forceLinting, type Diagnostic } from '@codemirror/lint';
import { autocompletion, type CompletionContext, type CompletionResult, type Completion } from '@codemirror/autocomplete';
import { api, refusal, type Issue } from '../api';
import type { Pipe } from './pipes';
import { valveSchemas, type ValveSchemas, type JsonSchema } from '../valve-schemas';
import { enclosingObject, memberString, pathAt, rangeOf } from '../json-tree';
import { editorNonce } from '../nonce';
import { Alert, PageTitle } from '../ui';

function schemaCompletions(props: Record<string, JsonSchema>, quoted: boolean): Completion[] {
  return Object.entries(props)
    .filter(([name]) => name !== '$schema')
    .map(([name, s]) => ({
      label: quoted ? JSON.stringify(name) : name,
      apply: quoted ? JSON.stringify(name) : name,
      type: 'property',
      ...(s.description ? { info: s.description } : {}),
    }));
}

function completer(cat: ValveSchemas) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const { path, node } = pathAt(ctx.state, ctx.pos);
    const word = ctx.matchBefore(/"?[\w$-]*"?/);
    const from = word ? word.from : ctx.pos;
    const isKey = node.name === 'PropertyName' || node.name === 'Object' || node.name === '{';
    const inValue = node.name === 'String' && node.parent?.name === 'Property';
    // The step a cursor inside valves[i] belongs to, and its valve.
    const stepObject = () => {
      let n = enclosingObject(node);
      while (n && pathAt(ctx.state, n.from + 1).path.length > 2) n = enclosingObject(n.parent as typeof n);
      return n;
    };
    if (inValue && path.length === 3 && path[0] === 'valves' && path[2] === 'name') {
      return { from, options: cat.valves.map((v) => ({ label: JSON.stringify(v.name), type: 'enum', info: v.summary })) };
    }
    if (inValue && path.length === 4 && path[0] === 'valves' && path[2] === 'config') {
      const valveName = stepObject() && memberString(ctx.state, stepObject()!, 'name');
      const prop = cat.valves.find((v) => v.name === valveName)?.configSchema.properties?.[String(path[3])];
      if (prop?.enum) return { from, options: prop.enum.map((e) => ({ label: JSON.stringify(e), type: 'enum' })) };
      return null;
    }
    if (!isKey && !ctx.explicit) return null;
    if (path.length === 0) return { from, options: schemaCompletions(cat.pipe, true) };
    if (path.length === 2 && path[0] === 'valves') return { from, options: schemaCompletions(cat.step, true) };
    if (path.length === 3 && path[0] === 'valves' && path[2] === 'config') {
      const obj = stepObject();
      const valveName = obj ? memberString(ctx.state, obj, 'name') : undefined;
      const props = cat.valves.find((v) => v.name === valveName)?.configSchema.properties;
      return props ? { from, options: schemaCompletions(props, true) } : null;
    }
    return null;
  };
}

function diagnosticsOf(state: EditorState, issues: readonly Issue[], file: RegExp): Diagnostic[] {
  return issues
    .filter((i) => file.test(i.file))
    .map((i) => ({
      ...rangeOf(state, i.pointer),
      severity: 'error' as const,
      message: `${i.pointer || '/'}: ${i.message}`,
      source: 'authpipe',
    }));
}

export function PipeEditor({ id }: { id: string }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const etag = useRef<string | null>(null);
  const serverIssues = useRef<Issue[]>([]);
  const [issues, setIssues] = useState<Issue[]>([]);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  /** False while a tenant admin looks at a shared pipe: Save then creates the tenant's own pipe of this id. */
  const [editable, setEditable] = useState(true);
  const file = new RegExp(`(^|/)${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.json$`);

  useEffect(() => {
    let destroyed = false;
    void (async () => {
      const [res, cat] = await Promise.all([api('GET /admin/pipes/{id}', { params: { id } }), valveSchemas()]);
      if (destroyed || !host.current) return;
      if (!res.ok) return setMessage({ kind: 'error', text: refusal(res) });
      etag.current = res.etag;
      setEditable(res.pipe?.editable !== false);
      const serverLint = linter(
        async (v) => {
          let parsed: Pipe;
          try {
            // The server checks what the text holds; its issues say where it is not a pipe.
            parsed = JSON.parse(v.state.doc.toString()) as Pipe;
          } catch {
            return [];
          }
          const check = await api('POST /admin/pipes/{id}/validate', { params: { id }, body: parsed });
          serverIssues.current = check.ok ? check.body.issues : [];
          setIssues(serverIssues.current);
          return diagnosticsOf(v.state, serverIssues.current, file);
        },
        { delay: 600 },
      );
      view.current = new EditorView({
        parent: host.current,
        state: EditorState.create({
          doc: JSON.stringify(res.body, null, 2),
          extensions: [
            editorNonce(),
            lineNumbers(),
            history(),
            highlightActiveLine(),
            bracketMatching(),
            syntaxHighlighting(defaultHighlightStyle),
            json(),
            linter(jsonParseLinter()),
            serverLint,
            lintGutter(),
            autocompletion({ override: [completer(cat)] }),
            keymap.of([indentWithTab, ...defaultKeymap, ...historyKeymap]),
            EditorView.contentAttributes.of({ 'aria-label': `Pipe ${id} as JSON`, 'aria-describedby': 'editor-help' }),
          ],
        }),
      });
      // The scroll area is reachable by keyboard too (scrolling a long pipe without editing it).
      view.current.scrollDOM.tabIndex = 0;
      view.current.scrollDOM.setAttribute('aria-label', `Scroll area of the ${id} editor`);
    })();
    return () => {
      destroyed = true;
      view.current?.destroy();
    };
  }, [id]);

  const goTo = (pointer: string) => {
    const v = view.current;
    if (!v) return;
    const { from } = rangeOf(v.state, pointer);
    v.dispatch({ selection: { anchor: from }, scrollIntoView: true });
    v.focus();
  };

  const save = async () => {
    const v = view.current;
    if (!v) return;
    let parsed: Pipe;
    try {
      parsed = JSON.parse(v.state.doc.toString()) as Pipe;
    } catch (err) {
      return setMessage({ kind: 'error', text: `Not valid JSON: ${(err as Error).message}` });
    }
    setSaving(true);
    const res = editable
      ? await api('PUT /admin/pipes/{id}', { params: { id }, body: parsed, ifMatch: etag.current })
      : await api('POST /admin/pipes', { params: {}, query: { owner: 'tenant' }, body: parsed });
    setSaving(false);
    if (res.ok) {
      etag.current = res.etag;
      setEditable(true);
      serverIssues.current = [];
      setIssues([]);
      setMessage({ kind: 'ok', text: `Saved. ${id} serves the new version now.` });
    } else {
      const list: Issue[] = res.body?.issues ?? [];
      serverIssues.current = list;
      setIssues(list);
      setMessage({
        kind: 'error',
        text:
          res.status === 412
            ? 'Someone saved this pipe since you opened it. Reload it and reapply your change.'
            : `Not saved: ${refusal(res)}`,
      });
    }
    forceLinting(v);
  };

  return (
    <section>
      <PageTitle>Edit pipe {id}</PageTitle>
      <p id="editor-help" class="muted">
        Ctrl-Space completes valve names and settings. Problems are underlined as the server would report them; Tab indents (Escape, then
        Tab, leaves the editor).
      </p>
      <p>
        <button type="button" class="primary" onClick={save} disabled={saving}>
          {saving ? 'Saving…' : editable ? 'Save' : "Save as your tenant's own pipe"}
        </button>{' '}
        <a class="button" href={`#/pipes/${encodeURIComponent(id)}`}>
          Back to the diagram
        </a>{' '}
        <a class="button" href={`#/try?operation=${encodeURIComponent(id)}`}>
          Try it
        </a>
      </p>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {issues.length > 0 && (
        <div class="issues">
          <h2>Issues ({issues.length})</h2>
          <ul>
            {issues.map((i) => (
              <li>
                <code>{i.file}</code>{' '}
                {file.test(i.file) ? (
                  <button type="button" class="link" onClick={() => goTo(i.pointer)}>
                    <code>{i.pointer || '/'}</code>
                  </button>
                ) : (
                  <code>{i.pointer || '/'}</code>
                )}
                : <span class="issue-message">{i.message}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      <div class="editor" ref={host} />
    </section>
  );
}
