import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { ConfigError } from '../../src/config-kit/issues.js';
import { callFields, subjectOf } from '../../src/engine/audit.js';
import { silentLogger } from '../../src/logger.js';
import { createAuditLog } from '../../src/observe/audit-log.js';
import { CapturedLines } from '../support/capture.js';
import { ConfigFixture } from '../support/fixture.js';
import { LOGIN_PIPES } from '../support/pipes.js';
import { startServer } from '../support/server.js';

const SECRET = 'p4ssw0rd-never-logged';
const TENANTS = [{ id: 'demo', allowedOperation: ['login', 'plain'] }];
// The trace pipe, plus what makes it an authentication: a valve that establishes `sub`.
const AUDIT_PIPES = {
  ...LOGIN_PIPES,
  login: {
    ...LOGIN_PIPES.login,
    valves: [{ name: 'property-set', config: { properties: { sub: '{{request.username}}' } } }, ...LOGIN_PIPES.login.valves],
  },
  plain: { valves: [{ name: 'property-copy', config: { properties: ['username'] } }], response: ['username'] },
};

describe('audit events', () => {
  it('records authentication success and failure with subject, tenant, operation, code and request id', async () => {
    const audit = new CapturedLines();
    const fixture = ConfigFixture.minimal(TENANTS, AUDIT_PIPES);
    const server = await startServer({ configFile: fixture.mainFile, auditStream: audit });
    try {
      // A 200 that establishes no subject is no authentication, whatever username it carries.
      expect((await server.call('plain', { username: 'claimed-only' })).status).toBe(200);
      const ok = await server.call('login', { username: 'till-001', password: SECRET });
      const refused = await server.call('login', { username: 'blocked', password: SECRET });
      const unknown = await server.call('login', { username: 'x', password: SECRET }, { tenant: 'nobody' });
      expect(audit.named('auth.success')).toHaveLength(1);
      const [success] = audit.named('auth.success');
      expect(success).toEqual({
        level: 'info',
        time: expect.any(Number),
        service: 'authpipe',
        log: 'audit',
        event: 'auth.success',
        subject: 'till-001',
        tenant: 'demo',
        operation: 'login',
        door: 'put',
        requestId: ok.headers.get('x-request-id'),
      });
      expect(audit.named('auth.failure')).toEqual([
        expect.objectContaining({
          subject: 'blocked',
          tenant: 'demo',
          operation: 'login',
          code: 'ACCESS_DENIED',
          door: 'put',
          requestId: refused.headers.get('x-request-id'),
        }),
        expect.objectContaining({ code: 'UNKNOWN_TENANT', requestId: unknown.headers.get('x-request-id') }),
      ]);
      expect(audit.named('auth.failure')[1]).not.toHaveProperty('tenant');
      expect(audit.text).not.toContain(SECRET);
    } finally {
      await server.close();
      fixture.cleanup();
    }
  });

  it('leaves out successes when audit.success is false', async () => {
    const audit = new CapturedLines();
    const fixture = ConfigFixture.minimal(TENANTS, AUDIT_PIPES, { audit: { success: false } });
    const server = await startServer({ configFile: fixture.mainFile, auditStream: audit });
    try {
      await server.call('login', { username: 'till-001' });
      await server.call('login', { username: 'blocked' });
      expect(audit.lines.map((l) => l.event)).toEqual(['auth.failure']);
    } finally {
      await server.close();
      fixture.cleanup();
    }
  });

  it('drops secret-named extra fields and unknown event types from helpers', () => {
    const audit = new CapturedLines();
    const log = createAuditLog(audit);
    const ctx = { requestId: 'r-1', tenant: { id: 'demo' }, operation: 'token' };
    log.event(
      'token.issued',
      callFields(ctx, {
        subject: 'app-7',
        kind: 'user',
        access_token: 'eyJ.secret',
        refresh_token: 'rt-secret',
        password: SECRET,
        otp: '123456',
        expiresIn: 1800,
      }),
    );
    log.event('no.such.event' as never, { subject: 'x' });
    expect(audit.lines).toEqual([
      expect.objectContaining({
        event: 'token.issued',
        subject: 'app-7',
        tenant: 'demo',
        operation: 'token',
        requestId: 'r-1',
        kind: 'user',
        expiresIn: 1800,
      }),
    ]);
    expect(audit.text).not.toMatch(/secret|123456|eyJ/);
  });

  it('keeps its own members against fields of the same name, cuts long values and writes any text as valid JSON', () => {
    const audit = new CapturedLines();
    const log = createAuditLog(audit);
    const awkward = 'quote " backslash \\ newline \n tab \t nul \u0000 line-sep \u2028 é 🙂';
    for (let i = 0; i < 2; i++) {
      // Twice: the second line is built from what the first one learnt about each name.
      log.event('auth.failure', {
        subject: awkward,
        level: 'error',
        time: 0,
        service: 'other',
        log: 'app',
        event: 'auth.success',
        detail: 'x'.repeat(300),
        attempts: 3,
        locked: true,
        skipped: undefined,
        client_secret: SECRET,
      });
    }
    expect(audit.lines).toHaveLength(2);
    for (const line of audit.lines) {
      expect(line).toEqual({
        level: 'info',
        time: expect.any(Number),
        service: 'authpipe',
        log: 'audit',
        event: 'auth.failure',
        subject: awkward,
        detail: 'x'.repeat(256),
        attempts: 3,
        locked: true,
      });
      expect(line.time).toBeGreaterThan(0);
    }
    expect(audit.text).not.toContain(SECRET);
  });

  it('takes the subject from the item once established, else from the claimed username or client id', () => {
    const props = (o: Record<string, string>) => Object.assign(Object.create(null), o) as Record<string, string>;
    expect(subjectOf({ items: [{ props: props({ sub: 'u-1' }) }], request: props({ username: 'alice' }) })).toBe('u-1');
    expect(subjectOf({ items: [{ props: props({}) }], request: props({ username: 'alice' }) })).toBe('alice');
    expect(subjectOf({ items: [{ props: props({}) }], request: props({ client_id: 'pos-1' }) })).toBe('pos-1');
    expect(subjectOf({ items: [], request: props({}) })).toBeUndefined();
  });

  it('writes to the configured file, relative to the main file', async () => {
    const fixture = ConfigFixture.minimal(TENANTS, AUDIT_PIPES, { audit: { destination: 'audit/events.log' } });
    const app = createApp({
      configFile: fixture.mainFile,
      logger: silentLogger(),
      env: { PORT: '0', HOST: '127.0.0.1', MANAGEMENT_PORT: '0' },
    });
    try {
      await app.listen();
      expect(app.reload('SIGHUP')).toMatchObject({ ok: true });
    } finally {
      await app.close();
    }
    const lines = readFileSync(join(fixture.dir, 'config', 'audit', 'events.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ log: 'audit', event: 'admin.config_reloaded', subject: 'SIGHUP', version: app.holder.current.version }),
    ]);
    fixture.cleanup();
  });

  it.each([
    ['under a file', 'authpipe.json/audit.jsonl'],
    // mkdir under /proc answers ENOENT with the parent there: node's recursive mkdir looped for ever on it.
    ['under /proc', '/proc/authpipe-nope/audit.jsonl'],
  ])('refuses to start, naming /audit/destination, when the file cannot be made (%s)', (_case, destination) => {
    const fixture = ConfigFixture.minimal(TENANTS, AUDIT_PIPES, { audit: { destination } });
    try {
      let thrown: unknown;
      try {
        createApp({ configFile: fixture.mainFile, logger: silentLogger(), env: { PORT: '0', HOST: '127.0.0.1', MANAGEMENT_PORT: '0' } });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).issues).toEqual([
        expect.objectContaining({ pointer: '/audit/destination', code: 'CONFIG_READ', file: expect.stringMatching(/authpipe\.json$/) }),
      ]);
    } finally {
      fixture.cleanup();
    }
  });
});
