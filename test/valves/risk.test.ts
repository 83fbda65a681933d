/**
 * risk: the facts it sets, the history its settle hooks keep (only a call that succeeded
 * records, a counted refusal adds a failure), its bounds and expiry on a clock the test moves.
 */
import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../support/clock.js';
import { compilePipes } from '../../src/engine/compile.js';
import { execute } from '../../src/engine/execute.js';
import { propsFrom } from '../../src/engine/props.js';
import type { Services } from '../../src/engine/services.js';
import { buildDirectory } from '../../src/directory/load.js';
import type { ConfigIssue } from '../../src/config-kit/issues.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';
import { networkOf } from '../../src/valves/risk.js';
import type { AuthpipeError } from '../../src/errors.js';

const DAY = 86_400_000;

/** A pipe of risk, then a refusal when the request asks for one (`outcome`: fail, deny). */
function build(config: Record<string, unknown> = {}) {
  const clock = new ManualClock();
  const issues: ConfigIssue[] = [];
  const directory = buildDirectory(
    {
      tenants: {
        acme: {
          users: [
            { id: 'u-1', username: 'alice' },
            { id: 'u-2', username: 'bob' },
          ],
        },
      },
    },
    'directory.json',
    issues,
  );
  const services = {
    clock,
    store: new MemoryStore(clock),
    logger: silentLogger(),
    configDir: process.cwd(),
    env: {},
    directory,
  } as Services;
  const step = (name: string, cfg: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    name,
    enabled: true,
    proceed_on_error: false,
    config: cfg,
    ...extra,
  });
  const { pipes } = compilePipes(
    [
      {
        file: 'risk-test.json',
        config: {
          id: 'risk-test',
          valves: [
            step('risk', { account: '{{request.username}}', account_by: 'username', ...config }),
            step('refuse', { code: 'INVALID_CREDENTIALS' }, { exec_if: { '==': [{ var: 'request.outcome' }, 'fail'] } }),
            step('refuse', { code: 'ACCESS_DENIED' }, { exec_if: { '==': [{ var: 'request.outcome' }, 'deny'] } }),
          ],
          response: [],
        },
      },
    ],
    createRegistry(),
    services,
    issues,
    [],
  );
  const pipe = pipes.get('risk-test');
  if (!pipe || issues.length > 0) throw new Error(issues.map((i) => i.message).join('; '));
  let n = 0;
  return {
    clock,
    async call(request: { username?: string; device_id?: string; outcome?: string }, clientIp = '192.0.2.10') {
      const outcome = await execute(
        pipe,
        {
          requestId: `r-${++n}`,
          tenant: { id: 'acme', displayName: 'acme' },
          operation: 'risk-test',
          body: propsFrom({ username: 'alice', ...request }),
          clientIp,
          headers: {},
        },
        services,
        services.logger,
      );
      const ctx = outcome.ctx;
      let error: AuthpipeError | undefined;
      if (!outcome.ok) {
        // A refusal or fault of a step; anything else is a bug of the test's own making.
        if (outcome.step === undefined) throw outcome.error;
        error = outcome.error;
      }
      return { error, facts: { ...ctx.item().props } };
    },
  };
}

