import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { jsonMembers, jsonObject, jsonString } from '../../src/engine/json-text.js';

/**
 * The hot path's JSON text (the 200 body, the call line) must be byte for byte what
 * JSON.stringify writes, whatever the values hold: quotes, backslashes, control characters,
 * non-ASCII, lone surrogates.
 */
const value = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', 'é', '\ud800', 'a', ' ') }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(undefined),
);

describe('json-text', () => {
  it('jsonObject and jsonMembers write what JSON.stringify writes, for any flat object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), value), (members) => {
        const expected = JSON.stringify(members);
        expect(jsonObject(members)).toBe(expected);
        expect(jsonMembers(members)).toBe(expected.slice(1, -1));
      }),
      { numRuns: 2000 },
    );
  });

  it('jsonString quotes plain text as it is and escapes the rest as JSON.stringify does', () => {
    expect(jsonString('till-001')).toBe('"till-001"');
    for (const s of ['a"b', 'a\\b', 'line\nbreak', '\u0000', 'Ünïcode', '\ud83d', '\u2028']) expect(jsonString(s)).toBe(JSON.stringify(s));
  });

  it('writes values of undeclared types as JSON.stringify does (null, arrays, objects; functions and symbols left out)', () => {
    const odd = { a: null, b: [1, 'x', null], c: { d: 'e"' }, f: () => 1, g: Symbol('s'), h: new Date(0) } as unknown as Record<
      string,
      string
    >;
    expect(jsonObject(odd)).toBe(JSON.stringify(odd));
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        (members) => void expect(jsonObject(members as Record<string, string>)).toBe(JSON.stringify(members)),
      ),
      {
        numRuns: 500,
      },
    );
  });

  it('leaves out undefined members and writes NaN and the infinities as null', () => {
    expect(jsonObject({ a: undefined, b: 'x', c: Number.NaN, d: -Infinity, e: -0, f: false })).toBe(
      '{"b":"x","c":null,"d":null,"e":0,"f":false}',
    );
    expect(jsonObject({})).toBe('{}');
  });
});
