import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { outboundFor } from '../support/outbound.js';
import { closedPort } from '../support/tcp-proxy.js';
import { makeCertificate, type TestCertificate } from '../support/tls.js';

/**
 * idp-lookup with source "http" (a synchronous AuthenticationResponse adapter), end to end: real HTTP into
 * authpipe, and a real node:http(s) adapter started here that answers per path, well or badly.
 */
const TIMEOUT_MS = 800;
const CAP = 4096;
const HMAC_SECRET = 'a-test-hmac-secret-of-some-length';
const BEARER = 'test-bearer-token';

const SEED_SUCCESS = {
  status: 'Success',
  displayName: 'Alice Liddell',
  customerId: 'C-42',
  accountSpecificListOfValuesMap: {
    LOCATION_ATTRIBUTE: { defaultAccount: ['12345678901234', '12345678901235'] },
    BRAND_ATTRIBUTE: { defaultAccount: ['ACME', 'DEMO'] },
  },
  clientSpecificListOfValuesMap: { brands: ['ACME', 'DEMO'], supplierIdList: ['12345678901234', '12345678901235'] },
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const json =
  (status: number, body: unknown): Handler =>
  (_req, res) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };

const ROUTES: Record<string, Handler> = {
  success: json(200, SEED_SUCCESS),
  'success-nulls': json(200, {
    status: 'Success',
    displayName: 'Bob',
    customerId: null,
    clientSpecificListOfValuesMap: null,
    errorTranslationKeys: null,
  }),
  'failure-seed': json(200, {
    status: 'Failure',
    erroneousProperties: ['login', 'password'],
    errorTranslationKeys: ['DUPLICATE_VENDOR_ID', 'INVALID_SUBSCRIPTION_ID'],
  }),
  'failure-empty': json(200, { status: 'Failure' }),
  'failure-nulls': json(200, { status: 'Failure', errorTranslationKeys: null, erroneousProperties: null }),
  'failure-props-only': json(200, { status: 'Failure', erroneousProperties: ['password'] }),
  'failure-known': json(200, {
    status: 'Failure',
    errorTranslationKeys: ['SUPPLIER_USER_GROUP_MISSING', 'INVALID_CREDENTIALS'],
    erroneousProperties: ['password', 'somethingElse'],
  }),
  'failure-unknown-error': json(200, { status: 'Failure', errorTranslationKeys: ['UNKNOWN_ERROR'] }),
  'failure-communication': json(200, { status: 'Failure', errorTranslationKeys: ['COMMUNICATION_ERROR'] }),
  'failure-401': json(401, { status: 'Failure', errorTranslationKeys: ['INVALID_CREDENTIALS'], erroneousProperties: ['login'] }),
  // Faults: each of these must be a 500 COMMUNICATION_ERROR.
  'http-500': json(500, { status: 'Success' }),
  'http-503': json(503, 'down for maintenance'),
  redirect: (_req, res) => res.writeHead(302, { location: '/success' }).end(),
  'success-401': json(401, { status: 'Success' }),
  'not-json': json(200, 'hello'),
  html: (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Login</body></html>'),
  'empty-body': json(200, ''),
  'invalid-utf8': (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from([0x7b, 0x22, 0x73, 0xff, 0xfe, 0x22, 0x7d])),
  'huge-declared': json(200, { status: 'Success', displayName: 'x'.repeat(CAP) }),
  'huge-chunked': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"status":"Success","displayName":"');
    const chunk = 'x'.repeat(1024);
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || sent++ > 64) {
        clearInterval(timer);
        res.end('"}');
        return;
      }
      res.write(chunk);
    }, 1);
  },
  silent: () => undefined,
  trickle: (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 100);
  },
  'cut-connection': (req) => req.socket.destroy(),
  nested: json(200, { status: 'Success', displayName: 'x', profile: { givenName: 'Alice' } }),
  'number-value': json(200, { status: 'Success', displayName: 'x', customerId: 42 }),
  'boolean-value': json(200, { status: 'Success', displayName: 'x', active: true }),
  'list-value': json(200, { status: 'Success', displayName: ['x'] }),
  'list-of-numbers': json(200, { status: 'Success', clientSpecificListOfValuesMap: { brands: [1, 2] } }),
  'account-list-flat': json(200, { status: 'Success', accountSpecificListOfValuesMap: { LOCATION_ATTRIBUTE: ['1'] } }),
  'list-name-odd': json(200, { status: 'Success', clientSpecificListOfValuesMap: { 'brands<script>': ['A'] } }),
  'list-separator': json(200, { status: 'Success', clientSpecificListOfValuesMap: { brands: ['ACME,DEMO'] } }),
  'keys-nested': json(200, { status: 'Failure', errorTranslationKeys: [{ key: 'X' }] }),
  'key-odd': json(200, { status: 'Failure', errorTranslationKeys: ['INVALID <b>'] }),
  'top-array': json(200, [SEED_SUCCESS]),
  'no-status': json(200, { displayName: 'x' }),
  'status-other': json(200, { status: 'success' }),
  'json-null': json(200, 'null'),
  // JSON.parse keeps the last of duplicate keys: a Failure would read as a Success.
  'duplicate-status': json(200, '{"status":"Failure","errorTranslationKeys":["INVALID_CREDENTIALS"],"status":"Success","displayName":"x"}'),
  'duplicate-nested': json(200, '{"status":"Success","clientSpecificListOfValuesMap":{"brands":["A"],"brands":["B"]}}'),
  'byte-order-mark': json(200, '\ufeff{"status":"Success","displayName":"x"}'),
};

