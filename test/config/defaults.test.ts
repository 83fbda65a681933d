/**
 * Defaults live in the schemas only: the loader's Ajv writes them into the config before a
 * valve or a feature reads it. These tests change a default in a copy of a schema and see
 * the behaviour change, so a default repeated in code (`?? literal`) would make them fail.
 */
import { describe, expect, it } from '@jest/globals';
import inputValidate from '../../src/valves/input-validate.js';
import tokenMint from '../../src/valves/token-mint.js';
import type { ValveDefinition } from '../../src/engine/valve.js';
import { mainSchema } from '../../src/config/main-schema.js';
import { newAjv } from '../../src/engine/registry.js';
import { buildValve } from '../support/run-valve.js';

/** A copy of a valve whose schema has `default` at `path` replaced. */
function withDefault(valve: ValveDefinition<never>, path: string[], value: unknown): ValveDefinition<never> {
  const schema = structuredClone(valve.configSchema) as Record<string, unknown>;
  let node: Record<string, unknown> = schema;
  for (const key of path) node = node[key] as Record<string, unknown>;
  node.default = value;
  return { ...valve, configSchema: schema };
}

describe('schema defaults', () => {
  it('a valve reads its default from its schema (input-validate code)', async () => {
    const config = { properties: { pin: { required: true } } };
    const shipped = await buildValve(inputValidate as ValveDefinition<never>, config).call({ request: {} });
    expect(shipped.error?.code).toBe('INVALID_REQUEST');
    const changed = withDefault(inputValidate as ValveDefinition<never>, ['properties', 'code'], 'ACCESS_DENIED');
    const refused = await buildValve(changed, config).call({ request: {} });
    expect(refused.error?.code).toBe('ACCESS_DENIED');
  });

  it('a nested default applies inside a defaulted object (input-validate min_length)', async () => {
    const config = { properties: { pin: {} } };
    const changed = withDefault(
      inputValidate as ValveDefinition<never>,
      ['properties', 'properties', 'additionalProperties', 'properties', 'min_length'],
      4,
    );
    expect((await buildValve(inputValidate as ValveDefinition<never>, config).call({ request: { pin: '12' } })).error).toBeUndefined();
    expect((await buildValve(changed, config).call({ request: { pin: '12' } })).error?.code).toBe('INVALID_REQUEST');
  });

  it('a default that depends on another option lives in an if/then branch (token-mint ttl per kind)', () => {
    const validate = newAjv({ useDefaults: true }).compile(tokenMint.configSchema);
    const system: Record<string, unknown> = { kind: 'system' };
    const user: Record<string, unknown> = { kind: 'user' };
    expect(validate(system) && validate(user)).toBe(true);
    expect(system).toEqual(expect.objectContaining({ ttl: 600, sub: '{{item.sub}}' }));
    expect(system.family_lifetime).toBeUndefined();
    expect(user).toEqual(expect.objectContaining({ ttl: 1800, family_lifetime: 30 * 24 * 3600 }));
  });

  it('main-file sections default to {} so their own defaults always apply', () => {
    const validate = newAjv({ useDefaults: true }).compile(mainSchema);
    const main: Record<string, unknown> = {
      http_configuration: [{ id: 'h' }],
      modules: [
        {
          name: 'com.phenixidentity~phenix-api-authenticate',
          id: 'm',
          config: { http_configuration_ref: 'h', tenant: [{ id: 't', allowedOperation: [] }] },
        },
      ],
      pipes: 'pipes',
    };
    expect(validate(main)).toBe(true);
    expect(main).toEqual(
      expect.objectContaining({
        http_configuration: [expect.objectContaining({ host: '127.0.0.1', port: 8080, max_body_bytes: 16384, trusted_proxies: [] })],
        store: expect.objectContaining({ type: 'memory', command_timeout_ms: 500 }),
        metrics: expect.objectContaining({ enabled: true, clients: [] }),
        trace: expect.objectContaining({ enabled: false, output: 'log' }),
        log: { level: 'info' },
      }),
    );
  });
});
