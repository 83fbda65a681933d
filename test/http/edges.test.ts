import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConfigFixture } from '../support/fixture.js';
import { sample } from '../support/metrics-text.js';
import { rawRequest } from '../support/raw-http.js';
import { startServer, type RunningServer } from '../support/server.js';

/**
 * HTTP edges that node or express would answer their own way (a bare 417 or 400, an HTML
 * 404, silence, silently dropped headers): each gets the contract's coded 403 with
 * x-request-id and Cache-Control: no-store. And connection caps, in total and per address.
 */
const ECHO = {
  valves: [{ name: 'property-copy', config: { from: 'request', properties: ['username'] } }],
  response: ['username'],
};

let fixture: ConfigFixture;
let server: RunningServer;
let port: number;

beforeAll(async () => {
  fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: ECHO });
  server = await startServer({ configFile: fixture.mainFile });
  port = (server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const BODY = '{"username":"till-001"}';
function put(headers: string[], options: { target?: string; host?: string | null; method?: string } = {}): string {
  const host = options.host === undefined ? ['Host: localhost'] : options.host === null ? [] : [`Host: ${options.host}`];
  return [
    `${options.method ?? 'PUT'} ${options.target ?? '/api/authentication/echo'} HTTP/1.1`,
    ...host,
    'Connection: close',
    `Content-Length: ${BODY.length}`,
    'Content-Type: application/json',
    ...headers,
    '',
    BODY,
  ].join('\r\n');
}

function expectCoded(res: { status: number; headers: string; body: string }, code: string): void {
  expect(res.status).toBe(403);
  expect(JSON.parse(res.body).errorTranslationKeys).toEqual([code]);
  expect(res.headers).toMatch(/^x-request-id: \S+/im);
  expect(res.headers).toMatch(/^cache-control: no-store/im);
}

describe('requests node or express would answer their own way', () => {
  it('a well-formed call passes all the checks', async () => {
    const res = await rawRequest(port, put(['tenant: demo']));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ username: 'till-001' });
  });

  it('Expect: foo (node: a bare 417)', async () => {
    expectCoded(await rawRequest(port, put(['tenant: demo', 'Expect: foo'])), 'INVALID_REQUEST');
  });

  it('an empty or missing Host, or two (node: a bare 400)', async () => {
    expectCoded(await rawRequest(port, put(['tenant: demo'], { host: '' })), 'INVALID_REQUEST');
    expectCoded(await rawRequest(port, put(['tenant: demo'], { host: null })), 'INVALID_REQUEST');
    expectCoded(await rawRequest(port, put(['tenant: demo', 'Host: other'])), 'INVALID_REQUEST');
    expectCoded(await rawRequest(port, put(['tenant: demo', 'hOsT: other'])), 'INVALID_REQUEST');
  });

  it('a malformed absolute-form target, on any path (express: an HTML 404)', async () => {
    for (const target of [
      'http://localhost:99999/healthz',
      'http://[::1/api/authentication/echo',
      'ftp://localhost/api/authentication/echo',
      'http://user:pw@localhost/api/authentication/echo',
    ]) {
      expectCoded(await rawRequest(port, put(['tenant: demo'], { target })), 'INVALID_REQUEST');
    }
    const ok = await rawRequest(port, put(['tenant: demo'], { target: 'http://localhost/api/authentication/echo' }));
    expect(ok.status).toBe(200);
  });

  it('CONNECT (node: no answer at all)', async () => {
    const res = await rawRequest(port, 'CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n');
    expectCoded(res, 'METHOD_NOT_ALLOWED');
  });

  it("too many header lines are refused whole, never truncated: a doubled tenant past node's old limit does not escape", async () => {
    const filler = (n: number) => Array.from({ length: n }, (_, i) => `x-filler-${i}: ${i}`);
    expect((await rawRequest(port, put(['tenant: demo', ...filler(90)]))).status).toBe(200);
    expectCoded(await rawRequest(port, put(['tenant: demo', ...filler(150), 'tenant: other'])), 'INVALID_REQUEST');
    // Past 2,000 header lines node used to drop the rest silently: the second tenant was never
    // seen. Short lines, so the whole head stays under node's 16 KiB header size limit.
    const tiny = Array.from({ length: 2100 }, () => 'a:');
    expectCoded(await rawRequest(port, put(['tenant: demo', ...tiny, 'tenant: other'])), 'INVALID_REQUEST');
    expectCoded(
      await rawRequest(port, put(['tenant: demo', 'authorization: Basic eDp5', ...tiny, 'authorization: Basic YTpi'])),
      'INVALID_REQUEST',
    );
  });
});

describe('connection caps', () => {
  let capped: ConfigFixture;
  let s: RunningServer;
  let cappedPort: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    capped = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: ECHO });
    const main = JSON.parse(readFileSync(capped.mainFile, 'utf8'));
    // 16 addresses at the per-address cap fill the total, the fewest the loader allows.
    main.http_configuration[0].max_connections = 48;
    main.http_configuration[0].max_connections_per_address = 3;
    capped.writeMain(main);
    s = await startServer({ configFile: capped.mainFile });
    cappedPort = (s.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await s.close();
    capped.cleanup();
  });

  /** An open connection that sends nothing, like a slow client. */
  const idle = (localAddress: string) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect({ port: cappedPort, host: '127.0.0.1', localAddress });
      sockets.push(socket);
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  const answerOn = (socket: Socket) =>
    new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c) => (text += c.toString()));
      socket.once('close', () => resolve(text));
    });

  it('per address: the 4th open connection from one address is answered RATE_LIMITED and closed; others still connect', async () => {
    for (let i = 0; i < 3; i++) await idle('127.0.0.1');
    const fourth = await idle('127.0.0.1');
    const text = await answerOn(fourth);
    expect(text).toMatch(/^HTTP\/1\.1 403/);
    expect(text).toMatch(/^x-request-id: /im);
    expect(text).toMatch(/^retry-after: 1/im);
    expect(JSON.parse(text.split('\r\n\r\n')[1] as string).errorTranslationKeys).toEqual(['RATE_LIMITED']);
    await idle('127.0.0.2');
  });

  it('in total: past max_connections every address is refused; the metric counts both reasons and the open connections', async () => {
    // 4 are open: fill up to 48 from 127.0.0.3 on, 3 each (15 more addresses).
    for (let i = 0; i < 44; i++) await idle(`127.0.0.${3 + Math.floor(i / 3)}`);
    const over = await idle('127.0.0.100');
    expect(await answerOn(over)).toMatch(/RATE_LIMITED/);
    // Free one; the scrape goes to the management listener, so 4 stay open on this one.
    sockets[0]?.destroy();
    await new Promise((r) => setTimeout(r, 100));
    // Metrics live on the management listener, which has caps of its own.
    const res = await fetch(`${s.managementUrl}/metrics`).then(async (r) => ({ body: await r.text() }));
    expect(sample(res.body, 'authpipe_http_connections_refused_total{listener="http",reason="per_address"}')).toBe(1);
    expect(sample(res.body, 'authpipe_http_connections_refused_total{listener="http",reason="total"}')).toBe(1);
    expect(sample(res.body, 'authpipe_http_connections{listener="http"}')).toBe(47);
  });
});
