import type { Props } from './props.js';

/**
 * What templates and json-logic conditions can see. The roots are fixed here; the
 * template compiler refuses any other root at load time.
 */
export interface Scope {
  request: Readonly<Props>;
  item: Readonly<Props>;
  session: Readonly<Props>;
  tenant: { readonly id: string; readonly displayName: string };
  operation: string;
  /** The last refusal a valve with proceed_on_error swallowed, if any. */
  error: { readonly code: string; readonly valve: string } | null;
}

export const SCOPE_ROOTS: ReadonlySet<string> = new Set(['request', 'item', 'session', 'tenant', 'operation', 'error']);
