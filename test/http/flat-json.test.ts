import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseFlatJson } from '../../src/http/flat-json.js';

const limits = { maxProperties: 1000, maxValueLength: 100_000, reserved: new Set(['client_ip']) };
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype', 'client_ip']);

// Keys the parser accepts: non-empty, at most 128 UTF-16 units, not forbidden or reserved.
const key = fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter((k) => !FORBIDDEN.has(k));
const flatObject = fc.dictionary(key, fc.string({ maxLength: 50, unit: 'grapheme' }), { maxKeys: 20 });

describe('parseFlatJson', () => {
  it('reads back every flat object of strings JSON.stringify writes, with any spacing', () => {
    fc.assert(
      fc.property(flatObject, fc.constantFrom(undefined, 2, '\t'), (object, space) => {
        const result = parseFlatJson(JSON.stringify(object, null, space), limits);
        expect(result.ok).toBe(true);
        if (result.ok) expect({ ...result.props }).toEqual(object);
      }),
    );
  });

  it('never accepts a document JSON.parse would read as something other than a flat object of strings', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        const result = parseFlatJson(text, limits);
        const isFlat =
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          Object.entries(value).every(([k, v]) => typeof v === 'string' && !FORBIDDEN.has(k) && k.length > 0 && k.length <= 128);
        if (!isFlat) expect(result.ok).toBe(false);
        else if (result.ok) expect({ ...result.props }).toEqual(JSON.parse(text));
      }),
    );
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        expect(() => parseFlatJson(text, limits)).not.toThrow();
        const result = parseFlatJson(text, limits);
        if (result.ok) expect(() => JSON.parse(text)).not.toThrow();
      }),
    );
  });

  it('returns null-prototype objects', () => {
    const result = parseFlatJson('{"a":"b"}', limits);
    expect(result.ok && Object.getPrototypeOf(result.props)).toBeNull();
  });

  it.each([
    ['{"a":"b","a":"c"}', 'duplicate_key', 'a'],
    ['{"a":{"b":"c"}}', 'nested', 'a'],
    ['{"a":["b"]}', 'nested', 'a'],
    ['{"a":1}', 'not_a_string', 'a'],
    ['{"a":true}', 'not_a_string', 'a'],
    ['{"a":null}', 'not_a_string', 'a'],
    ['{"__proto__":"x"}', 'forbidden_key', '__proto__'],
    ['{"":"x"}', 'bad_key', ''],
    ['{"client_ip":"x"}', 'bad_key', 'client_ip'],
    ['[]', 'not_an_object', undefined],
    ['"a"', 'not_an_object', undefined],
    ['{"a":"b",}', 'malformed', undefined],
    ['{"a":"\u0001"}', 'malformed', undefined],
    ['{"a":"\\x"}', 'malformed', undefined],
  ])('%s is refused as %s', (text, problem, property) => {
    const result = parseFlatJson(text, limits);
    expect(result).toEqual(property === undefined ? { ok: false, problem } : { ok: false, problem, property });
  });

  it('bounds the number of properties and the length of values', () => {
    expect(parseFlatJson('{"a":"1","b":"2","c":"3"}', { maxProperties: 2, maxValueLength: 10 })).toEqual({
      ok: false,
      problem: 'too_many_properties',
    });
    expect(parseFlatJson('{"a":"12345"}', { maxProperties: 2, maxValueLength: 4 })).toEqual({
      ok: false,
      problem: 'value_too_long',
      property: 'a',
    });
  });
});
