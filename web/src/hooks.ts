/**
 * Data loading for the pages: `useRead` reads one admin operation whenever its route, path
 * parameters or query change, and keeps the answer with its ETag: the version the user sees,
 * which the page's next write names in If-Match (never one read again just before the write).
 * A read that is overtaken (the user moved to another tab or record, or asked again) is
 * aborted, and its answer, should it still come, is dropped: a late answer never replaces a
 * newer one.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, refusal, type Params, type Reply, type Route, type Typed } from './api';

export interface Read<R extends Route> {
  data: Reply<R> | null;
  etag: string | null;
  error: string | null;
  loading: boolean;
  /** Reads again (after a change made elsewhere). */
  reload: () => void;
  /** Shows a write's answer as the page's data, with its ETag as the next write's If-Match. */
  take: (answer: Typed<Reply<R>>) => void;
}

export function useRead<R extends Route>(route: R, params: Params<R>, query?: Record<string, string>): Read<R> {
  const [state, setState] = useState<{ data: Reply<R> | null; etag: string | null; error: string | null; loading: boolean }>({
    data: null,
    etag: null,
    error: null,
    loading: true,
  });
  const [round, setRound] = useState(0);
  const key = JSON.stringify([route, params, query ?? {}]);
  // The newest read's number: a write's answer taken meanwhile makes any older read's answer stale too.
  const latest = useRef(0);
  useEffect(() => {
    const controller = new AbortController();
    const mine = ++latest.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    api(route, { params, ...(query ? { query } : {}), signal: controller.signal }).then(
      (answer) => {
        if (controller.signal.aborted || mine !== latest.current) return;
        setState(
          answer.ok
            ? { data: answer.body, etag: answer.etag, error: null, loading: false }
            : { data: null, etag: null, error: refusal(answer), loading: false },
        );
      },
      (err: Error) => {
        if (!controller.signal.aborted && mine === latest.current) setState({ data: null, etag: null, error: err.message, loading: false });
      },
    );
    return () => controller.abort();
    // `key` stands for route, params and query (objects new on every render).
  }, [key, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  const take = useCallback((answer: Typed<Reply<R>>) => {
    if (!answer.ok) return;
    latest.current++;
    setState({ data: answer.body, etag: answer.etag, error: null, loading: false });
  }, []);
  return { ...state, reload, take };
}

/**
 * A form's value: `saved` (what the page read, or a write's answer) until the user edits it,
 * then the edit; `discard` goes back to `saved` (after a write the server took). Derived on each
 * render, not copied into state by an effect: an effect runs after the form is first shown,
 * and would overwrite an edit made in that moment.
 */
export function useEdited<T>(saved: T): [value: T, edit: (next: T) => void, discard: () => void] {
  const [edited, setEdited] = useState<{ value: T } | undefined>(undefined);
  return [edited ? edited.value : saved, (next) => setEdited({ value: next }), () => setEdited(undefined)];
}
