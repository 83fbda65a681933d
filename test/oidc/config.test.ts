/** Load errors of the front door's configuration name the file and the JSON pointer. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { silentLogger } from '../../src/logger.js';
import { ConfigFixture } from '../support/fixture.js';

const fixtures: ConfigFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

function demoWith(edit: (main: any, directory: any) => void): ConfigFixture {
  const f = ConfigFixture.fromDemo();
  fixtures.push(f);
  const main = JSON.parse(readFileSync(f.mainFile, 'utf8'));
  const directoryFile = join(f.dir, 'config', 'directory.json');
  const directory = JSON.parse(readFileSync(directoryFile, 'utf8'));
  edit(main, directory);
  f.writeMain(main);
  f.write('config/directory.json', directory);
  return f;
}

async function issuesOf(f: ConfigFixture): Promise<ConfigIssue[]> {
  try {
    const app = createApp({ configFile: f.mainFile, logger: silentLogger(), auditStream: { write() {} } });
    await app.close();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error('the config loaded');
}

const client = (directory: any, id: string) => directory.tenants.demo.clients.find((c: { client_id: string }) => c.client_id === id);

describe('oidc configuration', () => {
  it('refuses a login step without a pipe, a reserved field and a doubled field', async () => {
    const issues = await issuesOf(
      demoWith((main) => {
        const steps = main.oidc.tenants.demo.pools.partners.steps;
        steps[1].start = 'no-such-pipe';
        steps[0].fields.push({ name: 'tenant' }, { name: 'username' });
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: expect.stringContaining('authpipe.json'),
          pointer: '/oidc/tenants/demo/pools/partners/steps/1/start',
        }),
        expect.objectContaining({ pointer: '/oidc/tenants/demo/pools/partners/steps/0/fields/2/name' }),
        expect.objectContaining({ pointer: '/oidc/tenants/demo/pools/partners/steps/0/fields/3/name' }),
      ]),
    );
  });

  it('refuses a skip_if on the first step, with a forbidden operator, or reading anything but answers', async () => {
    let added = -1;
    const issues = await issuesOf(
      demoWith((main) => {
        const pools = main.oidc.tenants.demo.pools;
        pools.partners.steps[0].skip_if = { '==': [{ var: 'answers.step_up' }, 'false'] };
        pools.partners.steps[1].skip_if = { method: [{ var: 'answers.step_up' }, 'toString'] };
        added =
          pools.shoppers.steps.push({ ...pools.partners.steps[1], skip_if: { '==': [{ var: 'request.client_ip' }, '127.0.0.1'] } }) - 1;
        pools.staff.steps[0].fields.push({ name: 'device_id' });
      }),
    );
    const at = (pool: string, step: number, rest = 'skip_if') => `/oidc/tenants/demo/pools/${pool}/steps/${step}/${rest}`;
    const found = issues.filter((i) => i.pointer.includes('skip_if') || i.pointer.includes('/staff/'));
    expect(found).toHaveLength(4);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'CONFIG_INVALID', pointer: at('partners', 0) }),
        expect.objectContaining({ code: 'CONFIG_INVALID', pointer: at('partners', 1) }),
        expect.objectContaining({ code: 'CONFIG_INVALID', pointer: at('shoppers', added) }),
        expect.objectContaining({ code: 'CONFIG_INVALID', pointer: at('staff', 0, 'fields/2/name') }),
      ]),
    );
  });

  it('refuses a userapp whose pool is not defined, and an unknown tenant', async () => {
    const issues = await issuesOf(
      demoWith((main, directory) => {
        client(directory, 'shop-app').pool = 'nobody';
        main.oidc.tenants.ghost = {};
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pointer: '/oidc/tenants/demo/pools', message: expect.stringContaining('shop-app') }),
        expect.objectContaining({ pointer: '/oidc/tenants/ghost' }),
      ]),
    );
  });

  it('refuses clients whose type does not fit their members', async () => {
    const issues = await issuesOf(
      demoWith((_main, directory) => {
        client(directory, 'pos-server-1').redirect_uris = ['http://localhost:9/cb'];
        client(directory, 'shop-web').require_pkce = false;
        delete client(directory, 'partner-portal').redirect_uris;
      }),
    );
    const at = (p: string) => expect.objectContaining({ file: expect.stringContaining('directory.json'), pointer: p });
    const clients = '/tenants/demo/clients';
    expect(issues).toEqual(expect.arrayContaining([at(`${clients}/0/redirect_uris`), at(`${clients}/2/require_pkce`), at(`${clients}/4`)]));
  });

  it('refuses a redirect URI with a fragment, at its pointer', async () => {
    let index = -1;
    const issues = await issuesOf(
      demoWith(
        (_main, directory) =>
          (index =
            directory.tenants.demo.clients.push({
              client_id: 'frag',
              type: 'userapp',
              redirect_uris: ['https://x.example/cb#frag'],
              pool: 'shoppers',
            }) - 1),
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        file: expect.stringContaining('directory.json'),
        pointer: `/tenants/demo/clients/${index}/redirect_uris/0`,
      }),
    ]);
  });

  it('refuses an off-site logo or stylesheet, a colour that is not one, and a missing asset, each at its pointer', async () => {
    const colour = await issuesOf(
      demoWith((main) => (main.oidc.tenants.demo.pools.shoppers.branding = { colors: { accent: 'red;} body{display:none' } })),
    );
    const at = (code: string, pointer: string) =>
      expect.objectContaining({ code, pointer, file: expect.stringContaining('authpipe.json') });
    expect(colour).toEqual([at('CONFIG_SCHEMA', '/oidc/tenants/demo/pools/shoppers/branding/colors/accent')]);
    // The schema stops the load before the URLs are checked: fix the colour, then see them.
    const urls = await issuesOf(
      demoWith((main) => {
        main.oidc.public_url = 'https://login.example.com';
        main.oidc.tenants.demo.branding = { logo: 'https://cdn.example.net/logo.svg', stylesheet: '//evil.example/x.css' };
        main.oidc.tenants.demo.pools.shoppers.branding = {
          logo: '/oidc/demo/assets/missing.svg',
          stylesheet: 'https://login.example.com/brand.css',
          colors: { accent: 'oklch(50% 0.2 250)', background: '#fafafa' },
        };
        main.oidc.tenants.demo.pools.partners.branding = { logo: 'javascript:alert(1)' };
      }),
    );
    expect(urls).toEqual([
      at('CONFIG_INVALID', '/oidc/tenants/demo/branding/logo'),
      at('CONFIG_INVALID', '/oidc/tenants/demo/branding/stylesheet'),
      at('CONFIG_REFERENCE', '/oidc/tenants/demo/pools/shoppers/branding/logo'),
      at('CONFIG_INVALID', '/oidc/tenants/demo/pools/partners/branding/logo'),
    ]);
  });

  it('refuses a templates folder that is not there, and a template that does not parse, at templates_dir', async () => {
    const missing = await issuesOf(demoWith((main) => (main.oidc.templates_dir = 'no-such-folder')));
    expect(missing).toEqual([expect.objectContaining({ code: 'CONFIG_READ', pointer: '/oidc/templates_dir' })]);
    const broken = demoWith((main) => (main.oidc.templates_dir = 'login-look'));
    broken.write('config/login-look/form.html', '<form>{{#fields}}<input name="{{name}}"></form>');
    expect(await issuesOf(broken)).toEqual([
      expect.objectContaining({ code: 'CONFIG_INVALID', pointer: '/oidc/templates_dir', message: expect.stringContaining('form.html') }),
    ]);
  });

  it('refuses alternatives of a step: a way listed twice, a way without its pipe, a reserved or doubled field', async () => {
    const issues = await issuesOf(
      demoWith((main) => {
        const step = main.oidc.tenants.demo.pools.partners.steps[1];
        step.alternatives.push(
          { id: 'app', choice: 'Again', operation: 'login-app-verify', fields: [{ name: 'otp' }] },
          {
            id: 'mail',
            choice: 'E-mail',
            operation: 'no-such-pipe',
            start: 'no-such-start',
            fields: [{ name: 'way' }, { name: 'x' }, { name: 'x' }],
          },
        );
      }),
    );
    const at = '/oidc/tenants/demo/pools/partners/steps/1/alternatives';
    expect(issues.map((i) => [i.code, i.pointer])).toEqual(
      expect.arrayContaining([
        ['CONFIG_INVALID', `${at}/1/id`],
        ['CONFIG_REFERENCE', `${at}/2/operation`],
        ['CONFIG_REFERENCE', `${at}/2/start`],
        ['CONFIG_INVALID', `${at}/2/fields/0/name`],
        ['CONFIG_INVALID', `${at}/2/fields/2/name`],
      ]),
    );
    expect(issues.every((i) => i.file.endsWith('authpipe.json'))).toBe(true);
  });

  it('refuses a way named "default", a way without its choice text, and remember_me beyond 400 days, at their pointers', async () => {
    const issues = await issuesOf(
      demoWith((main) => {
        const pools = main.oidc.tenants.demo.pools;
        pools.partners.steps[1].alternatives.push(
          { id: 'default', choice: 'Mine', operation: 'login-app-verify', fields: [{ name: 'otp' }] },
          { id: 'plain', operation: 'login-app-verify', fields: [{ name: 'otp' }] },
        );
        pools.shoppers.remember_me = { enabled: true, session_ttl: 401 * 86400 };
      }),
    );
    const pointers = issues.map((i) => i.pointer);
    expect(pointers).toEqual(
      expect.arrayContaining([
        '/oidc/tenants/demo/pools/partners/steps/1/alternatives/1/id',
        '/oidc/tenants/demo/pools/partners/steps/1/alternatives/2',
        '/oidc/tenants/demo/pools/shoppers/remember_me/session_ttl',
      ]),
    );
  });
});
