import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KINDS, shownRecord } from '../../src/admin/directory-kinds.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminToken, api, editJson, makeOperator } from './support.js';

/**
 * No admin answer carries a password hash, a client secret's hash or a TOTP seed: every GET
 * route the OpenAPI document lists is called with the real ids of the demo, and the
 * answers of a create and an edit are looked at too. Records show has_password / has_secret.
 */
let fixture: ConfigFixture;
let server: RunningServer;
let token: string;
let totpSecrets: string[];

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  // The demo's API admin client as an operator: these walk shared pipes and every tenant.
  makeOperator(fixture);
  editJson(fixture, 'config/directory.json', (d) => {
    const bob = d.tenants.demo.users.find((u: { id: string }) => u.id === 'u-1002');
    bob.totp_secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  });
  server = await startServer({ configFile: fixture.mainFile });
  token = await adminToken(server);
  const secretsDir = join(fixture.dir, 'config/secrets');
  totpSecrets = [
    'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    ...readdirSync(secretsDir).map((n) => readFileSync(join(secretsDir, n), 'utf8').trim()),
  ];
  expect(totpSecrets.length).toBeGreaterThan(1);
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const PHC = /^\$(scrypt|argon2(id|i|d)?|2[aby]|pbkdf2[-\w]*)\$/;

/** Every string (values and keys) of a JSON answer. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  return out;
}

function expectClean(what: string, body: unknown): void {
  const found = strings(body).filter((s) => PHC.test(s) || totpSecrets.some((t) => s.includes(t)) || /_hash$|^totp_secret$/.test(s));
  expect([what, found]).toEqual([what, []]);
}

/** The ids a list answer holds: its one array's records, by their key. */
function idsOf(body: Record<string, unknown>): string[] {
  const list = Object.values(body).find(Array.isArray) as Record<string, unknown>[] | undefined;
  return (list ?? []).map((r) => String(r.id ?? r.username ?? r.client_id));
}

describe('no hash or TOTP secret in any admin answer', () => {
  it('walks every GET route of the OpenAPI document with the real ids of the demo', async () => {
    const doc = (await (await fetch(`${server.managementUrl}/admin/openapi.json`)).json()) as { paths: Record<string, object> };
    const gets = Object.entries(doc.paths)
      .filter(([, ops]) => 'get' in ops)
      .map(([path]) => path);
    let called = 0;
    for (const template of gets) {
      let paths = [template];
      if (template.includes('{id}')) {
        const list = await api(server, 'GET', template.replace(/\/\{id\}.*$/, ''), { token });
        const ids = template.startsWith('/admin/tenants/') ? ['demo', 'acme'] : idsOf(list.body);
        expect([template, ids.length > 0]).toEqual([template, true]);
        paths = ids.map((id) => template.replace('{id}', encodeURIComponent(id)));
      }
      for (const path of paths) {
        const res = await api(server, 'GET', path, { token });
        expect([path, res.status]).toEqual([path, 200]);
        expectClean(`GET ${path}`, res.body);
        called++;
      }
    }
    expect(called).toBeGreaterThan(30);
  });

  it('shows has_password / has_secret instead, in lists, records, and create and edit answers', async () => {
    const users = (await api(server, 'GET', '/admin/directory/users', { token })).body.users as Record<string, unknown>[];
    expect(users.find((u) => u.id === 'u-1001')).toMatchObject({ has_password: true });
    expect(users.find((u) => u.id === 'u-1003')).toMatchObject({ has_password: false });
    expect((await api(server, 'GET', '/admin/directory/tills/till-001', { token })).body).toMatchObject({ has_password: true });
    expect((await api(server, 'GET', '/admin/directory/clients/pos-server-1', { token })).body).toMatchObject({ has_secret: true });
    expect((await api(server, 'GET', '/admin/directory/clients/shop-web', { token })).body).toMatchObject({ has_secret: false });

    const created = await api(server, 'POST', '/admin/directory/tills', {
      token,
      body: { username: 'till-777', store: 'store-01', password: 'till-777-pass' },
    });
    expect([created.status, created.body.has_password]).toEqual([201, true]);
    expectClean('create', created.body);
    const edited = await api(server, 'PATCH', '/admin/directory/users/u-1002', {
      token,
      ifMatch: (await api(server, 'GET', '/admin/directory/users/u-1002', { token })).headers.get('etag') as string,
      body: { email: 'bob@example.org' },
    });
    expect([edited.status, edited.body.has_password]).toEqual([200, true]);
    expectClean('edit', edited.body);
    const password = await api(server, 'POST', '/admin/directory/tills/till-777/password', {
      token,
      ifMatch: created.headers.get('etag') as string,
      body: { password: 'till-777-pass-2' },
    });
    expect(password.status).toBe(200);
    expectClean('set password', password.body);
  });

  it('hides a hashed member the directory might grow, by its name, at any depth', () => {
    const hash = '$scrypt$ln=4,r=8,p=1$c2FsdA$aGFzaA';
    for (const kind of KINDS) {
      const shown = shownRecord(kind, {
        [kind.key]: 'x',
        pin_hash: hash,
        extra: { recovery_hash: hash, totp_secret: 'S' },
        totp_secret: 'S',
      });
      expect(shown).toEqual({ [kind.key]: 'x', extra: {}, [kind.credential.shown]: false });
    }
  });
});
