import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminToken, api, makeOperator } from './support.js';

/**
 * The outbound allowlist is the operator's (the main file): an admin who adds an HTTP adapter
 * or an OTP webhook to a host and port it does not list gets 422 with CONFIG_OUTBOUND at the
 * URL's pointer, the pipe file is unchanged, and the host is never contacted. Over HTTP, on the
 * demo config copied to a temp folder.
 */
let fixture: ConfigFixture;
let server: RunningServer;
let token: string;
let listener: http.Server;
let hits = 0;
let listenerUrl: string;

beforeAll(async () => {
  listener = http.createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"Success"}');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/collect`;
  fixture = ConfigFixture.fromDemo();
  // The demo's API admin client as an operator: these edit shared pipes.
  makeOperator(fixture);
  server = await startServer({ configFile: fixture.mainFile });
  token = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
  fixture?.cleanup();
  listener?.closeAllConnections();
  await new Promise((resolve) => listener?.close(resolve));
});

const file = (relative: string) => readFileSync(join(fixture.dir, relative), 'utf8');
const adapterStep = (url: string) => ({
  name: 'idp-lookup',
  config: { source: 'http', url, properties: { u: '{{request.username}}', p: '{{request.password}}' } },
});

describe('PUT /admin/pipes/login-password adding an http idp-lookup', () => {
  it.each([
    ['a test listener on loopback', () => listenerUrl],
    ['127.0.0.1', () => 'http://127.0.0.1:8089/auth'],
    ['the metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
    ['[::1]', () => 'http://[::1]:8089/auth'],
    ['10.0.0.1', () => 'https://10.0.0.1/auth'],
    ['a public name', () => 'https://collector.example.net/auth'],
  ])('to %s the main file does not list: 422, CONFIG_OUTBOUND at the URL, nothing written or sent', async (_name, url) => {
    const got = await api(server, 'GET', '/admin/pipes/login-password', { token });
    const before = file('pipes/login-password.json');
    const body = { ...got.body, valves: [...got.body.valves, adapterStep(url())] };
    const res = await api(server, 'PUT', '/admin/pipes/login-password', { token, body, ifMatch: got.headers.get('etag') as string });
    expect([res.status, res.body.errorTranslationKeys]).toEqual([422, ['INVALID_REQUEST', 'CONFIG_REFUSED']]);
    expect(res.body.issues).toEqual([
      {
        file: expect.stringMatching(/pipes\/login-password\.json$/),
        pointer: '/valves/2/config/url',
        code: 'CONFIG_OUTBOUND',
        message: expect.stringContaining('is not on outbound.allow of the main file'),
      },
    ]);
    expect(file('pipes/login-password.json')).toBe(before);
    expect(hits).toBe(0);
  });

  it('validate says the same, and writes nothing', async () => {
    const got = await api(server, 'GET', '/admin/pipes/login-password', { token });
    const body = { ...got.body, valves: [...got.body.valves, adapterStep(listenerUrl)] };
    const res = await api(server, 'POST', '/admin/pipes/login-password/validate', { token, body });
    expect(res.status).toBe(200);
    expect(res.body.issues).toEqual([expect.objectContaining({ pointer: '/valves/2/config/url', code: 'CONFIG_OUTBOUND' })]);
  });
});

describe('an OTP webhook sender', () => {
  it('to a host the main file does not list: 422 at the sender URL', async () => {
    const got = await api(server, 'GET', '/admin/pipes/otp-start', { token });
    const before = file('pipes/otp-start.json');
    const valves = got.body.valves.map((v: { name: string; config: Record<string, unknown> }) =>
      v.name === 'otp-issue' ? { ...v, config: { ...v.config, sender: { type: 'webhook', url: listenerUrl, secret: 'x'.repeat(32) } } } : v,
    );
    const at = valves.findIndex((v: { name: string }) => v.name === 'otp-issue');
    const res = await api(server, 'PUT', '/admin/pipes/otp-start', {
      token,
      body: { ...got.body, valves },
      ifMatch: got.headers.get('etag') as string,
    });
    expect(res.status).toBe(422);
    expect(res.body.issues).toEqual([expect.objectContaining({ pointer: `/valves/${at}/config/sender/url`, code: 'CONFIG_OUTBOUND' })]);
    expect(file('pipes/otp-start.json')).toBe(before);
    expect(hits).toBe(0);
  });
});
