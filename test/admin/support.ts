import type { RunningServer } from '../support/server.js';
import { answerOf } from '../support/net.js';

export { adminToken, basic, editJson, readJson, TILL_PASSWORD } from '../access-groups/support.js';

/** A call to any admin path on the management listener, over real HTTP. */
export async function api(
  server: RunningServer,
  method: string,
  path: string,
  options: { token?: string; tenant?: string; body?: unknown; ifMatch?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...(options.tenant === '' ? {} : { tenant: options.tenant ?? 'demo' }), ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  return answerOf(await fetch(`${server.managementUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) }));
}
