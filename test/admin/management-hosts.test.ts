import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createApp } from '../../src/app.js';
import { hostEntries } from '../../src/config/management-hosts.js';
import { silentLogger } from '../../src/logger.js';
import { ConfigFixture } from '../support/fixture.js';
import { freePort } from '../support/net.js';
import { rawRequest } from '../support/raw-http.js';
import { startServer, type RunningServer } from '../support/server.js';

/**
 * The management listener answers only for its names (management.hosts): a page that
 * rebinds its own DNS name to the listener's address is refused before any route, and the
 * console signs in at each name, with a redirect URI that is always one of them.
 */

const get = (port: number, path: string, hostLines: string[], version = '1.1') =>
  rawRequest(port, [`GET ${path} HTTP/${version}`, ...hostLines, 'Connection: close', '', ''].join('\r\n'));

function expectHostRefused(res: { status: number; headers: string; body: string }, what: string): void {
  expect([what, res.status]).toEqual([what, 403]);
  expect([what, JSON.parse(res.body).errorTranslationKeys]).toEqual([what, ['ACCESS_DENIED', 'HOST_NOT_ALLOWED']]);
  expect(res.headers).toMatch(/x-request-id: /i);
  expect(res.headers).toMatch(/cache-control: no-store/i);
}

describe('the default names: its own address and localhost, at the port it listens on', () => {
  let fixture: ConfigFixture;
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    fixture = ConfigFixture.fromDemo();
    // A fixed public port: the issuer names it (PORT=0 would put :0 in it).
    server = await startServer({
      configFile: fixture.mainFile,
      env: { ...process.env, PORT: String(await freePort()), HOST: '127.0.0.1' },
    });
    port = Number(new URL(server.managementUrl).port);
  });
  afterAll(async () => {
    await server.close();
    fixture.cleanup();
  });

  it('refuses any other, a missing or a doubled Host on every path, before routing', async () => {
    const refused: [string, string[], string?][] = [
      ['evil.example', ['Host: evil.example']],
      ['evil.example with the port', [`Host: evil.example:${port}`]],
      ['a rebinding name', ['Host: 127.0.0.1.nip.io']],
      ['a rebinding name with the port', [`Host: 127.0.0.1.nip.io:${port}`]],
      ['another port', [`Host: 127.0.0.1:${port + 1}`]],
      ['no port', ['Host: localhost']],
      ['missing', []],
      ['missing on HTTP/1.0', [], '1.0'],
      ['doubled', [`Host: localhost:${port}`, `Host: localhost:${port}`]],
      ['empty', ['Host: ']],
    ];
    for (const path of ['/readyz', '/metrics', '/admin/pipes', '/console/', '/console/settings.json', '/healthz', '/nowhere']) {
      for (const [what, lines, version] of refused) expectHostRefused(await get(port, path, lines, version), `${path} ${what}`);
    }
    // A traced call is refused too, before its tenant is looked at.
    const put = await rawRequest(
      port,
      `PUT /api/authentication/echo HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\ntenant: demo\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expectHostRefused(put, 'PUT');
  });

  it('answers localhost and 127.0.0.1 with the port, in any case', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LocalHost:${port}`]) {
      expect([host, (await get(port, '/readyz', [`Host: ${host}`])).status]).toEqual([host, 200]);
    }
  });

  it('gives the console the redirect URI of the name the browser used, and the provider takes each', async () => {
    const issuer = `${server.url}/oidc/demo`;
    for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
      const settings = await get(port, '/console/settings.json', [`Host: ${new URL(origin).host}`]);
      const redirectUri = `${origin}/console/callback`;
      expect(JSON.parse(settings.body).oidc).toEqual({ clientId: 'authpipe-console', issuers: { demo: issuer }, redirectUri });
      // The hosted login takes it (a 303 to its interaction), where it used to be invalid_redirect_uri.
      const auth = await authorize(issuer, redirectUri);
      expect([origin, auth.status, auth.headers.get('location')]).toEqual([origin, 303, expect.stringContaining('/interaction/')]);
      // The console trades its code from that origin: the token endpoint allows it.
      const token = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: redirectUri,
          client_id: 'authpipe-console',
        }),
      });
      expect(token.headers.get('access-control-allow-origin')).toBe(origin);
    }
    for (const elsewhere of [`http://evil.example:${port}`, `http://127.0.0.1.nip.io:${port}`, `http://localhost:${port + 1}`]) {
      const auth = await authorize(issuer, `${elsewhere}/console/callback`);
      expect([elsewhere, auth.status, await auth.text()]).toEqual([elsewhere, 400, expect.stringContaining('invalid_redirect_uri')]);
    }
  });
});

describe('configured names', () => {
  let fixture: ConfigFixture;
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    fixture = ConfigFixture.fromDemo();
    const main = fixture.readJson('config/authpipe.json') as { management: Record<string, unknown> };
    fixture.writeMain({ ...main, management: { ...main.management, hosts: ['admin.internal', 'https://admin.example.com'] } });
    server = await startServer({ configFile: fixture.mainFile });
    port = Number(new URL(server.managementUrl).port);
  });
  afterAll(async () => {
    await server.close();
    fixture.cleanup();
  });

  it('answers only the listed names: a bare name at the port, an origin as a proxy passes it on', async () => {
    for (const [host, origin] of [
      [`admin.internal:${port}`, `http://admin.internal:${port}`],
      ['admin.example.com', 'https://admin.example.com'],
      ['admin.example.com:443', 'https://admin.example.com'],
    ] as const) {
      const settings = await get(port, '/console/settings.json', [`Host: ${host}`]);
      expect([host, settings.status, JSON.parse(settings.body).oidc?.redirectUri]).toEqual([host, 200, `${origin}/console/callback`]);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, 'admin.internal', `admin.example.com:${port}`]) {
      expectHostRefused(await get(port, '/readyz', [`Host: ${host}`]), host);
    }
  });

  it('refuses at load an entry that is neither a name nor an origin, naming its pointer', () => {
    const main = fixture.readJson('config/authpipe.json') as { management: Record<string, unknown> };
    for (const entry of ['localhost:9090', 'https://admin.example.com/console', 'https://admin.example.com:443', 'ftp://x', 'a b']) {
      fixture.writeMain({ ...main, management: { ...main.management, hosts: ['localhost', entry] } });
      expect(() => createApp({ configFile: fixture.mainFile, logger: silentLogger(), env: {} })).toThrow(
        expect.objectContaining({ issues: [expect.objectContaining({ pointer: '/management/hosts/1' })] }),
      );
    }
  });
});

describe('the default names by listen address', () => {
  it('are the address and localhost; loopback names only for a wildcard address', () => {
    expect(hostEntries([], '127.0.0.1')).toEqual(['127.0.0.1', 'localhost']);
    expect(hostEntries([], '::1')).toEqual(['[::1]', 'localhost']);
    expect(hostEntries([], 'localhost')).toEqual(['localhost']);
    expect(hostEntries([], '10.1.2.3')).toEqual(['10.1.2.3', 'localhost']);
    for (const wildcard of ['0.0.0.0', '::']) expect(hostEntries([], wildcard)).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(hostEntries(['admin.internal'], '0.0.0.0')).toEqual(['admin.internal']);
  });
});

/** The console's authorization request at the hosted login, as the page sends it. */
function authorize(issuer: string, redirectUri: string): Promise<Response> {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'authpipe-console',
    redirect_uri: redirectUri,
    scope: 'openid',
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return fetch(`${issuer}/auth?${query}`, { redirect: 'manual' });
}
