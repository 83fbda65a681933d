import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';
import { RESOURCES } from '../../src/access-groups/resources.js';
import { ConfigFixture } from '../support/fixture.js';

/**
 * config/access-groups.json is checked at load like every config file: a problem names the
 * file, the JSON pointer and what was expected, and the load is refused as a whole.
 */
const store = new MemoryStore(systemClock);
const registry = createRegistry();
let fixture: ConfigFixture;

afterEach(() => fixture?.cleanup());

function load(): LoadedConfig {
  return loadConfig(fixture.mainFile, { registry, runtime: () => ({ store, clock: systemClock, logger: silentLogger() }) });
}

function issuesOf(): ConfigIssue[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error('expected the load to fail');
}

const group = (over: Record<string, unknown> = {}) => ({
  id: 'kiosk',
  name: 'Kiosk',
  status: 'active',
  permissions: { data: { customer: 'read' } },
  ...over,
});

function withGroups(tenants: Record<string, unknown>): void {
  fixture = ConfigFixture.fromDemo();
  fixture.write('config/access-groups.json', { tenants });
}

function editDirectory(edit: (dir: any) => void): void {
  const path = join(fixture.dir, 'config', 'directory.json');
  const dir = JSON.parse(readFileSync(path, 'utf8'));
  edit(dir);
  fixture.write('config/directory.json', dir);
}

describe('built-in groups and scope strings', () => {
  it("every tenant has POS, Instore and Admin with the issue's permissions, write implying read", () => {
    fixture = ConfigFixture.fromDemo();
    const groups = load().services.accessGroups!;
    for (const tenant of ['demo', 'acme', 'not-even-configured']) {
      expect(
        groups
          .groups(tenant)
          .slice(0, 3)
          .map((g) => [g.id, g.builtIn, g.status]),
      ).toEqual([
        ['POS', true, 'active'],
        ['Instore', true, 'active'],
        ['Admin', true, 'active'],
      ]);
    }
    expect(groups.group('demo', 'POS')?.scope).toBe(
      'data:customer:write data:customer:read data:transaction:write data:transaction:read data:points:write data:points:read data:coupon:read',
    );
    expect(groups.group('demo', 'Instore')?.scope).toBe('data:customer:write data:customer:read');
    const admin = groups.group('acme', 'Admin')!;
    const everything = (['data', 'config'] as const).flatMap((api) =>
      RESOURCES[api].flatMap((r) => [`${api}:${r}:write`, `${api}:${r}:read`]),
    );
    expect(admin.scope.split(' ')).toEqual(everything);
    expect(admin.rank('config', 'store')).toBe(2);
    expect(groups.group('demo', 'POS')?.rank('config', 'store')).toBe(0);
    expect(groups.group('demo', 'POS')?.rank('data', 'coupon')).toBe(1);
  });

  it('loads the demo: a custom group and a default per tenant', () => {
    fixture = ConfigFixture.fromDemo();
    const groups = load().services.accessGroups!;
    expect(groups.group('demo', 'wechat')?.scope).toBe('data:customer:read data:points:read data:coupon:write data:coupon:read');
    expect(groups.defaultGroup('demo')?.id).toBe('Instore');
    expect(groups.defaultGroup('acme')?.id).toBe('POS');
    expect(groups.group('acme', 'wechat')).toBeUndefined();
  });

  it('an inactive group has an empty scope and ranks nothing', () => {
    withGroups({ demo: { groups: [group({ status: 'inactive', permissions: { data: { customer: 'write' } } })] } });
    const kiosk = load().services.accessGroups!.group('demo', 'kiosk')!;
    expect(kiosk.scope).toBe('');
    expect(kiosk.rank('data', 'customer')).toBe(0);
    expect(kiosk.permissions.data.customer).toBe('write');
  });
});

describe('load issues', () => {
  it('a permission on a resource or API that does not exist', () => {
    withGroups({ demo: { groups: [group({ permissions: { data: { customers: 'write' }, graph: { node: 'read' } } })] } });
    const issues = issuesOf();
    expect(issues.map((i) => [i.file.endsWith('config/access-groups.json'), i.pointer, i.message])).toEqual(
      expect.arrayContaining([
        [true, '/tenants/demo/groups/0/permissions/data', 'unknown property "customers"'],
        [true, '/tenants/demo/groups/0/permissions', 'unknown property "graph"'],
      ]),
    );
  });

  it('a level other than none, read or write', () => {
    withGroups({ demo: { groups: [group({ permissions: { data: { customer: 'admin' } } })] } });
    expect(issuesOf().map((i) => i.pointer)).toEqual(['/tenants/demo/groups/0/permissions/data/customer']);
  });

  it('names and ids are unique per tenant ignoring case, built-ins included', () => {
    withGroups({
      demo: {
        groups: [
          group({ id: 'pos', name: 'Other' }),
          group({ id: 'a', name: 'admin' }),
          group({ id: 'b', name: 'Same' }),
          group({ id: 'B', name: 'same' }),
        ],
      },
    });
    const issues = issuesOf();
    expect(issues.map((i) => i.pointer).sort()).toEqual([
      '/tenants/demo/groups/0/id',
      '/tenants/demo/groups/1/name',
      '/tenants/demo/groups/3/id',
      '/tenants/demo/groups/3/name',
    ]);
    expect(issues.find((i) => i.pointer === '/tenants/demo/groups/0/id')?.message).toMatch(/built-in group POS/);
  });

  it('the same custom id in two tenants is fine', () => {
    withGroups({ demo: { groups: [group()] }, acme: { groups: [group()] } });
    expect(load().services.accessGroups?.group('acme', 'kiosk')?.name).toBe('Kiosk');
  });

  it('a default that does not exist, or is inactive', () => {
    withGroups({ demo: { default: 'nope', groups: [] }, acme: { default: 'kiosk', groups: [group({ status: 'inactive' })] } });
    const issues = issuesOf();
    expect(issues.map((i) => [i.pointer, i.message.split(';')[0]])).toEqual([
      ['/tenants/demo/default', 'default group "nope" does not exist'],
      ['/tenants/acme/default', 'default group "kiosk" is inactive'],
    ]);
  });

  it('a tenant the main file does not configure', () => {
    withGroups({ ghost: { groups: [] } });
    expect(issuesOf().map((i) => [i.pointer, /not configured/.test(i.message)])).toEqual([['/tenants/ghost', true]]);
  });

  it('a directory entry naming a group that does not exist, with its pointer in the directory', () => {
    fixture = ConfigFixture.fromDemo();
    editDirectory((dir) => {
      dir.tenants.demo.stores[1].access_group = 'WeChat';
      dir.tenants.demo.clients[0].access_group = 'ghost';
      dir.tenants.demo.users[1].access_group = 'pos';
    });
    const issues = issuesOf();
    expect(issues.map((i) => [i.file.endsWith('config/directory.json'), i.pointer])).toEqual([
      [true, '/tenants/demo/stores/1/access_group'],
      [true, '/tenants/demo/clients/0/access_group'],
      [true, '/tenants/demo/users/1/access_group'],
    ]);
    expect(issues[0]?.message).toMatch(/"WeChat" does not exist in tenant "demo"; expected one of: POS, Instore, Admin, wechat/);
  });

  it('a file that is not JSON names its line', () => {
    fixture = ConfigFixture.fromDemo();
    fixture.write('config/access-groups.json', '{ "tenants": { "demo": { "groups": [ } } }');
    const issues = issuesOf();
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toMatch(/invalid JSON at line 1/);
  });
});
