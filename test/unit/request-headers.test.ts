import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { headersByName, headerValues } from '../../src/engine/headers.js';

describe('request headers from raw header lines', () => {
  const lines = [
    'Host',
    'example.test',
    'TENANT',
    'demo',
    'authorization',
    'Basic a',
    'Authorization',
    'Basic b',
    'content-type',
    'application/json',
  ];

  it('finds a header whatever case it was sent in, every value in order', () => {
    expect(headerValues(lines, 'tenant')).toEqual(['demo']);
    expect(headerValues(lines, 'authorization')).toEqual(['Basic a', 'Basic b']);
    expect(headerValues(lines, 'x-missing')).toBeUndefined();
    expect(headerValues([], 'tenant')).toBeUndefined();
  });

  it('builds the whole set by lower-case name on a null prototype', () => {
    const all = headersByName([...lines, '__proto__', 'x', 'constructor', 'y']);
    expect(Object.getPrototypeOf(all)).toBeNull();
    expect(all.host).toEqual(['example.test']);
    expect(all.authorization).toEqual(['Basic a', 'Basic b']);
    expect(all['__proto__']).toEqual(['x']);
    expect(all.constructor).toEqual(['y']);
  });

  it('agrees with the whole set for any lines', () => {
    const name = fc.constantFrom('tenant', 'Tenant', 'TENANT', 'authorization', 'Content-Type', 'content-type', 'x-a');
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.string()), { maxLength: 12 }), (pairs) => {
        const raw = pairs.flat();
        const all = headersByName(raw);
        for (const wanted of ['tenant', 'authorization', 'content-type', 'x-a', 'x-b'])
          expect(headerValues(raw, wanted)).toEqual(Object.hasOwn(all, wanted) ? all[wanted] : undefined);
      }),
    );
  });
});
