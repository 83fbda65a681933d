import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { AndFilter, EqualityFilter, FilterParser } from 'ldapts';
import { escapeFilterValue } from '../../src/idp/ldap-filter.js';

/** What the server would receive: the assertion value of `(uid=<escaped>)` after parsing. */
function assertedValue(value: string): string {
  const filter = FilterParser.parseString(`(&(objectClass=person)(uid=${escapeFilterValue(value)}))`);
  expect(filter).toBeInstanceOf(AndFilter);
  const clauses = (filter as AndFilter).filters;
  expect(clauses).toHaveLength(2);
  expect(clauses[1]).toBeInstanceOf(EqualityFilter);
  return (clauses[1] as EqualityFilter).value as string;
}

describe('escapeFilterValue (RFC 4515)', () => {
  it.each([
    ['*', '\\2a'],
    ['(', '\\28'],
    [')', '\\29'],
    ['\\', '\\5c'],
    ['\0', '\\00'],
    ['al*', 'al\\2a'],
    ['*)(uid=*', '\\2a\\29\\28uid=\\2a'],
    ['alice)(|(uid=*', 'alice\\29\\28|\\28uid=\\2a'],
    ['back\\5cslash', 'back\\5c5cslash'],
  ])('escapes %j as %j', (raw, escaped) => {
    expect(escapeFilterValue(raw)).toBe(escaped);
  });

  it('leaves ordinary text and UTF-8 alone', () => {
    expect(escapeFilterValue('Åsa Öberg-Ünal_1.x@example.org')).toBe('Åsa Öberg-Ünal_1.x@example.org');
  });

  it('keeps an injection attempt inside one equality assertion, byte for byte', () => {
    for (const attack of ['*', 'al*', '*)(uid=*', 'alice)(|(objectClass=*))', 'x\\', '\\2a', 'a\0b', ')', '(']) {
      expect(assertedValue(attack)).toBe(attack);
    }
  });

  it('handles a 1,000-character username', () => {
    const long = 'a'.repeat(500) + '*()\\\0'.repeat(100);
    expect(assertedValue(long)).toBe(long);
  });

  it('round-trips any string to the same single equality assertion', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 200 }), (value) => {
        expect(assertedValue(value)).toBe(value);
      }),
      { numRuns: 500 },
    );
  });
});
