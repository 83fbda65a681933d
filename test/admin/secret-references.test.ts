import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminToken, api, makeOperator } from './support.js';

/**
 * `${file:…}`, `${env:…}` and their look-alikes are the operator's, in files on disk: in any
 * body sent to the admin API they are a 422 SECRET_REFERENCE naming the pointer, before
 * anything is read, written or loaded, with one answer whether the path or variable exists
 * or not. And an operator's secret that breaks a check on disk is quoted by no admin answer.
 */
let fixture: ConfigFixture;
let server: RunningServer;
let token: string;
let keysDir: string;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  // The demo's API admin client as an operator: these walk shared pipes and every tenant.
  makeOperator(fixture);
  server = await startServer({ configFile: fixture.mainFile });
  token = await adminToken(server);
  keysDir = join(fixture.dir, 'var/keys/demo');
  // The signing key the server wrote at start: the file the review read through a pipe.
  expect(readdirSync(keysDir).some((n) => n.endsWith('.json'))).toBe(true);
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

/** Every file of the fixture's config and pipes folders, with its text. */
function files(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(fixture.dir, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(join(fixture.dir, 'config'));
  walk(join(fixture.dir, 'pipes'));
  return out;
}

/** A JSON string literal, as sent: `raw` is written into the body text as is (escapes stay escapes). */
const literal = (text: string) => JSON.stringify(text);

/** Each spelling, as the JSON text of a string. */
function spellings(): Record<string, string> {
  const keyFile = readdirSync(keysDir).find((n) => n.endsWith('.json')) as string;
  return {
    hostname: literal('${file:/etc/hostname}'),
    signingKey: literal(`\${file:${join(keysDir, keyFile)}}`),
    relativeKey: literal('${file:../var/keys/demo/' + keyFile + '}'),
    path: literal('${env:PATH}'),
    escaped: '"\\u0024\\u007bfile:/etc/hostname}"',
    escapedEnv: '"\\u0024{env:PATH}"',
    nested: literal('${file:${env:HOME}/x}'),
    blank: literal('${ FILE:/etc/hostname}'),
    mixedCase: literal('${File:/etc/hostname}'),
    inside: literal('before ${env:PATH} after'),
    otherScheme: literal('${vault:secret/x}'),
  };
}

/** Pairs that must answer alike: what exists and what does not. */
function existsOrNot(): [string, string][] {
  const keyFile = readdirSync(keysDir).find((n) => n.endsWith('.json')) as string;
  return [
    [literal('${file:/etc/hostname}'), literal('${file:/etc/no-such-file-4711}')],
    [literal(`\${file:${join(keysDir, keyFile)}}`), literal(`\${file:${join(keysDir, 'no-such-key.json')}}`)],
    [literal('${env:PATH}'), literal('${env:AUTHPIPE_NO_SUCH_VARIABLE}')],
  ];
}

interface Target {
  name: string;
  method: string;
  path: string;
  /** The body's JSON text around the reference (@ is replaced by the string literal). */
  body: string;
  pointer: string;
  ifMatch?: () => Promise<string>;
}

const etagOf = async (path: string) => (await api(server, 'GET', path, { token })).headers.get('etag') as string;
const echoWith = (value: string) =>
  `{"id":"echo","valves":[{"name":"property-set","config":{"properties":{"k":${value}}}}],"response":["k"]}`;

const TARGETS: Target[] = [
  {
    name: 'pipe create',
    method: 'POST',
    path: '/admin/pipes',
    body: echoWith('@').replace('"echo"', '"leak"'),
    pointer: '/valves/0/config/properties/k',
  },
  {
    name: 'pipe replace',
    method: 'PUT',
    path: '/admin/pipes/echo',
    body: echoWith('@'),
    pointer: '/valves/0/config/properties/k',
    ifMatch: () => etagOf('/admin/pipes/echo'),
  },
  {
    name: 'pipe validate',
    method: 'POST',
    path: '/admin/pipes/echo/validate',
    body: echoWith('@'),
    pointer: '/valves/0/config/properties/k',
  },
  {
    name: 'pipe validate, as a key',
    method: 'POST',
    path: '/admin/pipes/echo/validate',
    body: `{"id":"echo","valves":[],"x":{@:"v"}}`,
    pointer: 'KEY',
  },
  { name: 'user create', method: 'POST', path: '/admin/directory/users', body: '{"id":"u-leak","username":@}', pointer: '/username' },
  { name: 'user create, as a key', method: 'POST', path: '/admin/directory/users', body: '{"id":"u-leak",@:"x"}', pointer: 'KEY' },
  {
    name: 'user edit',
    method: 'PATCH',
    path: '/admin/directory/users/u-1002',
    body: '{"attributes":{"givenName":@}}',
    pointer: '/attributes/givenName',
    ifMatch: () => etagOf('/admin/directory/users/u-1002'),
  },
  {
    name: 'till password',
    method: 'POST',
    path: '/admin/directory/tills/till-001/password',
    body: '{"password":@}',
    pointer: '/password',
    ifMatch: () => etagOf('/admin/directory/tills/till-001'),
  },
  {
    name: 'access group create',
    method: 'POST',
    path: '/admin/access-groups',
    body: '{"name":"Leak","description":@}',
    pointer: '/description',
  },
  {
    name: 'tenant edit',
    method: 'PATCH',
    path: '/admin/tenants/demo',
    body: '{"displayName":@}',
    pointer: '/displayName',
    ifMatch: () => etagOf('/admin/tenants/demo'),
  },
  {
    name: 'dry run',
    method: 'POST',
    path: '/admin/dry-run',
    body: '{"operation":"echo","body":{"username":@}}',
    pointer: '/body/username',
  },
];

async function send(target: Target, value: string) {
  return api(server, target.method, target.path, {
    token,
    body: target.body.replace('@', value),
    ...(target.ifMatch ? { ifMatch: await target.ifMatch() } : {}),
  });
}

/** The pointer of a member whose name is `value` (a JSON string literal), at the top of the object or under /x. */
function keyPointer(target: Target, value: string): string {
  const name = (JSON.parse(value) as string).replace(/~/g, '~0').replace(/\//g, '~1');
  return target.body.startsWith('{"id":"echo"') ? `/x/${name}` : `/${name}`;
}

describe('a reference in any admin body is a 422 SECRET_REFERENCE at its pointer, and changes nothing', () => {
  it.each(TARGETS.map((t) => [t.name, t] as const))('%s', async (_name, target) => {
    const before = files();
    for (const [spelling, value] of Object.entries(spellings())) {
      const res = await send(target, value);
      const pointer = target.pointer === 'KEY' ? keyPointer(target, value) : target.pointer;
      expect([spelling, res.status, res.body.errorTranslationKeys, res.body.erroneousProperties]).toEqual([
        spelling,
        422,
        ['INVALID_REQUEST', 'SECRET_REFERENCE'],
        [pointer],
      ]);
    }
    expect(files()).toEqual(before);
  });

  it('answers alike whether the path or the variable exists', async () => {
    const without = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
    for (const target of TARGETS.filter((t) => t.pointer !== 'KEY')) {
      for (const [exists, absent] of existsOrNot()) {
        const [a, b] = [await send(target, exists), await send(target, absent)];
        expect([target.name, a.status, without(a.body)]).toEqual([target.name, b.status, without(b.body)]);
      }
    }
  });

  it('the public echo still answers as before: nothing was loaded', async () => {
    const res = await server.call('echo', { username: 'a' });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toMatch(/PRIVATE|"d":/);
  });
});

describe("an operator's secret that breaks a check on disk", () => {
  const CONTENT = 'TOP-SECRET-CONTENT-4711 {{';

  it('is quoted as its reference by validate and by a refused save', async () => {
    fixture.write('pipes/op-secret.txt', `${CONTENT}\n`);
    fixture.write('pipes/operator.json', {
      id: 'operator',
      valves: [{ name: 'property-set', config: { properties: { a: '${file:op-secret.txt}' } } }],
      response: ['a'],
    });
    try {
      const echo = await api(server, 'GET', '/admin/pipes/echo', { token });
      const body = { ...echo.body, description: 'edited' };
      const checked = await api(server, 'POST', '/admin/pipes/echo/validate', { token, body });
      expect(checked.status).toBe(200);
      expect(checked.body.issues).toContainEqual(
        expect.objectContaining({
          file: expect.stringMatching(/operator\.json$/),
          message: expect.stringContaining('${file:op-secret.txt}'),
        }),
      );
      const saved = await api(server, 'PUT', '/admin/pipes/echo', { token, body, ifMatch: echo.headers.get('etag') as string });
      expect([saved.status, saved.body.errorTranslationKeys[1]]).toEqual([422, 'CONFIG_REFUSED']);
      for (const answer of [checked, saved]) expect(JSON.stringify(answer.body)).not.toContain('TOP-SECRET');
    } finally {
      rmSync(join(fixture.dir, 'pipes/operator.json'));
      rmSync(join(fixture.dir, 'pipes/op-secret.txt'));
    }
  });
});
