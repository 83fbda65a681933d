import { describe, expect, it } from '@jest/globals';
import { defaultsOf } from '../../src/config-kit/schema-defaults.js';
import { DEFAULT_LOCKOUT, LOCKOUT_PROPERTIES } from '../../src/credentials/lockout.js';
import { newAjv } from '../../src/engine/registry.js';
import { IDP_LOCKOUT_DEFAULTS, idpLockoutSchema } from '../../src/idp/source.js';

/**
 * defaultsOf builds a section from its schema's defaults, as the loader (Ajv with
 * useDefaults) fills them into `{}`: a valve that switches a section on by itself gets the
 * same options as one whose config wrote `{}`.
 */
const filledByLoader = (schema: object) => {
  const value = {};
  newAjv({ useDefaults: true }).compile(schema)(value);
  return value;
};

describe('defaultsOf', () => {
  it('takes every default and leaves out the options without one', () => {
    const properties = { a: { type: 'integer', default: 3 }, b: { type: 'string' }, c: { type: 'array', default: ['x'] } } as const;
    expect(defaultsOf(properties)).toEqual({ a: 3, c: ['x'] });
  });

  it('copies an object default, so a change to the section leaves the schema alone', () => {
    const properties = { list: { type: 'array', default: ['x'] } } as const;
    const section = defaultsOf(properties) as unknown as { list: string[] };
    section.list.push('y');
    expect(properties.list.default).toEqual(['x']);
  });

  it('gives the lockout sections exactly what the loader fills into {}', () => {
    expect(defaultsOf(LOCKOUT_PROPERTIES)).toEqual(filledByLoader({ type: 'object', properties: LOCKOUT_PROPERTIES }));
    expect(IDP_LOCKOUT_DEFAULTS).toEqual(filledByLoader(idpLockoutSchema));
    expect(DEFAULT_LOCKOUT.threshold).toBe(LOCKOUT_PROPERTIES.threshold.default);
    expect(DEFAULT_LOCKOUT.lockMs).toBe(LOCKOUT_PROPERTIES.lock_seconds.default * 1000);
  });
});
