import type { Trace } from '../observe/trace.js';
import { TRACE_HEADER } from '../observe/trace-switch.js';

/**
 * `authpipe run --server URL`: the same call as an in-process dry run, but sent to a running
 * server, so the pipe sees the server's store (the transaction step 1 of a flow left, a
 * counter, a refresh family). With a trace token, the server's trace switch sends the trace
 * back in the x-authpipe-trace response header, masked as on the command line.
 */
export interface RemoteResult {
  status: number;
  body: unknown;
  headers: Readonly<Record<string, string>>;
  trace?: Trace;
}

const TIMEOUT_MS = 15_000;

export async function remoteRun(
  server: string,
  input: { operation: string; tenant: string; data: string; headers: Readonly<Record<string, readonly string[]>>; trace: boolean },
  traceToken: string | undefined,
): Promise<RemoteResult> {
  let url: URL;
  try {
    url = new URL(`api/authentication/${encodeURIComponent(input.operation)}`, server.endsWith('/') ? server : `${server}/`);
  } catch {
    throw new Error(`--server ${server} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  const headers = new Headers({ 'content-type': 'application/json', tenant: input.tenant });
  for (const [name, values] of Object.entries(input.headers)) for (const value of values) headers.append(name, value);
  if (input.trace) headers.set(TRACE_HEADER, traceToken ?? 'on');
  let res: Response;
  try {
    res = await fetch(url, { method: 'PUT', headers, body: input.data, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`no answer from ${url.origin}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`, {
      cause: err,
    });
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: shown as text
  }
  const answerHeaders: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== TRACE_HEADER) answerHeaders[name] = value;
  });
  const traced = res.headers.get(TRACE_HEADER);
  let trace: Trace | undefined;
  if (traced) {
    try {
      trace = JSON.parse(traced) as Trace;
    } catch {
      trace = undefined;
    }
  }
  return { status: res.status, body, headers: answerHeaders, ...(trace && Array.isArray(trace.steps) ? { trace } : {}) };
}
