import type { ServerResponse } from 'node:http';
import { jsonObject } from '../engine/json-text.js';

/** Headers every answer carries, whatever the path or outcome. */
export function baseHeaders(res: ServerResponse, requestId: string): void {
  res.setHeader('x-request-id', requestId);
  res.setHeader('cache-control', 'no-store');
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * A JSON answer: `leading` headers, then `headers`, then the body's type and length, all in
 * one writeHead. Node validates and stores each setHeader on its own, and on the API's hot
 * path that was about as much as the rest of the answer. Headers set before (the base
 * headers of an express route, a trace header, a connection: close) are kept; node merges
 * them.
 */
function writeJson(
  res: ServerResponse,
  status: number,
  leading: string[],
  text: string,
  headers: Readonly<Record<string, string>> | undefined,
): void {
  if (headers) for (const name of Object.keys(headers)) leading.push(name, headers[name] as string);
  leading.push('content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(text)));
  res.writeHead(status, leading);
  res.end(text);
}

/** A JSON answer on a response that already has its base headers (baseHeaders). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Readonly<Record<string, string>>): void {
  writeJson(res, status, [], JSON.stringify(body), headers);
}

/** A JSON answer with the base headers written along with it (the API's hot path). */
export function answerJson(
  res: ServerResponse,
  status: number,
  requestId: string,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): void {
  writeJson(res, status, baseHeaderList(requestId), JSON.stringify(body), headers);
}

/** answerJson of a 200 whose body is a flat string map (the authentication API's), encoded member by member (engine/json-text.ts). */
export function answerFlat(
  res: ServerResponse,
  requestId: string,
  body: Readonly<Record<string, string>>,
  headers?: Readonly<Record<string, string>>,
): void {
  writeJson(res, 200, baseHeaderList(requestId), jsonObject(body), headers);
}

/** baseHeaders as writeHead's list, for an answer that writes them along with its own. */
function baseHeaderList(requestId: string): string[] {
  return ['x-request-id', requestId, 'cache-control', 'no-store'];
}
