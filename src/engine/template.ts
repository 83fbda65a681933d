import { hasProp } from './props.js';
import { SCOPE_ROOTS, type Scope } from './scope.js';

/**
 * `{{request.username}}`-style templates, compiled once at load into a list of literal
 * parts and lookups. Rendering is a concatenation: no parsing per request. A value that
 * is missing renders as the empty string, as json-logic's `var` does.
 */
export interface Template {
  readonly source: string;
  /** True when the template has no `{{…}}` and always renders the same text. */
  readonly isStatic: boolean;
  /** Every `{{root.key}}` it reads, in order (for the load-time pipe check). */
  readonly refs: readonly TemplateRef[];
  render(scope: Scope): string;
}

export class TemplateSyntaxError extends Error {}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)?$/;

type Part = string | readonly [root: keyof Scope, key: string | null];

type TemplateRef = readonly [root: keyof Scope, key: string | null];

export function compileTemplate(source: string): Template {
  const parts: Part[] = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    const path = (match[1] ?? '').trim();
    if (!PATH.test(path)) throw new TemplateSyntaxError(`"{{${match[1]}}}" is not a path like request.name`);
    const [root, key] = path.split('.') as [string, string | undefined];
    if (!SCOPE_ROOTS.has(root)) {
      throw new TemplateSyntaxError(`"{{${path}}}" starts with "${root}"; expected one of ${[...SCOPE_ROOTS].join(', ')}`);
    }
    if (match.index > last) parts.push(source.slice(last, match.index));
    parts.push([root as keyof Scope, key ?? null]);
    last = match.index + match[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  const rest = source.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) throw new TemplateSyntaxError(`unbalanced "{{" or "}}" in "${source}"`);

  const refs = parts.filter((p): p is TemplateRef => typeof p !== 'string');
  const isStatic = refs.length === 0;
  if (isStatic) return { source, isStatic, refs, render: () => source };
  if (parts.length === 1) {
    const only = parts[0] as Exclude<Part, string>;
    return { source, isStatic, refs, render: (scope) => lookup(scope, only) };
  }
  return {
    source,
    isStatic,
    refs,
    render(scope) {
      let out = '';
      for (const part of parts) out += typeof part === 'string' ? part : lookup(scope, part);
      return out;
    },
  };
}

/** The request property a template reads when it is exactly `{{request.x}}`: what a caller should fix when its value is refused. */
export function soleRequestProperty(source: string): string | undefined {
  return /^\{\{\s*request\.([A-Za-z0-9_-]+)\s*\}\}$/.exec(source)?.[1];
}

function lookup(scope: Scope, [root, key]: readonly [keyof Scope, string | null]): string {
  const base: unknown = scope[root];
  if (key === null) return typeof base === 'string' ? base : '';
  if (base === null || typeof base !== 'object' || !hasProp(base, key)) return '';
  const value = (base as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : '';
}
