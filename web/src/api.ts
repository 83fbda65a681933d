/** The admin API, with the session's bearer token and tenant. Answers keep their status, body and ETag. */
import { forget, session } from './auth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- pages read the JSON bodies they asked for; `unknown` would need a cast at every read
export interface Answer<T = any> {
  status: number;
  body: T;
  etag: string | null;
  /** A pipe's x-pipe-owner (shared or the tenant) and whether the signed-in admin may save it (x-pipe-editable). */
  pipe: { owner: string; editable: boolean } | null;
}

export interface Issue {
  file: string;
  pointer: string;
  message: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as Answer's default
export async function call<T = any>(
  method: string,
  path: string,
  options: { body?: unknown; ifMatch?: string | null } = {},
): Promise<Answer<T>> {
  const s = session();
  if (!s) throw new Error('signed out');
  const headers: Record<string, string> = { authorization: `Bearer ${s.token}`, tenant: s.tenant };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  const res = await fetch(path, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  // The token was refused (expired, revoked): sign in again; the issuer's session is not this page's to end.
  if (res.status === 401) forget();
  const owner = res.headers.get('x-pipe-owner');
  const pipe = owner === null ? null : { owner, editable: res.headers.get('x-pipe-editable') === 'true' };
  return { status: res.status, body, etag: res.headers.get('etag'), pipe };
}

/** A refusal in words: the server's message, or its codes. */
export function problem(answer: Answer): string {
  const b = answer.body ?? {};
  return b.message ?? (b.errorTranslationKeys ?? []).join(', ') ?? `HTTP ${answer.status}`;
}

export async function settings(): Promise<import('./auth').Settings> {
  const res = await fetch('/console/settings.json');
  return (await res.json()) as import('./auth').Settings;
}
