import { readFileSync } from 'node:fs';
import { ConfigFixture } from '../support/fixture.js';

/** The pipe of the timing tests: the demo till check without lockout, so every wrong guess is verified. */
export const NOLOCK_PIPE = 'till-login-nolock';

/** The demo config with its shipped hashes (their costs are what the timing tests measure) plus `till-login-nolock`, allowed for tenant demo. */
export function nolockDemoFixture(): ConfigFixture {
  const fixture = ConfigFixture.fromDemo({ hashes: 'shipped' });
  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  main.modules[0].config.tenant[0].allowedOperation.push(NOLOCK_PIPE);
  fixture.writeMain(main);
  fixture.writePipe(NOLOCK_PIPE, {
    valves: [{ name: 'basic-auth', config: { kind: 'till', lockout: { enabled: false } } }],
    response: ['sub'],
  });
  return fixture;
}