interface Seen {
  headers: IncomingMessage['headers'];
  body: string;
}

let adapter: http.Server;
let secureAdapter: https.Server;
let cert: TestCertificate;
let fixture: ConfigFixture;
let server: RunningServer;
const seen: Seen[] = [];

function route(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    const handler = ROUTES[(req.url ?? '').slice(1)];
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
}

async function listen(s: http.Server | https.Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `${s instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const RESPONSE = [
  'displayName',
  'customerId',
  'account_LOCATION_ATTRIBUTE',
  'account_BRAND_ATTRIBUTE',
  'client_brands',
  'client_supplierIdList',
  'active',
];

beforeAll(async () => {
  cert = makeCertificate();
  adapter = http.createServer(route);
  secureAdapter = https.createServer({ cert: cert.cert, key: cert.key }, route);
  const base = await listen(adapter);
  const secureBase = await listen(secureAdapter);
  const config = (url: string, extra: Record<string, unknown> = {}) => ({
    valves: [
      {
        name: 'idp-lookup',
        config: {
          source: 'http',
          url,
          properties: { login: '{{request.username}}', password: '{{request.password}}', tenant: '{{tenant.id}}' },
          timeout_ms: TIMEOUT_MS,
          max_response_bytes: CAP,
          fields: { displayName: 'displayName', customerId: 'customerId', active: 'active' },
          ...extra,
        },
      },
    ],
    response: RESPONSE,
  });
  const pipes: Record<string, unknown> = {};
  for (const name of Object.keys(ROUTES)) pipes[`a-${name}`] = config(`${base}/${name}`);
  pipes['a-bearer'] = config(`${base}/success`, { auth: { type: 'bearer', token: '${env:TEST_ADAPTER_TOKEN}' } });
  pipes['a-hmac'] = config(`${base}/success`, { auth: { type: 'hmac', secret: HMAC_SECRET } });
  pipes['a-failure-code'] = config(`${base}/failure-seed`, { failure_code: 'ACCESS_DENIED' });
  pipes['a-failure-floor'] = config(`${base}/failure-seed`, { failure_floor_ms: 250 });
  pipes['a-success-floor'] = config(`${base}/success`, { failure_floor_ms: 250 });
  pipes['a-lists-custom'] = {
    ...config(`${base}/success`, { lists: { account_prefix: '', client_prefix: 'c_', separator: '|' } }),
    response: ['LOCATION_ATTRIBUTE', 'c_brands', 'displayName'],
  };
  pipes['a-lists-off'] = config(`${base}/success`, { lists: { enabled: false } });
  pipes['a-password-nfc'] = config(`${base}/success`, { password_normalization: 'nfc' });
  pipes['a-password-nfc-other'] = {
    valves: [
      {
        name: 'idp-lookup',
        config: {
          source: 'http',
          url: `${base}/success`,
          properties: { login: '{{request.username}}', pwd: '{{request.password}}' },
          password_property: 'pwd',
          password_normalization: 'nfc',
        },
      },
    ],
    response: [],
  };
  const closed = `http://127.0.0.1:${await closedPort()}/x`;
  pipes['a-refused'] = config(closed);
  pipes['a-tls'] = config(`${secureBase}/success`, { tls: { ca_file: cert.certFile } });
  pipes['a-tls-untrusted'] = config(`${secureBase}/success`);
  fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: Object.keys(pipes) }], pipes, {
    outbound: outboundFor(base, secureBase, closed),
  });
  server = await startServer({
    configFile: fixture.mainFile,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TEST_ADAPTER_TOKEN: BEARER },
  });
});

