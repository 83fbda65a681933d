/**
 * The hosted login's template language, a small subset of Mustache, compiled once when the
 * config loads (a page render only walks the compiled tree):
 * - `{{name}}` the value, HTML-escaped; `{{a.b}}` looks into an object;
 * - `{{{name}}}` the value unescaped: only for HTML we built and escaped ourselves (`content`);
 * - `{{#name}}…{{/name}}` repeated for each item of a list (the item's fields in scope), once
 *   for any other truthy value (an object's fields in scope); `{{^name}}…{{/name}}` when falsy
 *   or an empty list.
 * A name is looked up in the innermost scope first, then outwards. An operator's template that
 * does not parse is a config issue, never a broken page at request time.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'value'; name: string[]; raw: boolean }
  | { kind: 'section'; name: string[]; inverted: boolean; children: Node[] };

export type Scope = Readonly<Record<string, unknown>>;
export type Template = (view: Scope) => string;

/** Why a template does not compile, with the line it was found on. */
export class TemplateSyntaxError extends Error {}

const TAG = /\{\{(\{?)\s*([#^/]?)\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}?\}\}/g;

export function compileTemplate(source: string): Template {
  const root: Node[] = [];
  const open: { name: string; children: Node[]; line: number }[] = [];
  let children = root;
  let at = 0;
  const lineOf = (index: number) => source.slice(0, index).split('\n').length;
  for (const match of source.matchAll(TAG)) {
    const [tag, brace, sigil, name] = match as unknown as [string, string, string, string];
    if (match.index > at) children.push({ kind: 'text', text: source.slice(at, match.index) });
    at = match.index + tag.length;
    if ((brace === '{') !== tag.endsWith('}}}') || (brace === '{' && sigil !== ''))
      throw new TemplateSyntaxError(`line ${lineOf(match.index)}: "${tag}" is not a tag`);
    const path = name.split('.');
    if (sigil === '#' || sigil === '^') {
      const node: Node = { kind: 'section', name: path, inverted: sigil === '^', children: [] };
      children.push(node);
      open.push({ name, children, line: lineOf(match.index) });
      children = node.children;
    } else if (sigil === '/') {
      const top = open.pop();
      if (top?.name !== name) throw new TemplateSyntaxError(`line ${lineOf(match.index)}: {{/${name}}} closes no open {{#${name}}}`);
      children = top.children;
    } else children.push({ kind: 'value', name: path, raw: brace === '{' });
  }
  const unclosed = open.pop();
  if (unclosed) throw new TemplateSyntaxError(`line ${unclosed.line}: {{#${unclosed.name}}} is never closed`);
  if (at < source.length) root.push({ kind: 'text', text: source.slice(at) });
  if (/\{\{|\}\}/.test(source.replace(TAG, ''))) throw new TemplateSyntaxError('a "{{" or "}}" is not part of a tag');
  return (view) => renderNodes(root, [view]);
}

function lookup(scopes: readonly unknown[], path: readonly string[]): unknown {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const scope = scopes[i];
    if (scope === null || typeof scope !== 'object' || !Object.hasOwn(scope, path[0] as string)) continue;
    let value: unknown = scope;
    for (const part of path)
      value = value !== null && typeof value === 'object' && Object.hasOwn(value, part) ? (value as Scope)[part] : undefined;
    return value;
  }
  return undefined;
}

function renderNodes(nodes: readonly Node[], scopes: readonly unknown[]): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'value') {
      const value = lookup(scopes, node.name);
      const text = value === undefined || value === null || value === false ? '' : String(value);
      out += node.raw ? text : escapeHtml(text);
    } else {
      const value = lookup(scopes, node.name);
      const empty = !value || (Array.isArray(value) && value.length === 0);
      if (node.inverted) {
        if (empty) out += renderNodes(node.children, scopes);
      } else if (Array.isArray(value)) for (const item of value) out += renderNodes(node.children, [...scopes, item]);
      else if (!empty) out += renderNodes(node.children, typeof value === 'object' ? [...scopes, value] : scopes);
    }
  }
  return out;
}
