import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { basic } from '../support/credentials.js';
import { ConfigFixture, DEMO_SECRETS } from '../support/fixture.js';
import type { RunningServer } from '../support/server.js';
import { answerOf } from '../support/net.js';

/** Demo secrets the tests here use most (the directory holds only their hashes). */
export const TILL_PASSWORD = DEMO_SECRETS['till-001'] as string;
export const ADMIN_SECRET = DEMO_SECRETS['admin-console'] as string;

export { basic };

export function readJson(fixture: ConfigFixture, relative: string): any {
  return JSON.parse(readFileSync(join(fixture.dir, relative), 'utf8'));
}

/** Edits a JSON file of the fixture in place. */
export function editJson(fixture: ConfigFixture, relative: string, edit: (value: any) => void): void {
  const value = readJson(fixture, relative);
  edit(value);
  fixture.write(relative, value);
}

/** Adds operations (not yet listed) to a tenant of the fixture's main file. */
/** Lists a demo subject (default the API client admin-console) as an operator: it may change shared pipes and every tenant. */
export function makeOperator(fixture: ConfigFixture, sub = 'admin-console', kind = 'client'): void {
  editJson(fixture, 'config/authpipe.json', (m) => m.management.operators.push({ tenant: 'demo', kind, sub }));
}

/**
 * Adds `demo-admin`, an API client in demo's Admin group (a tenant admin, not an operator)
 * with the secret of admin-console, and makes admin-console an operator: the two roles the
 * admin tests compare.
 */
export function addOperatorAndTenantAdmin(fixture: ConfigFixture): void {
  editJson(fixture, 'config/directory.json', (d) => {
    const adminHash = d.tenants.demo.clients.find((c: { client_id: string }) => c.client_id === 'admin-console').secret_hash;
    d.tenants.demo.clients.push({ client_id: 'demo-admin', secret_hash: adminHash, access_group: 'Admin' });
  });
  makeOperator(fixture);
}

export function allow(fixture: ConfigFixture, tenant: string, operations: string[]): void {
  editJson(fixture, 'config/authpipe.json', (main) => {
    const entry = main.modules[0].config.tenant.find((t: { id: string }) => t.id === tenant);
    for (const op of operations) if (!entry.allowedOperation.includes(op)) entry.allowedOperation.push(op);
  });
}

export interface AdminAnswer {
  status: number;
  body: any;
  headers: Headers;
}

/** A call to any admin path on the management listener, over real HTTP. */
export async function adminRequest(
  server: RunningServer,
  method: string,
  path: string,
  options: { token?: string; tenant?: string; body?: unknown; ifMatch?: string; headers?: Record<string, string> } = {},
): Promise<AdminAnswer> {
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

/** An access-groups admin API call (path below /admin/access-groups). */
export function adminCall(
  server: RunningServer,
  method: string,
  path: string,
  options: Parameters<typeof adminRequest>[3] = {},
): Promise<AdminAnswer> {
  return adminRequest(server, method, `/admin/access-groups${path}`, options);
}

/** A bearer token for the demo's admin-console client (group Admin), through client-login. */
export async function adminToken(
  server: RunningServer,
  tenant = 'demo',
  clientId = 'admin-console',
  secret = ADMIN_SECRET,
): Promise<string> {
  const res = await server.call('client-login', {}, { tenant, authorization: basic(clientId, secret) });
  if (res.status !== 200) throw new Error(`client-login answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}
