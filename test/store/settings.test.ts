import { afterEach, describe, expect, it } from '@jest/globals';
import { createApp } from '../../src/app.js';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { silentLogger } from '../../src/logger.js';
import { memoryBackend } from '../../src/store/memory.js';
import { redisBackend } from '../../src/store/redis.js';
import { resolveStoreSettings } from '../../src/store/create.js';
import { storeSchema, storeSectionSchema } from '../../src/store/schema.js';
import { ConfigFixture } from '../support/fixture.js';
import { storeConfig } from '../support/config-defaults.js';

/** The store section is checked at load: each mistake names the file and the pointer. */
const fixtures: ConfigFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

function issuesFor(store: unknown, env: Record<string, string> = {}): ConfigIssue[] {
  const fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: { valves: [], response: [] } }, { store });
  fixtures.push(fixture);
  try {
    const app = createApp({ configFile: fixture.mainFile, logger: silentLogger(), env });
    void app.close();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  return [];
}

function expectIssue(issues: ConfigIssue[], pointer: string, message: RegExp): void {
  const found = issues.find((i) => i.pointer === pointer && message.test(i.message));
  expect(found ? found : issues).toEqual(expect.objectContaining({ file: expect.stringMatching(/authpipe\.json$/), pointer }));
}

describe('store section checks', () => {
  it('accepts memory, and redis config that needs no connection to check', () => {
    expect(issuesFor({ type: 'memory' })).toEqual([]);
    expect(issuesFor({ type: 'memory', url: 'redis://127.0.0.1:1' })).toEqual([]);
  });

  it('refuses several connection kinds at once', () => {
    expectIssue(
      issuesFor({ type: 'redis', url: 'redis://h:1', cluster: [{ host: 'h', port: 1 }] }),
      '/store/cluster',
      /one of url, sentinels or cluster/,
    );
  });

  it('refuses sentinels without a master name', () => {
    expectIssue(issuesFor({ type: 'redis', sentinels: [{ host: 'h', port: 26379 }] }), '/store', /sentinel_master/);
  });

  it('refuses a url that is not redis:// or rediss://', () => {
    expectIssue(issuesFor({ type: 'redis', url: 'http://h:6379' }), '/store/url', /pattern/);
  });

  it('refuses bad nodes, timeouts, db and unknown properties', () => {
    expectIssue(issuesFor({ type: 'redis', cluster: [{ host: 'h' }] }), '/store/cluster/0', /port/);
    expectIssue(issuesFor({ type: 'redis', cluster: [{ host: 'h', port: 70000 }] }), '/store/cluster/0/port', /<= 65535/);
    expectIssue(issuesFor({ type: 'redis', command_timeout_ms: 0 }), '/store/command_timeout_ms', />= 10/);
    expectIssue(issuesFor({ type: 'redis', cluster: [{ host: 'h', port: 1 }], db: 2 }), '/store/db', /database 0/);
    expectIssue(issuesFor({ type: 'redis', bogus: 1 }), '/store', /unknown property "bogus"/);
    expectIssue(issuesFor({ type: 'mongo' }), '/store/type', /one of/);
  });

  it('refuses TLS files it cannot read, and a certificate without its key', () => {
    expectIssue(
      issuesFor({ type: 'redis', tls: { ca_file: 'no-such-ca.pem' } }),
      '/store/tls/ca_file',
      /cannot read no-such-ca\.pem \(ENOENT\)/,
    );
    expectIssue(issuesFor({ type: 'redis', tls: { cert_file: 'authpipe.json' } }), '/store/tls', /key_file/);
  });

  it('refuses a malformed REDIS_URL, naming the variable', () => {
    expectIssue(issuesFor({ type: 'memory' }, { REDIS_URL: 'localhost:6379' }), '/store', /REDIS_URL/);
  });
});

describe('resolveStoreSettings', () => {
  it('defaults: memory; redis on localhost with a 500 ms command timeout', () => {
    expect(resolveStoreSettings(storeConfig({ type: 'memory' }), {}, '.').settings).toEqual({ type: 'memory', maxCounters: 200_000 });
    expect(resolveStoreSettings(storeConfig({ type: 'redis' }), {}, '.').settings).toEqual(
      expect.objectContaining({
        type: 'redis',
        mode: 'standalone',
        url: 'redis://127.0.0.1:6379',
        commandTimeoutMs: 500,
        source: 'config',
      }),
    );
  });

  it('REDIS_URL wins over any configured connection', () => {
    const { settings, problems } = resolveStoreSettings(
      storeConfig({ type: 'redis', sentinels: [{ host: 's', port: 26379 }], sentinel_master: 'm', command_timeout_ms: 250 }),
      { REDIS_URL: 'rediss://:pw@cache:6380/2' },
      '.',
    );
    expect(problems).toEqual([]);
    expect(settings).toEqual(
      expect.objectContaining({ mode: 'standalone', url: 'rediss://:pw@cache:6380/2', commandTimeoutMs: 250, source: 'REDIS_URL' }),
    );
  });

  it('sentinel and cluster modes', () => {
    const sentinel = resolveStoreSettings(
      storeConfig({ type: 'redis', sentinels: [{ host: 's', port: 26379 }], sentinel_master: 'mymaster', db: 1 }),
      {},
      '.',
    ).settings;
    expect(sentinel).toEqual(expect.objectContaining({ mode: 'sentinel', master: 'mymaster', db: 1 }));
    const cluster = resolveStoreSettings(storeConfig({ type: 'redis', cluster: [{ host: 'c', port: 7000 }] }), {}, '.').settings;
    expect(cluster).toEqual(expect.objectContaining({ mode: 'cluster', nodes: [{ host: 'c', port: 7000 }] }));
  });

  it('logs name the server, never its password', () => {
    const resolved = resolveStoreSettings(storeConfig({ type: 'redis', url: 'redis://user:s3cret@cache:6379/0' }), {}, '.');
    expect(resolved.describe()).toBe('redis://cache:6379 (config)');
  });

  it('REDIS_URL selects redis over a memory section; an empty one does not', () => {
    expect(resolveStoreSettings(storeConfig({ type: 'memory' }), { REDIS_URL: 'redis://cache:6379' }, '.')).toMatchObject({
      type: 'redis',
      shared: true,
    });
    expect(resolveStoreSettings(storeConfig({ type: 'memory' }), { REDIS_URL: '' }, '.')).toMatchObject({ type: 'memory', shared: false });
  });
});

describe('the store section comes from the list of backends', () => {
  it('type names each backend, the first is the default, and each backend adds its options', () => {
    const schema = storeSchema as { properties: Record<string, { enum?: string[] }>; default: unknown };
    expect(schema.properties.type?.enum).toEqual(['memory', 'redis']);
    expect(schema.default).toEqual({ type: 'memory' });
    expect(Object.keys(schema.properties)).toEqual(['type', ...Object.keys(memoryBackend.options), ...Object.keys(redisBackend.options)]);
  });

  it('refuses two backends that declare one option name', () => {
    const other = { ...memoryBackend, type: 'other' };
    expect(() => storeSectionSchema([memoryBackend, other] as never)).toThrow(
      'store option "max_counters" of backend "other" is already declared by backend "memory"',
    );
  });
});
