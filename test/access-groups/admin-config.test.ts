import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { adminCall, adminToken, editJson } from './support.js';

/** The admin API when its files are not there to write, or were broken by hand on disk. */

let fixture: ConfigFixture;
let server: RunningServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  fixture.cleanup();
});

describe('admin API and its files', () => {
  it('no access_groups file in the main config: built-ins are listed, writes are 409 NOT_CONFIGURED', async () => {
    fixture = ConfigFixture.fromDemo();
    editJson(fixture, 'config/authpipe.json', (main) => {
      delete main.access_groups;
    });
    server = await startServer({ configFile: fixture.mainFile });
    const token = await adminToken(server);
    const listed = await adminCall(server, 'GET', '', { token });
    expect(listed.body).toMatchObject({ default: null });
    expect(listed.body.groups.map((g: { id: string }) => g.id)).toEqual(['POS', 'Instore', 'Admin']);
    const res = await adminCall(server, 'POST', '', { token, body: { name: 'Anything' } });
    expect(res.status).toBe(409);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'NOT_CONFIGURED']);
  });

  it('a file broken by hand on disk (not yet reloaded): writes are refused, nothing is written', async () => {
    fixture = ConfigFixture.fromDemo();
    server = await startServer({ configFile: fixture.mainFile });
    const token = await adminToken(server);
    const file = join(fixture.dir, 'config', 'access-groups.json');
    const etag = (await adminCall(server, 'GET', '/wechat', { token })).headers.get('etag') as string;
    for (const broken of ['{ "tenants": ', JSON.stringify({ tenants: { demo: { default: 'ghost' } } })]) {
      writeFileSync(file, broken);
      const res = await adminCall(server, 'PATCH', '/wechat', { token, ifMatch: etag, body: { description: 'x' } });
      expect(res.status).toBe(409);
      expect(res.body.errorTranslationKeys).toEqual(['INVALID_REQUEST', 'CONFIG_INVALID']);
      expect(readFileSync(file, 'utf8')).toBe(broken);
    }
    // The running config is untouched: reads still show what is in effect.
    expect((await adminCall(server, 'GET', '/wechat', { token })).body.name).toBe('WeChat');
  });
});
