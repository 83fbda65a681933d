/**
 * A `fetch` for libraries that take one (openid-client's `customFetch`): every request is
 * checked against the outbound policy before it starts and again when its name resolves, as
 * `post` does, bounded in time (connecting included) and in the answer's size. A redirect is
 * an answer like any other, never followed.
 */
import http from 'node:http';
import https from 'node:https';
import { OutboundRefused, type OutboundPolicy } from './policy.js';

export interface OutboundFetchOptions {
  policy: OutboundPolicy;
  /** Bound on each exchange, from the request to the answer's last byte. */
  timeoutMs: number;
  /** A longer answer fails the request. */
  maxBytes: number;
}

/** Thrown (as the cause of the library's error) when the upstream did not answer in time, or at all. */
export class OutboundUnavailable extends Error {
  readonly code = 'OUTBOUND_UNAVAILABLE';
}

type FetchInit = { method?: string; headers?: Record<string, string>; body?: unknown; signal?: AbortSignal | null };

export function outboundFetch(options: OutboundFetchOptions): (url: string, init?: FetchInit) => Promise<Response> {
  const { policy, timeoutMs, maxBytes } = options;
  return (url, init = {}) => {
    const target = new URL(url);
    const refused = policy.refusal(target);
    if (refused !== undefined) return Promise.reject(new OutboundRefused(refused));
    const body = bodyOf(init.body);
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | null, answer?: Response) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        init.signal?.removeEventListener('abort', onAbort);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(answer as Response);
      };
      const onAbort = () => finish(new OutboundUnavailable(`request to ${target.host} aborted`));
      const request = target.protocol === 'https:' ? https.request : http.request;
      const req = request(
        target,
        { method: init.method ?? 'GET', headers: init.headers ?? {}, lookup: policy.lookup(target), agent: false },
        (res) => {
          const declared = Number(res.headers['content-length']);
          if (declared > maxBytes) return finish(new OutboundUnavailable(`answer of ${declared} bytes is over the ${maxBytes}-byte cap`));
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) return finish(new OutboundUnavailable(`answer is over the ${maxBytes}-byte cap`));
            chunks.push(chunk);
          });
          res.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers))
              for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
            const status = res.statusCode ?? 0;
            const empty = status === 204 || status === 304;
            finish(null, new Response(empty ? null : Buffer.concat(chunks), { status, headers }));
          });
          res.on('error', (err) => finish(new OutboundUnavailable(err.message)));
          res.on('close', () => finish(new OutboundUnavailable('the connection closed before the answer was complete')));
        },
      );
      const timer = setTimeout(
        () => finish(new OutboundUnavailable(`no complete answer from ${target.host} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (init.signal?.aborted) return onAbort();
      init.signal?.addEventListener('abort', onAbort);
      req.on('error', (err) => finish(err instanceof OutboundRefused ? err : new OutboundUnavailable(err.message)));
      req.end(body);
    });
  };
}

function bodyOf(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('outbound fetch: unsupported body type');
}
