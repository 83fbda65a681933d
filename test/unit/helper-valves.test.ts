/** The helper valves run directly (test/support/run-valve.ts): no HTTP, no config files. */
import { describe, expect, it } from '@jest/globals';
import type { ValveDefinition } from '../../src/engine/valve.js';
import refuse from '../../src/valves/refuse.js';
import inputValidate from '../../src/valves/input-validate.js';
import propertyCopy from '../../src/valves/property-copy.js';
import propertyRemove from '../../src/valves/property-remove.js';
import propertySet from '../../src/valves/property-set.js';
import rateLimit from '../../src/valves/rate-limit.js';
import { buildValve, valveIssues } from '../support/run-valve.js';

const valve = (definition: unknown) => definition as ValveDefinition<never>;

describe('property-set', () => {
  it('renders templates onto the item, or the session', async () => {
    const onItem = await buildValve(valve(propertySet), { properties: { greeting: 'hi {{request.name}}' } }).call({
      request: { name: 'ann' },
    });
    expect(onItem.item).toEqual({ greeting: 'hi ann' });
    const onSession = await buildValve(valve(propertySet), { properties: { seen: '1' }, target: 'session' }).call();
    expect([onSession.item, onSession.session]).toEqual([{}, { seen: '1' }]);
  });

  it('a broken template is a load issue at its pointer', () => {
    expect(valveIssues(valve(propertySet), { properties: { a: '{{request.' } }).map((i) => i.pointer)).toEqual([
      '/valves/0/config/properties/a',
    ]);
  });
});

describe('property-copy', () => {
  it('copies listed properties from the request (default) to the item, skipping absent ones', async () => {
    const { item } = await buildValve(valve(propertyCopy), { properties: ['a', 'missing'] }).call({ request: { a: '1', b: '2' } });
    expect(item).toEqual({ a: '1' });
  });

  it('renames with a map and copies between item and session', async () => {
    const { session } = await buildValve(valve(propertyCopy), { from: 'item', to: 'session', properties: { target: 'source' } }).call({
      item: { source: 'v' },
    });
    expect(session).toEqual({ target: 'v' });
  });
});

describe('property-remove', () => {
  it('removes properties from the item', async () => {
    const { item } = await buildValve(valve(propertyRemove), { properties: ['secret'] }).call({ item: { secret: 's', keep: 'k' } });
    expect(item).toEqual({ keep: 'k' });
  });
});

describe('refuse', () => {
  it('refuses with its code and erroneous properties', async () => {
    const { error } = await buildValve(valve(refuse), { code: 'ACCESS_DENIED', erroneous_properties: ['x'] }).call();
    expect([error?.code, error?.status, error?.erroneousProperties]).toEqual(['ACCESS_DENIED', 403, ['x']]);
  });

  it('takes refusal codes only: a fault code is a load issue', () => {
    expect(valveIssues(valve(refuse), { code: 'INTERNAL_ERROR' }).map((i) => [i.pointer, i.code])).toEqual([
      ['/valves/0/config/code', 'CONFIG_SCHEMA'],
    ]);
  });
});

describe('input-validate', () => {
  const config = { properties: { pin: { required: true, min_length: 4, max_length: 6, pattern: '^[0-9]+$' }, note: {} }, strict: true };

  it('passes a valid request', async () => {
    expect((await buildValve(valve(inputValidate), config).call({ request: { pin: '1234', note: 'x' } })).error).toBeUndefined();
  });

  it('names every bad property at once; strict refuses unlisted ones', async () => {
    const missing = await buildValve(valve(inputValidate), config).call({ request: {} });
    expect([missing.error?.code, missing.error?.erroneousProperties]).toEqual(['INVALID_REQUEST', ['pin']]);
    const short = await buildValve(valve(inputValidate), config).call({ request: { pin: '12a' } });
    expect(short.error?.erroneousProperties).toEqual(['pin']);
    const extra = await buildValve(valve(inputValidate), config).call({ request: { pin: '1234', other: 'x' } });
    expect(extra.error?.erroneousProperties).toEqual(['other']);
  });

  it('an invalid regular expression is a load issue at its pointer', () => {
    expect(valveIssues(valve(inputValidate), { properties: { a: { pattern: '(' } } }).map((i) => i.pointer)).toEqual([
      '/valves/0/config/properties/a/pattern',
    ]);
  });
});

describe('rate-limit', () => {
  it('refuses past the limit with Retry-After, per key, and counts again after the window (manual clock)', async () => {
    const built = buildValve(valve(rateLimit), { key: '{{request.ip}}', limit: 2, window_seconds: 60 });
    const a = { request: { ip: 'a' } };
    expect((await built.call(a)).error).toBeUndefined();
    expect((await built.call(a)).error).toBeUndefined();
    const third = await built.call(a);
    expect([third.error?.code, third.error?.headers['retry-after']]).toEqual(['RATE_LIMITED', '60']);
    expect((await built.call({ request: { ip: 'b' } })).error).toBeUndefined();
    built.clock.advance(60_000);
    expect((await built.call(a)).error).toBeUndefined();
  });
});
