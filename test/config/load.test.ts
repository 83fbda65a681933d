import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';
import { ConfigFixture } from '../support/fixture.js';

/** Every load problem names the file, the JSON pointer, and what was expected. */
const store = new MemoryStore(systemClock);
const registry = createRegistry();
let fixture: ConfigFixture;

afterEach(() => fixture?.cleanup());

function load(env: Record<string, string> = {}) {
  return loadConfig(fixture.mainFile, { registry, runtime: () => ({ store, clock: systemClock, logger: silentLogger() }), env });
}

function issuesOf(env: Record<string, string> = {}): ConfigIssue[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error('expected the load to fail');
}

const ok = { valves: [{ name: 'property-set', config: { properties: { a: 'b' } } }], response: ['a'] };

describe('loadConfig', () => {
  it('loads a valid config and reports a stable version hash', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], { p: ok });
    const first = load();
    expect(first.pipes.get('p')?.steps).toHaveLength(1);
    expect(first.version).toMatch(/^[0-9a-f]{12}$/);
    expect(load().version).toBe(first.version);
    fixture.writePipe('p', { ...ok, description: 'changed' });
    expect(load().version).not.toBe(first.version);
  });

  it('names an unknown valve by file and pointer', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], {
      p: { valves: [ok.valves[0], { name: 'no-such-valve' }] },
    });
    const issues = issuesOf();
    expect(issues).toHaveLength(1);
    expect(issues[0]?.file).toMatch(/pipes\/p\.json$/);
    expect(issues[0]?.pointer).toBe('/valves/1/name');
    expect(issues[0]?.message).toMatch(/unknown valve "no-such-valve"/);
  });

  it('loads a valve by its former name with a CONFIG_DEPRECATED warning naming the new one', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], {
      p: {
        valves: [
          ok.valves[0],
          { name: 'flow-fail', exec_if: { '==': [{ var: 'request.deny' }, 'yes'] }, config: { code: 'ACCESS_DENIED' } },
        ],
      },
    });
    const loaded = load();
    expect(loaded.warnings.map((w) => [w.pointer, w.code])).toContainEqual(['/valves/1/name', 'CONFIG_DEPRECATED']);
    expect(loaded.warnings.find((w) => w.code === 'CONFIG_DEPRECATED')?.message).toMatch(/"flow-fail" is now called "refuse"/);
  });

  it("validates each valve config against the valve's own schema", () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], {
      p: { valves: [{ name: 'property-set', config: { properties: { a: 1 }, extra: true } }] },
    });
    const pointers = issuesOf()
      .map((i) => i.pointer)
      .sort();
    expect(pointers).toEqual(['/valves/0/config', '/valves/0/config/properties/a']);
  });

  it('refuses an allowedOperation without a pipe, pointing into the main file', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p', 'missing'] }], { p: ok });
    const [issue] = issuesOf();
    expect(issue?.file).toMatch(/config\/authpipe\.json$/);
    expect(issue?.pointer).toBe('/modules/0/config/tenant/0/allowedOperation/1');
  });

  it('refuses a pipe-call cycle and a call to a missing pipe', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['a'] }], {
      a: { valves: [{ name: 'pipe-call', config: { pipe: 'b' } }] },
      b: {
        valves: [
          { name: 'pipe-call', config: { pipe: 'a' } },
          { name: 'pipe-call', config: { pipe: 'ghost' } },
        ],
      },
    });
    const messages = issuesOf().map((i) => `${i.pointer} ${i.message}`);
    expect(messages.some((m) => /pipe-call cycle: .*a -> b -> a|b -> a -> b/.test(m))).toBe(true);
    expect(messages).toContain('/valves/1/config calls pipe "ghost", which does not exist');
  });

  it('refuses a self-calling pipe', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['a'] }], {
      a: { valves: [{ name: 'pipe-call', config: { pipe: 'a' } }] },
    });
    expect(issuesOf()[0]?.message).toMatch(/cycle/);
  });

  it('resolves ${env:NAME} at load and names a missing variable with its pointer', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], {
      p: { valves: [{ name: 'property-set', config: { properties: { a: '${env:AUTHPIPE_TEST_VALUE}' } } }], response: ['a'] },
    });
    expect(load({ AUTHPIPE_TEST_VALUE: 'resolved' }).pipes.get('p')).toBeDefined();
    const [issue] = issuesOf();
    expect(issue?.pointer).toBe('/valves/0/config/properties/a');
    expect(issue?.message).toMatch(/AUTHPIPE_TEST_VALUE is not set/);
  });

  it('reads ${file:path} relative to the file', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], {
      p: { valves: [{ name: 'property-set', config: { properties: { a: '${file:secret.txt}' } } }], response: ['a'] },
    });
    expect(issuesOf()[0]?.message).toBe('the secret file of ${file:secret.txt} cannot be read');
    fixture.write('pipes/secret.txt', 'from-file\n');
    expect(load().pipes.get('p')).toBeDefined();
  });

  it('reports invalid JSON with its line and column', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], { p: '{\n  "id": "p",\n  "valves": [,]\n}' });
    const [issue] = issuesOf();
    expect(issue?.pointer).toBe('');
    expect(issue?.message).toMatch(/invalid JSON at line 3/);
  });

  it('requires a pipe id equal to its file name', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], { p: ok });
    fixture.write('pipes/p.json', JSON.stringify({ id: 'q', ...ok }));
    expect(issuesOf().find((i) => i.pointer === '/id')?.message).toMatch(/must equal the file name "p"/);
  });

  it('refuses templates with an unknown root and json-logic with a forbidden operator', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], {
      p: {
        valves: [
          { name: 'property-set', config: { properties: { a: '{{process.env}}' } } },
          { name: 'property-set', exec_if: { method: [{ var: 'request.x' }, 'toString'] }, config: { properties: { a: 'b' } } },
          { name: 'input-validate', config: { properties: { a: { pattern: '(' } } } },
        ],
      },
    });
    const byPointer = Object.fromEntries(issuesOf().map((i) => [i.pointer, i.message]));
    expect(byPointer['/valves/0/config/properties/a']).toMatch(/starts with "process"/);
    expect(byPointer['/valves/1/exec_if']).toMatch(/forbidden json-logic operator "method"/);
    expect(byPointer['/valves/2/config/properties/a/pattern']).toMatch(/not a valid regular expression/);
  });

  it('refuses a mistyped trusted proxy and an unknown http configuration reference', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], { p: ok });
    fixture.writeMain({
      http_configuration: [{ id: 'http', trusted_proxies: ['10.0.0.0/33', 'proxy.local'] }],
      modules: [
        {
          name: 'com.phenixidentity~phenix-api-authenticate',
          id: 'api',
          config: { http_configuration_ref: 'nope', tenant: [{ id: 't', allowedOperation: ['p'] }] },
        },
      ],
      pipes: '../pipes',
    });
    const pointers = issuesOf()
      .map((i) => i.pointer)
      .sort();
    expect(pointers).toEqual([
      '/http_configuration/0/trusted_proxies/0',
      '/http_configuration/0/trusted_proxies/1',
      '/modules/0/config/http_configuration_ref',
    ]);
  });

  it('collects every issue of every file in one run', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['a', 'b'] }], {
      a: { valves: [{ name: 'nope-1' }] },
      b: { valves: [{ name: 'nope-2' }] },
    });
    expect(issuesOf().map((i) => i.message)).toEqual([expect.stringMatching(/nope-1/), expect.stringMatching(/nope-2/)]);
  });
});

describe('locateJsonError', () => {
  it.each([
    ['{"a": [,]}', 7],
    ['{"a": 1,}', 8],
    ['{"a" 1}', 5],
    ['[1, 2', 5],
    ['{"a": tru}', 6],
    ['{"a": "x\\q"}', 8],
    ['{} x', 3],
  ])('%s fails at offset %d', async (text, offset) => {
    const { locateJsonError } = await import('../../src/config-kit/json-locate.js');
    expect(() => JSON.parse(text)).toThrow();
    expect(locateJsonError(text)).toBe(offset);
  });
});
