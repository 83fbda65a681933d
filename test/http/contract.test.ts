import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigFixture } from '../support/fixture.js';
import { rawPut, rawRequest } from '../support/raw-http.js';
import { startServer, type RunningServer } from '../support/server.js';

/**
 * The HTTP contract (docs/contract.md), through a real listening server: every bad input a
 * hostile or clumsy caller can send is a coded 403 with the Failure body (errorTranslationKeys, erroneousProperties), and the
 * server keeps serving afterwards.
 */

let fixture: ConfigFixture;
let server: RunningServer;
let port: number;

const echo = {
  valves: [{ name: 'property-copy', config: { from: 'request', properties: ['username', 'client_ip'] } }],
  response: ['username', 'client_ip'],
};

beforeAll(async () => {
  fixture = ConfigFixture.minimal(
    [
      { id: 'demo', allowedOperation: ['echo', 'other'] },
      { id: 'acme', allowedOperation: ['echo'] },
    ],
    { echo, other: echo, hidden: echo },
  );
  server = await startServer({ configFile: fixture.mainFile });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

function expectRefusal(res: { status: number; body: any }, code: string, erroneousProperties?: string[]): void {
  expect(res.status).toBe(403);
  expect(res.body.status).toBe('Failure');
  expect(res.body.errorTranslationKeys).toEqual([code]);
  expect(typeof res.body.requestId).toBe('string');
  if (erroneousProperties) expect(res.body.erroneousProperties).toEqual(erroneousProperties);
}

async function send(method: string, path: string, headers: Record<string, string>, body?: string) {
  const res = await fetch(`${server.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const JSON_HEADERS = { tenant: 'demo', 'content-type': 'application/json' };

describe('a good call', () => {
  it('answers 200 with only the response properties, no-store and a request id', async () => {
    const res = await server.call('echo', { username: 'till-001', secret: 'not named in response' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ username: 'till-001', client_ip: '127.0.0.1' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts charset=utf-8 and answers {} when the pipe returns nothing present', async () => {
    const res = await send('PUT', '/api/authentication/echo', { tenant: 'demo', 'content-type': 'Application/JSON; charset=UTF-8' }, '{}');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ client_ip: '127.0.0.1' });
  });

  it('keeps a sane caller request id and replaces an insane one', async () => {
    const kept = await server.call('echo', { username: 'a' }, { 'x-request-id': 'pos-42.call:7' });
    expect(kept.headers.get('x-request-id')).toBe('pos-42.call:7');
    const replaced = await server.call('echo', { username: 'a' }, { 'x-request-id': 'bad id<script>' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('method', () => {
  it.each(['GET', 'POST', 'DELETE', 'PATCH'])('%s is refused with METHOD_NOT_ALLOWED', async (method) => {
    const res = await send(method, '/api/authentication/echo', JSON_HEADERS, method === 'GET' ? undefined : '{"username":"a"}');
    expectRefusal(res, 'METHOD_NOT_ALLOWED');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('tenant header', () => {
  it('missing', async () => {
    expectRefusal(await send('PUT', '/api/authentication/echo', { 'content-type': 'application/json' }, '{}'), 'UNKNOWN_TENANT');
  });
  it('unknown', async () => {
    expectRefusal(await server.call('echo', {}, { tenant: 'nobody' }), 'UNKNOWN_TENANT');
  });
  it('doubled, even with the same value', async () => {
    const res = await rawRequest(
      port,
      rawPut('/api/authentication/echo', ['tenant: demo', 'tenant: demo', 'Content-Type: application/json'], '{}'),
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).errorTranslationKeys).toEqual(['UNKNOWN_TENANT']);
  });
});

describe('operation', () => {
  it('not in the tenant allowedOperation', async () => {
    expectRefusal(await server.call('other', {}, { tenant: 'acme' }), 'OPERATION_NOT_ALLOWED');
  });
  it('a pipe no tenant is allowed to call', async () => {
    expectRefusal(await server.call('hidden', {}), 'OPERATION_NOT_ALLOWED');
  });
  it('an operation with no pipe', async () => {
    expectRefusal(await server.call('nosuchpipe', {}), 'OPERATION_NOT_ALLOWED');
  });
  it.each([
    ['dot-dot', '/api/authentication/..%2Fecho'],
    ['encoded slash', '/api/authentication/echo%2Fx'],
    ['nested path', '/api/authentication/echo/x'],
    ['empty', '/api/authentication/'],
    ['5,000 characters', `/api/authentication/${'a'.repeat(5000)}`],
  ])('%s', async (_label, path) => {
    const res = await rawRequest(port, rawPut(path, ['tenant: demo', 'Content-Type: application/json'], '{}'));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).errorTranslationKeys).toEqual(['OPERATION_NOT_ALLOWED']);
  });
  it.each(['/api/authentication/echo?x=1', '/api/authentication/echo?', '/api/authentication?x'])(
    'a query string is refused as INVALID_REQUEST: %s',
    async (path) => {
      const res = await rawRequest(port, rawPut(path, ['tenant: demo', 'Content-Type: application/json'], '{"username":"a"}'));
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).errorTranslationKeys).toEqual(['INVALID_REQUEST']);
      expect(res.headers).toMatch(/cache-control: no-store/i);
    },
  );
  it('a raw ../ path does not escape the API', async () => {
    const res = await rawRequest(
      port,
      rawPut('/api/authentication/../authentication/echo', ['tenant: demo', 'Content-Type: application/json'], '{}'),
    );
    expect([403, 404]).toContain(res.status);
    expect(res.status).not.toBe(200);
  });
});

describe('content type', () => {
  it.each([
    ['missing', undefined],
    ['text/plain', 'text/plain'],
    ['form', 'application/x-www-form-urlencoded'],
    ['json with another charset', 'application/json; charset=latin1'],
    ['json-ish', 'application/jsonp'],
  ])('%s', async (_label, type) => {
    const headers: Record<string, string> = { tenant: 'demo' };
    if (type) headers['content-type'] = type;
    expectRefusal(await send('PUT', '/api/authentication/echo', headers, '{"username":"a"}'), 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('body', () => {
  it.each([
    ['malformed JSON', '{"username":'],
    ['null', 'null'],
    ['an array', '["a"]'],
    ['a string', '"username"'],
    ['a number', '42'],
    ['empty', ''],
    ['trailing garbage', '{"username":"a"} x'],
  ])('%s is INVALID_REQUEST', async (_label, body) => {
    expectRefusal(await server.call('echo', body), 'INVALID_REQUEST');
  });

  it.each([
    ['a nested object', { username: { first: 'a' } }],
    ['an array value', { username: ['a'] }],
    ['a number', { username: 1 }],
    ['a boolean', { username: true }],
    ['null', { username: null }],
  ])('%s value names the property', async (_label, body) => {
    expectRefusal(await server.call('echo', body), 'INVALID_REQUEST', ['username']);
  });

  it('a duplicate key is refused, not resolved', async () => {
    expectRefusal(await server.call('echo', '{"username":"a","username":"b"}'), 'INVALID_REQUEST', ['username']);
  });

  it("the engine's own request names cannot be spoofed", async () => {
    expectRefusal(await server.call('echo', { client_ip: '10.9.9.9' }), 'INVALID_REQUEST', ['client_ip']);
  });

  it('a body over 16 KiB is PAYLOAD_TOO_LARGE', async () => {
    expectRefusal(await server.call('echo', { username: 'a'.repeat(17 * 1024) }), 'PAYLOAD_TOO_LARGE');
  });

  it('a streamed (chunked) body over the limit is refused too', async () => {
    const chunk = Buffer.from(`{"username":"${'a'.repeat(20 * 1024)}"}`);
    const head =
      'PUT /api/authentication/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\ntenant: demo\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const body = `${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n0\r\n\r\n`;
    const res = await rawRequest(port, head + body);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body.split('\r\n').find((l) => l.startsWith('{')) ?? res.body).errorTranslationKeys).toEqual([
      'PAYLOAD_TOO_LARGE',
    ]);
  });

  it('10,000 keys are refused', async () => {
    const body: Record<string, string> = {};
    for (let i = 0; i < 10_000; i += 1) body[`k${i}`] = '';
    const res = await server.call('echo', body);
    expect(res.status).toBe(403);
    expect(['INVALID_REQUEST', 'PAYLOAD_TOO_LARGE']).toContain(res.body.errorTranslationKeys[0]);
  });

  it('10,000 keys within the byte limit are refused as too many properties', async () => {
    const fixtureLarge = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo });
    const main = JSON.parse(
      JSON.stringify({
        http_configuration: [{ id: 'http', host: '127.0.0.1', port: 0, max_body_bytes: 1048576 }],
        modules: [
          {
            name: 'com.phenixidentity~phenix-api-authenticate',
            id: 'api',
            config: { http_configuration_ref: 'http', tenant: [{ id: 'demo', allowedOperation: ['echo'] }] },
          },
        ],
        pipes: '../pipes',
        log: { level: 'silent' },
      }),
    );
    fixtureLarge.writeMain(main);
    const big = await startServer({ configFile: fixtureLarge.mainFile });
    try {
      const body: Record<string, string> = {};
      for (let i = 0; i < 10_000; i += 1) body[`k${i}`] = '';
      expectRefusal(await big.call('echo', body), 'INVALID_REQUEST');
    } finally {
      await big.close();
      fixtureLarge.cleanup();
    }
  });

  it('5,000 levels of nesting are refused', async () => {
    expectRefusal(await server.call('echo', `{"username":${'['.repeat(5000)}${']'.repeat(5000)}}`), 'INVALID_REQUEST', ['username']);
    expectRefusal(await server.call('echo', `${'{"a":'.repeat(2700)}"x"${'}'.repeat(2700)}`), 'INVALID_REQUEST', ['a']);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('a %s key is refused and Object.prototype stays untouched', async (key) => {
    const res = await server.call('echo', `{"username":"a","${key}":{"polluted":"yes"}}`);
    expectRefusal(res, 'INVALID_REQUEST', [key]);
    const asString = await server.call('echo', `{"${key}":"x","polluted":"yes"}`);
    expectRefusal(asString, 'INVALID_REQUEST', [key]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  it('invalid UTF-8 is refused', async () => {
    const body = Buffer.concat([Buffer.from('{"username":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const res = await rawRequest(port, rawPut('/api/authentication/echo', ['tenant: demo', 'Content-Type: application/json'], body));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).errorTranslationKeys).toEqual(['INVALID_REQUEST']);
  });

  it('a leading byte-order mark is refused, not silently dropped', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"username":"x"}')]);
    const res = await rawRequest(port, rawPut('/api/authentication/echo', ['tenant: demo', 'Content-Type: application/json'], body));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).errorTranslationKeys).toEqual(['INVALID_REQUEST']);
  });

  it('HTTP the parser rejects still gets the coded 403 with the common headers', async () => {
    const res = await rawRequest(
      port,
      'PUT /api/authentication/echo HTTP/1.1\r\nHost: x\r\ntenant: demo\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
    );
    expect(res.status).toBe(403);
    expect(res.headers.toLowerCase()).toContain('cache-control: no-store');
    expect(res.headers.toLowerCase()).toMatch(/x-request-id: [0-9a-f-]{36}/);
    expect(JSON.parse(res.body).errorTranslationKeys).toEqual(['INVALID_REQUEST']);
  });

  it('an escaped lone surrogate is refused', async () => {
    expectRefusal(await server.call('echo', '{"username":"\\ud800"}'), 'INVALID_REQUEST');
  });

  it('escapes decode exactly as JSON', async () => {
    const res = await server.call('echo', '{"username":"a\\"b\\u00e9\\n"}');
    expect(res.status).toBe(200);
    expect(res.body.username).toBe('a"bé\n');
  });
});

describe('other paths', () => {
  it('answer plain 404s with the common headers', async () => {
    const res = await fetch(`${server.url}/api/other`, { method: 'PUT' });
    expect(res.status).toBe(404);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('after all of the above', () => {
  it('the server is still up and serving', async () => {
    const res = await server.call('echo', { username: 'still-here' });
    expect(res.status).toBe(200);
    expect(res.body.username).toBe('still-here');
  });
});

describe('connections', () => {
  it('a small refused call keeps the connection alive; an oversized one closes it', async () => {
    const small = await rawRequest(
      port,
      'PUT /api/authentication/echo HTTP/1.1\r\nHost: x\r\ntenant: nobody\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}PUT /api/authentication/echo HTTP/1.1\r\nHost: x\r\ntenant: demo\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{"username":"ok"}',
    );
    const answers = (small.headers + small.body).match(/HTTP\/1\.1 \d{3}/g);
    expect(answers).toEqual(['HTTP/1.1 403', 'HTTP/1.1 200']);
    const big = await rawRequest(
      port,
      `PUT /api/authentication/echo HTTP/1.1\r\nHost: x\r\ntenant: demo\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{"username":"`,
    );
    expect(big.status).toBe(403);
    expect(big.headers.toLowerCase()).toContain('connection: close');
  });
});