afterAll(async () => {
  await server?.close();
  fixture?.cleanup();
  for (const s of [adapter, secureAdapter]) {
    s?.closeAllConnections();
    await new Promise((resolve) => s?.close(resolve));
  }
  cert?.cleanup();
});

const login = (operation: string) => server.call(operation, { username: 'alice', password: 'pw-1' });

describe('idp-lookup source "http": Success', () => {
  it('POSTs the configured properties as JSON and maps the Success answer', async () => {
    seen.length = 0;
    const res = await login('a-success');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      displayName: 'Alice Liddell',
      customerId: 'C-42',
      account_LOCATION_ATTRIBUTE: '12345678901234,12345678901235',
      account_BRAND_ATTRIBUTE: 'ACME,DEMO',
      client_brands: 'ACME,DEMO',
      client_supplierIdList: '12345678901234,12345678901235',
    });
    const [request] = seen;
    expect(JSON.parse(request?.body ?? '')).toEqual({ login: 'alice', password: 'pw-1', tenant: 'demo' });
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['x-request-id']).toBe(res.headers.get('x-request-id'));
    expect(request?.headers.authorization).toBeUndefined();
  });

  it('treats null members as absent', async () => {
    const res = await login('a-success-nulls');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ displayName: 'Bob' });
  });

  it('uses the configured list prefixes and separator, or no lists at all', async () => {
    expect((await login('a-lists-custom')).body).toEqual({
      LOCATION_ATTRIBUTE: '12345678901234|12345678901235',
      c_brands: 'ACME|DEMO',
      displayName: 'Alice Liddell',
    });
    expect((await login('a-lists-off')).body).toEqual({ displayName: 'Alice Liddell', customerId: 'C-42' });
  });

  it('sends a bearer token from the environment', async () => {
    seen.length = 0;
    expect((await login('a-bearer')).status).toBe(200);
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${BEARER}`);
  });

  it('signs the exact body with HMAC-SHA256 and a timestamp', async () => {
    seen.length = 0;
    const before = Math.floor(Date.now() / 1000);
    expect((await login('a-hmac')).status).toBe(200);
    const header = String(seen[0]?.headers['x-authpipe-signature']);
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    expect(match).not.toBeNull();
    const [, t, mac] = match as RegExpExecArray;
    expect(Number(t)).toBeGreaterThanOrEqual(before);
    expect(mac).toBe(createHmac('sha256', HMAC_SECRET).update(`${t}.${seen[0]?.body}`).digest('hex'));
  });

  it('speaks https with the configured CA, and refuses an adapter it cannot trust', async () => {
    expect((await login('a-tls')).body.displayName).toBe('Alice Liddell');
    const untrusted = await login('a-tls-untrusted');
    expect(untrusted.status).toBe(500);
    expect(untrusted.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
  });
});

describe('idp-lookup source "http": Failure', () => {
  it('relays the seed example: keys after UNKNOWN_ERROR, properties under their request names', async () => {
    const res = await login('a-failure-seed');
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['UNKNOWN_ERROR', 'DUPLICATE_VENDOR_ID', 'INVALID_SUBSCRIPTION_ID']);
    expect(res.body.erroneousProperties).toEqual(['username', 'password']);
  });

  it('holds a refusal to failure_floor_ms when set (none by default), and never a success', async () => {
    const timed = async (operation: string) => {
      const started = performance.now();
      const res = await login(operation);
      return { status: res.status, ms: performance.now() - started };
    };
    const held = await timed('a-failure-floor');
    expect(held.status).toBe(403);
    expect(held.ms).toBeGreaterThanOrEqual(249);
    const plain = await timed('a-failure-seed');
    expect(plain.status).toBe(403);
    expect(plain.ms).toBeLessThan(200);
    const success = await timed('a-success-floor');
    expect(success.status).toBe(200);
    expect(success.ms).toBeLessThan(200);
  });

  it('leads with the configured failure_code instead', async () => {
    expect((await login('a-failure-code')).body.errorTranslationKeys).toEqual([
      'ACCESS_DENIED',
      'DUPLICATE_VENDOR_ID',
      'INVALID_SUBSCRIPTION_ID',
    ]);
  });

  it.each(['a-failure-empty', 'a-failure-nulls', 'a-failure-unknown-error'])(
    '%s: UNKNOWN_ERROR when no key is given',
    async (operation) => {
      const res = await login(operation);
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['UNKNOWN_ERROR']);
      expect(res.body.erroneousProperties).toBeUndefined();
    },
  );

  it('keeps erroneous properties when they come without keys', async () => {
    const res = await login('a-failure-props-only');
    expect(res.body.errorTranslationKeys).toEqual(['UNKNOWN_ERROR']);
    expect(res.body.erroneousProperties).toEqual(['password']);
  });

  it('leads with a catalogue code the adapter gave, and drops properties it was never sent', async () => {
    const res = await login('a-failure-known');
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS', 'SUPPLIER_USER_GROUP_MISSING']);
    expect(res.body.erroneousProperties).toEqual(['password']);
  });

  it('accepts a Failure answered with HTTP 401', async () => {
    const res = await login('a-failure-401');
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
    expect(res.body.erroneousProperties).toEqual(['username']);
  });

  it("turns the adapter's own COMMUNICATION_ERROR into a fault", async () => {
    const res = await login('a-failure-communication');
    expect(res.status).toBe(500);
    expect(res.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
  });
});

describe('idp-lookup source "http": the password as sent, or NFC when configured', () => {
  const DECOMPOSED = 'cafe\u0301';
  const sentPassword = async (operation: string, property = 'password') => {
    seen.length = 0;
    expect((await server.call(operation, { username: 'alice', password: DECOMPOSED })).status).toBe(200);
    return JSON.parse(seen[0]?.body ?? '{}')[property] as string;
  };
  it('passes it through by default', async () => {
    expect(await sentPassword('a-success')).toBe(DECOMPOSED);
  });
  it('sends NFC with password_normalization "nfc", on the configured property', async () => {
    expect(await sentPassword('a-password-nfc')).toBe('caf\u00e9');
    expect(await sentPassword('a-password-nfc-other', 'pwd')).toBe('caf\u00e9');
  });
});

describe('idp-lookup source "http": broken adapters fail closed with 500 COMMUNICATION_ERROR', () => {
  it.each([
    'http-500',
    'http-503',
    'redirect',
    'success-401',
    'not-json',
    'html',
    'empty-body',
    'invalid-utf8',
    'huge-declared',
    'huge-chunked',
    'cut-connection',
    'nested',
    'number-value',
    'boolean-value',
    'list-value',
    'list-of-numbers',
    'account-list-flat',
    'list-name-odd',
    'list-separator',
    'keys-nested',
    'key-odd',
    'top-array',
    'no-status',
    'status-other',
    'json-null',
    'duplicate-status',
    'duplicate-nested',
    'byte-order-mark',
    'refused',
  ])('%s', async (name) => {
    const res = await login(`a-${name}`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      status: 'Failure',
      errorTranslationKeys: ['COMMUNICATION_ERROR'],
      requestId: res.headers.get('x-request-id'),
    });
  });

  it.each(['silent', 'trickle'])('%s: within the timeout', async (name) => {
    const started = performance.now();
    const res = await login(`a-${name}`);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(500);
    expect(res.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 700);
  });
});
