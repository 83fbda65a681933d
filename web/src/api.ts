/**
 * The admin API, with the session's bearer token and tenant. Answers keep their status, body
 * and ETag. `api` is typed by the OpenAPI document (admin-api.ts, generated from it): the
 * route names the operation, its path parameters, body and answer, so no page spells a path
 * or a body type of its own.
 */
import type { AdminApi } from './admin-api';
import { forget, session } from './auth';

interface Answer {
  status: number;
  body: unknown;
  etag: string | null;
  /** A pipe's x-pipe-owner (shared or the tenant) and whether the signed-in admin may save it (x-pipe-editable). */
  pipe: { owner: string; editable: boolean } | null;
}

export interface Issue {
  file: string;
  pointer: string;
  message: string;
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; ifMatch?: string | null; signal?: AbortSignal } = {},
): Promise<Answer> {
  const s = session();
  if (!s) throw new Error('signed out');
  const headers: Record<string, string> = { authorization: `Bearer ${s.token}`, tenant: s.tenant };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  const res = await fetch(path, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await res.text();
  const body: unknown = text ? JSON.parse(text) : null;
  // The token was refused (expired, revoked): sign in again; the issuer's session is not this page's to end.
  if (res.status === 401) forget();
  const owner = res.headers.get('x-pipe-owner');
  const pipe = owner === null ? null : { owner, editable: res.headers.get('x-pipe-editable') === 'true' };
  return { status: res.status, body, etag: res.headers.get('etag'), pipe };
}

/** A GET whose answer is not one JSON document (the audit's JSON lines), as text. */
export async function fetchText(path: string): Promise<{ status: number; text: string }> {
  const s = session();
  if (!s) throw new Error('signed out');
  const res = await fetch(path, { headers: { authorization: `Bearer ${s.token}`, tenant: s.tenant } });
  if (res.status === 401) forget();
  return { status: res.status, text: await res.text() };
}

export async function settings(): Promise<import('./auth').Settings> {
  const res = await fetch('/console/settings.json');
  return (await res.json()) as import('./auth').Settings;
}

export type Route = keyof AdminApi;
type PathOf<R> = R extends `${string} ${infer P}` ? P : never;
type NamesIn<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | NamesIn<Rest> : never;
/** The path parameters of a route: `GET /admin/pools/{id}` takes `{ id }`. */
export type Params<R extends Route> = { [N in NamesIn<PathOf<R>>]: string };
export type Reply<R extends Route> = AdminApi[R]['answer'];
export type Body<R extends Route> = AdminApi[R]['body'];

/** A refusal's body, as every admin route sends it. */
export interface Failure {
  status: 'Failure';
  errorTranslationKeys: string[];
  erroneousProperties?: string[];
  message?: string;
  issues?: Issue[];
}

/** A typed answer: the operation's answer on success, the failure otherwise. */
export type Typed<T> =
  | { ok: true; status: number; body: T; etag: string | null; pipe: Answer['pipe'] }
  | { ok: false; status: number; body: Failure | null; etag: string | null; pipe: Answer['pipe'] };

export interface RequestOptions<R extends Route> {
  params: Params<R>;
  body?: Body<R>;
  ifMatch?: string | null;
  query?: Record<string, string>;
  signal?: AbortSignal;
}

/** One operation of the OpenAPI document, by its "METHOD path". */
export async function api<R extends Route>(route: R, options: RequestOptions<R>): Promise<Typed<Reply<R>>> {
  const [method, template] = route.split(' ') as [string, string];
  const params = options.params as Record<string, string>;
  let path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
  const query = new URLSearchParams(Object.entries(options.query ?? {}).filter(([, v]) => v !== ''));
  if ([...query].length > 0) path += `?${query}`;
  const answer = await call(method, path, {
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const ok = answer.status >= 200 && answer.status < 300;
  const { status, etag, pipe } = answer;
  return ok ? { ok, status, body: answer.body as Reply<R>, etag, pipe } : { ok, status, body: answer.body as Failure | null, etag, pipe };
}

/** A refusal of a typed answer in words. */
export function refusal(answer: { status: number; body: Failure | null }): string {
  const b = answer.body;
  return b?.message ?? b?.errorTranslationKeys?.join(', ') ?? `HTTP ${answer.status}`;
}
