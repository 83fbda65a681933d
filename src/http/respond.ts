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
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
