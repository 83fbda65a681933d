/**
 * One POST (or GET) from config to a destination the operator allowed: checked against the
 * policy before it starts and again when its name resolves (the socket connects to the
 * address checked). Bounded in time and in the answer's size; a redirect is an answer like
 * any other, never followed, so it cannot lead to a host nobody listed.
 */
import http from 'node:http';
import https from 'node:https';
import { OutboundRefused, type OutboundPolicy } from './policy.js';

export interface PostOptions {
  body: Buffer;
  headers: Record<string, string>;
  agent: http.Agent;
  policy: OutboundPolicy;
  /** Bound on the whole exchange, connecting included. */
  timeoutMs: number;
  /** A longer answer fails the call; `discard` reads and drops the answer (its content is not used). */
  maxBytes: number | 'discard';
}

export interface PostAnswer {
  status: number;
  body: Buffer;
}

/** A GET (a JWKS, a discovery document): as `post`, without a body. */
export function get(target: URL, options: Omit<PostOptions, 'body'>): Promise<PostAnswer> {
  return exchange('GET', target, { ...options, body: undefined });
}

export function post(target: URL, options: PostOptions): Promise<PostAnswer> {
  return exchange('POST', target, options);
}

function exchange(
  method: 'GET' | 'POST',
  target: URL,
  options: Omit<PostOptions, 'body'> & { body: Buffer | undefined },
): Promise<PostAnswer> {
  const refused = options.policy.refusal(target);
  if (refused !== undefined) return Promise.reject(new OutboundRefused(refused));
  const { body, headers, agent, timeoutMs, maxBytes } = options;
  return new Promise((resolvePost, rejectPost) => {
    let settled = false;
    const finish = (err: Error | null, value?: PostAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        rejectPost(err);
      } else {
        resolvePost(value as PostAnswer);
      }
    };
    const request = target.protocol === 'https:' ? https.request : http.request;
    const lookup = options.policy.lookup(target);
    const req = request(target, { method, headers, agent, lookup }, (res) => {
      const status = res.statusCode ?? 0;
      const declared = Number(res.headers['content-length']);
      if (maxBytes !== 'discard' && declared > maxBytes)
        return finish(new Error(`answer of ${declared} bytes is over the ${maxBytes}-byte cap`));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (maxBytes === 'discard') return;
        size += chunk.length;
        if (size > maxBytes) return finish(new Error(`answer is over the ${maxBytes}-byte cap`));
        chunks.push(chunk);
      });
      res.on('end', () => finish(null, { status, body: Buffer.concat(chunks) }));
      res.on('error', (err) => finish(err));
      res.on('close', () => finish(new Error('the connection closed before the answer was complete')));
    });
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => finish(err));
    if (body === undefined) req.end();
    else req.end(body);
  });
}
