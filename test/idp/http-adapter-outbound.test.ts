import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';
import { ConfigError } from '../../src/config-kit/issues.js';
import { silentLogger } from '../../src/logger.js';
import { CapturedLines, capturingLogger } from '../support/capture.js';
import { ConfigFixture } from '../support/fixture.js';
import { outboundFor } from '../support/outbound.js';
import { startServer, type RunningServer } from '../support/server.js';

/**
 * idp-lookup "http" and the operator's outbound allowlist, with real adapters on loopback: a
 * URL whose host and port are not listed does not load; a listed name that resolves to
 * loopback, and a redirect from a listed adapter to an unlisted one, fail closed as an
 * unreachable adapter does (500 COMMUNICATION_ERROR, the reason in the log), in bounded time.
 */
const TIMEOUT_MS = 1000;
let adapter: http.Server;
let elsewhere: http.Server;
let elsewhereHits = 0;
let fixture: ConfigFixture;
let server: RunningServer;
const logs = new CapturedLines();

async function listen(s: http.Server): Promise<number> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
}

const lookupStep = (url: string) => ({
  valves: [
    {
      name: 'idp-lookup',
      config: { source: 'http', url, properties: { u: '{{request.username}}', p: '{{request.password}}' }, timeout_ms: TIMEOUT_MS },
    },
  ],
  response: [],
});

beforeAll(async () => {
  elsewhere = http.createServer((_req, res) => {
    elsewhereHits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"Success"}');
  });
  const elsewherePort = await listen(elsewhere);
  adapter = http.createServer((req, res) => {
    if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${elsewherePort}/success` }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"Success"}');
  });
  const port = await listen(adapter);
  const pipes = {
    listed: lookupStep(`http://127.0.0.1:${port}/success`),
    'redirect-out': lookupStep(`http://127.0.0.1:${port}/redirect`),
    // Listed by name only: localhost resolves to loopback, and neither 127.0.0.1 on that port nor outbound.internal allows it.
    'by-name': lookupStep(`http://localhost:${elsewherePort}/success`),
    // Listed by name, and the address it resolves to is listed with that port: the operator chose it.
    'by-name-address-listed': lookupStep(`http://localhost:${port}/success`),
  };
  fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: Object.keys(pipes) }], pipes, {
    outbound: outboundFor(`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://localhost:${elsewherePort}`),
  });
  server = await startServer({ configFile: fixture.mainFile, logger: capturingLogger(logs) });
});

afterAll(async () => {
  await server?.close();
  fixture?.cleanup();
  for (const s of [adapter, elsewhere]) {
    s?.closeAllConnections();
    await new Promise((resolve) => s?.close(resolve));
  }
});

const login = (operation: string) => server.call(operation, { username: 'bob', password: 'bob-pass-1' });

describe('a listed adapter', () => {
  it('works, by its address or by a name that resolves to a listed address', async () => {
    expect((await login('listed')).status).toBe(200);
    expect((await login('by-name-address-listed')).status).toBe(200);
  });
});

describe('refused when the call connects: 500 COMMUNICATION_ERROR, the reason logged, in bounded time', () => {
  it('a listed name that resolves to loopback', async () => {
    elsewhereHits = 0;
    const started = performance.now();
    const res = await login('by-name');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
    expect(res.status).toBe(500);
    expect(res.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
    const fault = logs.named('fault').find((l) => l.requestId === res.headers.get('x-request-id'));
    expect(fault?.err?.message).toContain('localhost resolves to 127.0.0.1 (loopback)');
    expect(logs.text).not.toContain('bob-pass-1');
    expect(elsewhereHits).toBe(0);
  });

  it('a redirect from a listed adapter to a host that is not listed: not followed', async () => {
    elsewhereHits = 0;
    const res = await login('redirect-out');
    expect(res.status).toBe(500);
    expect(res.body.errorTranslationKeys).toEqual(['COMMUNICATION_ERROR']);
    expect(elsewhereHits).toBe(0);
  });
});

describe('refused at load: a URL whose host and port outbound.allow does not list', () => {
  /** The load's issues, with `outbound` as the main file's section (none when undefined). */
  function loadIssues(url: string, outbound: unknown) {
    const fx = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['x'] }], { x: lookupStep(url) }, outbound ? { outbound } : {});
    try {
      createApp({ configFile: fx.mainFile, logger: silentLogger(), env: {} });
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.issues.map((i) => ({ ...i, file: i.file.replace(/^.*\/(pipes|config)\//, '$1/') }));
    } finally {
      fx.cleanup();
    }
  }

  it.each([
    ['http://127.0.0.1:8089/auth', '127.0.0.1:8089'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254:80'],
    ['http://[::1]:8089/auth', '[::1]:8089'],
    ['https://10.0.0.1/auth', '10.0.0.1:443'],
    // A listed host on another port is not listed; an address spelled another way is judged as URLs spell it.
    ['https://adapter.example.com:8443/auth', 'adapter.example.com:8443'],
    ['http://2130706433:8090/auth', '127.0.0.1:8090'],
  ])('%s', (url, named) => {
    const issues = loadIssues(url, { allow: ['adapter.example.com', '127.0.0.1:8091'] });
    expect(issues).toEqual([
      {
        file: 'pipes/x.json',
        pointer: '/valves/0/config/url',
        code: 'CONFIG_OUTBOUND',
        message: `${named} is not on outbound.allow of the main file; expected a host:port the operator listed there`,
      },
    ]);
  });

  it('loads a listed one: with its port, or, listed without one, on the default port of its scheme', () => {
    const outbound = { allow: ['adapter.example.com', '127.0.0.1:8090'] };
    expect(loadIssues('https://adapter.example.com/auth', outbound)).toEqual([]);
    expect(loadIssues('http://adapter.example.com/auth', outbound)).toEqual([]);
    expect(loadIssues('http://127.0.0.1:8090/auth', outbound)).toEqual([]);
    expect(loadIssues('http://2130706433:8090/auth', outbound)).toEqual([]);
    expect(loadIssues('http://127.0.0.1/auth', outbound)[0]).toMatchObject({ code: 'CONFIG_OUTBOUND' });
  });

  it('with no outbound section, nothing is listed', () => {
    expect(loadIssues('https://adapter.example.com/auth', undefined)[0]).toMatchObject({ code: 'CONFIG_OUTBOUND' });
  });

  it('names a bad allow entry, and an internal name that allow does not list, in the main file', () => {
    const issues = loadIssues('https://adapter.example.com/auth', {
      allow: ['adapter.example.com', 'https://x.example.com', 'x.example.com:99999'],
      internal: ['gw.example.com', 'adapter.example.com:443'],
    });
    expect(issues.map((i) => [i.file, i.pointer])).toEqual([
      ['config/authpipe.json', '/outbound/allow/1'],
      ['config/authpipe.json', '/outbound/allow/2'],
      ['config/authpipe.json', '/outbound/internal/0'],
      ['config/authpipe.json', '/outbound/internal/1'],
    ]);
  });
});
