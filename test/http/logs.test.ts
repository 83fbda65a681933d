import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '../../src/logger.js';
import { ConfigFixture } from '../support/fixture.js';
import { outboundFor } from '../support/outbound.js';
import { startServer, type RunningServer } from '../support/server.js';

/** One JSON line per call with the fields admins filter on; secrets never appear. */
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
    done();
  },
});

let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = ConfigFixture.minimal(
    [{ id: 'demo', allowedOperation: ['login', 'broken'] }],
    {
      login: {
        valves: [
          { name: 'input-validate', config: { properties: { username: { required: true }, password: { required: true } } } },
          { name: 'property-copy', config: { properties: ['username'] } },
        ],
        response: ['username'],
      },
      broken: {
        valves: [
          { name: 'idp-lookup', config: { source: 'http', url: 'http://127.0.0.1:1/adapter', properties: { a: 'b' }, timeout_ms: 1000 } },
        ],
      },
    },
    { outbound: outboundFor('http://127.0.0.1:1/adapter') },
  );
  server = await startServer({ configFile: fixture.mainFile, logger: createLogger({ level: 'debug', destination: sink }) });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

describe('call logs', () => {
  it('logs one call line with request id, tenant, operation, pipe, outcome and ms, and a debug line per valve', async () => {
    const res = await server.call(
      'login',
      { username: 'till-001', password: 'hunter2-secret' },
      { authorization: 'Basic dGlsbDpzZWNyZXQ=' },
    );
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id');
    const mine = lines.filter((l) => l.requestId === requestId);
    const call = mine.find((l) => l.msg === 'call');
    expect(call).toMatchObject({ level: 'info', tenant: 'demo', operation: 'login', pipe: 'login', outcome: 'success' });
    expect(typeof call?.ms).toBe('number');
    expect(mine.filter((l) => l.msg === 'valve').map((l) => [l.valve, l.outcome])).toEqual([
      ['input-validate', 'ran'],
      ['property-copy', 'ran'],
    ]);
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain('hunter2-secret');
    expect(everything).not.toContain('dGlsbDpzZWNyZXQ=');
  });

  it('logs a refusal with its code and the valve that refused', async () => {
    const res = await server.call('login', { username: 'till-001' });
    const call = lines.find((l) => l.requestId === res.headers.get('x-request-id') && l.msg === 'call');
    expect(call).toMatchObject({ outcome: 'refused', code: 'INVALID_REQUEST', valve: '0:input-validate' });
  });

  it('a fault gets its call line too (outcome fault), besides the fault line with the stack: exactly one call line', async () => {
    const res = await server.call('broken', {});
    expect(res.status).toBe(500);
    const mine = lines.filter((l) => l.requestId === res.headers.get('x-request-id'));
    expect(mine.filter((l) => l.msg === 'call')).toEqual([
      expect.objectContaining({ outcome: 'fault', code: 'COMMUNICATION_ERROR', operation: 'broken', valve: '0:idp-lookup' }),
    ]);
    expect(mine.filter((l) => l.msg === 'fault')).toHaveLength(1);
  });

  it('a refusal before routing (a query string, too many headers) gets one call line', async () => {
    const res = await fetch(`${server.url}/api/authentication/login?x=1`, {
      method: 'PUT',
      headers: { tenant: 'demo', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    const mine = lines.filter((l) => l.requestId === res.headers.get('x-request-id'));
    expect(mine.filter((l) => l.msg === 'call')).toEqual([expect.objectContaining({ outcome: 'refused', code: 'INVALID_REQUEST' })]);
  });

  it('redacts secret fields wherever a log line carries them', () => {
    const captured: string[] = [];
    const logger = createLogger({
      destination: new Writable({
        write: (c: Buffer, _e, d) => {
          captured.push(c.toString());
          d();
        },
      }),
    });
    logger.info({ password: 'p1', nested: { client_secret: 's1', token: 't1' }, authorization: 'Basic x' }, 'x');
    const text = captured.join('');
    for (const secret of ['p1', 's1', 't1', 'Basic x']) expect(text).not.toContain(`"${secret}"`);
    expect(text).toContain('[redacted]');
  });
});
