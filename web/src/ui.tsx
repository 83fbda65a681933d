/** Small shared pieces: status messages that screen readers announce, headings that take focus. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export function Alert({ kind, children }: { kind: 'error' | 'ok'; children: ComponentChildren }) {
  return (
    <div class={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

/** The page title; focused when the page opens, so keyboard and screen-reader users land on it. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre class="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function when(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '';
}

/** A search or filter form: its fields, and one submit button. */
export function SearchForm({ onSearch, button, children }: { onSearch: () => void; button: string; children: ComponentChildren }) {
  return (
    <form
      class="inline"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch();
      }}
    >
      {children}
      <button type="submit">{button}</button>
    </form>
  );
}