describe('risk', () => {
  it('finds a first sign-in new on every count, and a repeat from the same device and network known', async () => {
    const risk = build();
    const first = await risk.call({ device_id: 'dev-a' });
    expect(first.facts).toEqual({ risk_new_device: 'true', risk_new_network: 'true', risk_failures: '0', risk_score: '70' });
    const again = await risk.call({ device_id: 'dev-a' }, '192.0.2.200');
    expect(again.facts).toEqual({ risk_new_device: 'false', risk_new_network: 'false', risk_failures: '0', risk_score: '0' });
    const other = await risk.call({ device_id: 'dev-b' }, '198.51.100.7');
    expect(other.facts).toMatchObject({ risk_new_device: 'true', risk_new_network: 'true' });
  });

  it('records nothing from a refused call, and keeps accounts apart', async () => {
    const risk = build();
    await risk.call({ device_id: 'dev-a', outcome: 'deny' });
    expect((await risk.call({ device_id: 'dev-a' })).facts.risk_new_device).toBe('true');
    expect((await risk.call({ device_id: 'dev-a' })).facts.risk_new_device).toBe('false');
    expect((await risk.call({ username: 'bob', device_id: 'dev-a' })).facts.risk_new_device).toBe('true');
  });

  it('counts failures of the last window, only for the codes it counts', async () => {
    const risk = build();
    await risk.call({ device_id: 'dev-a' });
    await risk.call({ device_id: 'dev-a', outcome: 'fail' });
    await risk.call({ device_id: 'dev-a', outcome: 'deny' });
    risk.clock.advance(30 * 60_000);
    await risk.call({ device_id: 'dev-a', outcome: 'fail' });
    const two = await risk.call({ device_id: 'dev-a' });
    expect(two.facts).toEqual({ risk_new_device: 'false', risk_new_network: 'false', risk_failures: '2', risk_score: '20' });
    risk.clock.advance(31 * 60_000);
    expect((await risk.call({ device_id: 'dev-a' })).facts.risk_failures).toBe('1');
    risk.clock.advance(30 * 60_000);
    expect((await risk.call({ device_id: 'dev-a' })).facts.risk_failures).toBe('0');
  });

  it('counts failures for a name no user has apart from every account, and never records its successes', async () => {
    const risk = build();
    await risk.call({ username: 'nobody', outcome: 'fail' });
    expect((await risk.call({ username: 'nobody', device_id: 'dev-a' })).facts.risk_failures).toBe('1');
    expect((await risk.call({ username: 'nobody', device_id: 'dev-a' })).facts.risk_new_device).toBe('true');
    expect((await risk.call({ device_id: 'dev-a' })).facts.risk_failures).toBe('0');
  });

  it('keeps only the newest max_devices devices and max_networks networks', async () => {
    const risk = build({ max_devices: 2, max_networks: 2 });
    for (const [device, ip] of [
      ['d1', '10.0.1.1'],
      ['d2', '10.0.2.1'],
      ['d3', '10.0.3.1'],
    ] as const) {
      await risk.call({ device_id: device }, ip);
      risk.clock.advance(1000);
    }
    expect((await risk.call({ device_id: 'd1' }, '10.0.1.1')).facts).toMatchObject({ risk_new_device: 'true', risk_new_network: 'true' });
    // That call recorded d1 again, pushing out d2, the least recently seen.
    expect((await risk.call({ device_id: 'd3' }, '10.0.3.9')).facts).toMatchObject({ risk_new_device: 'false', risk_new_network: 'false' });
    expect((await risk.call({ device_id: 'd2' }, '10.0.2.1')).facts).toMatchObject({ risk_new_device: 'true', risk_new_network: 'true' });
  });

  it('forgets a device and network not seen for history_days; a sign-in refreshes them', async () => {
    const risk = build({ history_days: 30 });
    await risk.call({ device_id: 'dev-a' });
    risk.clock.advance(29 * DAY);
    expect((await risk.call({ device_id: 'dev-a' })).facts.risk_new_device).toBe('false');
    risk.clock.advance(29 * DAY);
    expect((await risk.call({ device_id: 'dev-a' })).facts.risk_new_device).toBe('false');
    risk.clock.advance(31 * DAY);
    expect((await risk.call({ device_id: 'dev-a' })).facts).toMatchObject({ risk_new_device: 'true', risk_new_network: 'true' });
  });

  it('with record "known" refreshes what is known and adds nothing new', async () => {
    const known = build({ record: 'known' });
    await known.call({ device_id: 'dev-a' });
    expect((await known.call({ device_id: 'dev-a' })).facts.risk_new_device).toBe('true');
  });

  it('counts no device (empty) as new and records none', async () => {
    const risk = build();
    await risk.call({});
    expect((await risk.call({})).facts).toMatchObject({ risk_new_device: 'true', risk_new_network: 'false' });
  });

  it('takes the /24 of IPv4 and the /48 of IPv6', () => {
    expect(networkOf('192.0.2.77')).toBe('192.0.2.0/24');
    expect(networkOf('::ffff:192.0.2.77')).toBe('192.0.2.0/24');
    expect(networkOf('2001:db8:1:2::5')).toBe('2001:db8:1::/48');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(networkOf('::1')).toBe('0:0:0::/48');
    expect(networkOf('fe80::1%eth0')).toBe('fe80:0:0::/48');
    expect(networkOf('not an address')).toBe('');
    expect(networkOf('')).toBe('');
  });
});
