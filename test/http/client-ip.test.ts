import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';

/** X-Forwarded-For is honoured only from configured proxies, read from the right. */
const whoami = { valves: [{ name: 'property-copy', config: { properties: ['client_ip'] } }], response: ['client_ip'] };

let fixture: ConfigFixture | undefined;
let server: RunningServer | undefined;

async function serverWith(trusted: string[]): Promise<RunningServer> {
  fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['whoami'] }], { whoami });
  const main = {
    http_configuration: [{ id: 'http', host: '127.0.0.1', port: 0, trusted_proxies: trusted }],
    modules: [
      {
        name: 'com.phenixidentity~phenix-api-authenticate',
        id: 'api',
        config: { http_configuration_ref: 'http', tenant: [{ id: 'demo', allowedOperation: ['whoami'] }] },
      },
    ],
    pipes: '../pipes',
    log: { level: 'silent' },
  };
  fixture.writeMain(main);
  server = await startServer({ configFile: fixture.mainFile });
  return server;
}

afterEach(async () => {
  await server?.close();
  fixture?.cleanup();
});

describe('client address', () => {
  it('ignores X-Forwarded-For when no proxy is trusted', async () => {
    const s = await serverWith([]);
    const res = await s.call('whoami', {}, { 'x-forwarded-for': '203.0.113.9' });
    expect(res.body).toEqual({ client_ip: '127.0.0.1' });
  });

  it('takes the first untrusted hop from the right when the peer is a trusted proxy', async () => {
    const s = await serverWith(['127.0.0.0/8', '10.0.0.0/8']);
    const res = await s.call('whoami', {}, { 'x-forwarded-for': '198.51.100.1, 203.0.113.9, 10.1.2.3' });
    expect(res.body).toEqual({ client_ip: '203.0.113.9' });
  });

  it('does not let a caller prepend its own word in front of the proxy', async () => {
    const s = await serverWith(['127.0.0.1']);
    const res = await s.call('whoami', {}, { 'x-forwarded-for': '1.1.1.1, 203.0.113.9' });
    expect(res.body).toEqual({ client_ip: '203.0.113.9' });
  });

  it('stops at a garbled hop and keeps what is trustworthy', async () => {
    const s = await serverWith(['127.0.0.1']);
    const res = await s.call('whoami', {}, { 'x-forwarded-for': '203.0.113.9, not-an-ip' });
    expect(res.body).toEqual({ client_ip: '127.0.0.1' });
  });
});
