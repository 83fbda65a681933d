/**
 * Calls on the console's Audit page: each PUT call's auth.* and token.* events are kept in the
 * store as the audit stream's own lines and read back as events with their time, subject,
 * door, code and request id (a refusal's subject is the user its Basic header named); batches
 * kept before calls were lines still read.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { StoredAudit } from '../../src/admin/audit-feed.js';
import { createAuditLog } from '../../src/observe/audit-log.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminToken, api, basic, makeOperator, TILL_PASSWORD } from './support.js';

interface AuditRow {
  time: string;
  event: string;
  subject?: string;
  operation?: string;
  door?: string;
  code?: string;
  requestId?: string;
  kind?: string;
}

describe('calls on the Audit page', () => {
  let fixture: ConfigFixture;
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    fixture = ConfigFixture.fromDemo();
    makeOperator(fixture);
    server = await startServer({ configFile: fixture.mainFile });
    token = await adminToken(server);
  });
  afterAll(async () => {
    await server?.close();
    fixture?.cleanup();
  });

  it('shows a success, its token and a refusal, each with its request id', async () => {
    const ok = await server.call('till-login', {}, { tenant: 'demo', authorization: basic('till-001', TILL_PASSWORD) });
    const refused = await server.call('till-login', {}, { tenant: 'demo', authorization: basic('till-001', 'not-the-password') });
    expect([ok.status, refused.status, refused.body.errorTranslationKeys]).toEqual([200, 403, ['INVALID_CREDENTIALS']]);

    const answer = await api(server, 'GET', '/admin/audit?door=put&subject=till-001&limit=1000', { token });
    expect(answer.status).toBe(200);
    const rows = answer.body.events as AuditRow[];
    const ofCall = (id: string | null) => rows.filter((r) => r.requestId === id).map((r) => r.event);
    expect(ofCall(ok.headers.get('x-request-id')).sort()).toEqual(['auth.success']);
    expect(ofCall(refused.headers.get('x-request-id'))).toEqual(['auth.failure']);
    const failure = rows.find((r) => r.requestId === refused.headers.get('x-request-id'));
    expect(failure).toEqual(expect.objectContaining({ operation: 'till-login', door: 'put', code: 'INVALID_CREDENTIALS', tenant: 'demo' }));
    expect(Date.parse(failure?.time ?? '')).toBeGreaterThan(Date.now() - 60_000);
    // token.issued has no door: it is the valve's event, found by its request id.
    const all = (await api(server, 'GET', '/admin/audit?event=token.issued&limit=1000', { token })).body.events as AuditRow[];
    expect(all.find((r) => r.requestId === ok.headers.get('x-request-id'))).toEqual(
      expect.objectContaining({ event: 'token.issued', subject: 'till-001', kind: 'system' }),
    );
    // Internal members of a stream line are not event fields.
    expect(Object.keys(failure ?? {})).not.toEqual(expect.arrayContaining(['level']));
    expect(Object.keys(failure ?? {})).not.toContain('service');
  });
});

describe('the calls kept in the store', () => {
  it('reads batches of lines and batches kept as entries alike, newest first', async () => {
    const store = new MemoryStore();
    const lines: string[] = [];
    const log = createAuditLog({ write: (line: string) => lines.push(line) } as never);
    const feed = new StoredAudit(log, store, { events: 1000, days: 30 }, silentLogger());
    try {
      const before = Date.now() - 1000;
      await store.listPush(
        'audit:calls',
        JSON.stringify([{ at: before, type: 'auth.failure', fields: { subject: 'old', code: 'INVALID_CREDENTIALS' } }]),
      );
      feed.event('auth.success', { subject: 'new', tenant: 'demo', door: 'put', requestId: 'r-1', password: 'never-kept' });
      const events = await feed.recent();
      expect(events.map((e) => [e.type, e.fields.subject])).toEqual([
        ['auth.success', 'new'],
        ['auth.failure', 'old'],
      ]);
      expect(events[0]?.fields).toEqual({ subject: 'new', tenant: 'demo', door: 'put', requestId: 'r-1' });
      expect(events[1]?.at).toBe(before);
      // The stream got the same line, once.
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] as string)).toEqual(expect.objectContaining({ event: 'auth.success', subject: 'new' }));
    } finally {
      await feed.close();
      await store.close();
    }
  });
});
