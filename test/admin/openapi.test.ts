import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { mountAccessGroupsAdmin, type AdminApiOptions } from '../../src/access-groups/admin/router.js';
import { configAdminRoutes, type ConfigAdminOptions } from '../../src/admin/mount.js';
import { ACCESS_GROUP_DOCS, keyOf, ROUTE_DOCS } from '../../src/admin/openapi.js';
import { createRegistry } from '../../src/valves/index.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminToken, api } from './support.js';

/**
 * /admin/openapi.json against the real routes: every route the router has is described,
 * nothing else is, and each described operation, called on the running server, answers a
 * status the document lists (never "no such path" or "wrong method").
 */
let fixture: ConfigFixture;
let server: RunningServer;
let token: string;
beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  server = await startServer({ configFile: fixture.mainFile });
  token = await adminToken(server);
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const SAMPLE_IDS: [RegExp, string][] = [
  [/^\/admin\/access-groups\//, 'POS'],
  [/^\/admin\/tenants\//, 'demo'],
  [/^\/admin\/pipes\//, 'echo'],
  [/^\/admin\/directory\/tills\//, 'till-001'],
  [/^\/admin\/directory\/clients\//, 'pos-server-1'],
  [/^\/admin\/directory\/users\//, 'u-1001'],
];

describe('OpenAPI document', () => {
  it('describes exactly the routes the router serves', () => {
    const routes = configAdminRoutes({ registry: createRegistry() } as ConfigAdminOptions).map(keyOf).sort();
    expect(routes).toEqual(Object.keys(ROUTE_DOCS).sort());
  });

  it('describes exactly the access-groups routes their router serves', () => {
    const served = mountAccessGroupsAdmin(express(), {} as AdminApiOptions);
    expect([...served].sort()).toEqual(Object.keys(ACCESS_GROUP_DOCS).sort());
  });

  it('matches the running server, operation by operation', async () => {
    const doc = (await (await fetch(`${server.managementUrl}/admin/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown; parameters: { $ref?: string }[] }>> };
    expect(doc.openapi).toBe('3.1.0');
    const described = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(described.sort()).toEqual([...Object.keys(ROUTE_DOCS), ...Object.keys(ACCESS_GROUP_DOCS)].sort());
    for (const [template, ops] of Object.entries(doc.paths)) {
      const id = SAMPLE_IDS.find(([re]) => re.test(template))?.[1] ?? 'x';
      const path = template.replace(/\{id\}/g, id);
      for (const [method, op] of Object.entries(ops)) {
        const ifMatch = op.parameters.some((p) => p.$ref?.endsWith('/IfMatch'));
        // Bodies that no route accepts and stale ETags: every write is refused, nothing changes.
        const res = await api(server, method.toUpperCase(), path, { token, ...(op.requestBody ? { body: { '': 'nothing' } } : {}), ...(ifMatch ? { ifMatch: '"stale"' } : {}) });
        const what = `${method.toUpperCase()} ${path} -> ${res.status} ${JSON.stringify(res.body?.errorTranslationKeys ?? '')}`;
        expect([what, Object.keys(op.responses)]).toEqual([what, expect.arrayContaining([String(res.status)])]);
        expect([what, res.status === 405 || (res.status === 404 && /no such admin path/.test(res.body.message))]).toEqual([what, false]);
      }
    }
  });
});
