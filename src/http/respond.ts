import type { ServerResponse } from 'node:http';

/** Headers every answer carries, whatever the path or outcome. */
export function baseHeaders(res: ServerResponse, requestId: string): void {
  res.setHeader('x-request-id', requestId);
  res.setHeader('cache-control', 'no-store');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Readonly<Record<string, string>>): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  if (headers) for (const name of Object.keys(headers)) res.setHeader(name, headers[name] as string);
  res.setHeader('content-type', JSON_TYPE);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * A JSON answer with the base headers, `headers` and the body's type and length, all in one
 * writeHead: node validates and stores each setHeader on its own, and on the API's hot path
 * that was about as much as the rest of the answer. Headers set before (a trace header, a
 * connection: close) are kept; node merges them.
 */
export function answerJson(
  res: ServerResponse,
  status: number,
  requestId: string,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): void {
  const text = JSON.stringify(body);
  const list = ['x-request-id', requestId, 'cache-control', 'no-store'];
  if (headers) for (const name of Object.keys(headers)) list.push(name, headers[name] as string);
  list.push('content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(text)));
  res.writeHead(status, list);
  res.end(text);
}
