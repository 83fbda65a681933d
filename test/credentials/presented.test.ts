import { describe, expect, it } from '@jest/globals';
import { presentedCredentials, type CredentialSource } from '../../src/credentials/presented.js';
import type { CallContext } from '../../src/engine/valve.js';
import { AuthpipeError } from '../../src/errors.js';

/** What the reader sees of a call: its headers and request properties. */
const call = (request: Record<string, string>, authorization?: string[]) =>
  ({ request, header: (name: string) => (name === 'authorization' ? authorization : undefined) }) as unknown as CallContext;
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

const reader = (from: CredentialSource[] = ['header', 'body'], passwordForm = (p: string) => p) =>
  presentedCredentials({
    from: new Set(from),
    userProp: 'username',
    passProp: 'password',
    maxUserBytes: 16,
    maxPassBytes: 32,
    passwordForm,
  });

/** The refusal as [code, erroneousProperties]. */
function refusal(read: () => unknown): [string, readonly string[]] {
  try {
    read();
  } catch (err) {
    if (err instanceof AuthpipeError) return [err.code, err.erroneousProperties];
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('presented credentials', () => {
  it('reads the Basic header or the two body properties, NFC-normalising the user and forming the password', () => {
    const read = reader(['header', 'body'], (p) => p.toUpperCase());
    expect(read(call({}, [basic('till-001', 'secret')]))).toEqual({ username: 'till-001', password: 'SECRET' });
    expect(read(call({ username: 'Cafe\u0301', password: 'x' }))).toEqual({ username: 'Café', password: 'X' });
  });

  it('refuses credentials in both places, two headers and a malformed header as INVALID_REQUEST naming where', () => {
    const read = reader();
    expect(refusal(() => read(call({ username: 'a' }, [basic('a', 'b')])))).toEqual([
      'INVALID_REQUEST',
      ['authorization', 'username', 'password'],
    ]);
    expect(refusal(() => read(call({}, [basic('a', 'b'), basic('a', 'b')])))).toEqual(['INVALID_REQUEST', ['authorization']]);
    expect(refusal(() => read(call({}, ['Bearer abc'])))).toEqual(['INVALID_REQUEST', ['authorization']]);
  });

  it('refuses a too long or control-character value as INVALID_REQUEST naming the header or the property', () => {
    const read = reader();
    expect(refusal(() => read(call({}, [basic('u'.repeat(17), 'p')])))).toEqual(['INVALID_REQUEST', ['authorization']]);
    expect(refusal(() => read(call({ username: 'u', password: 'p'.repeat(33) })))).toEqual(['INVALID_REQUEST', ['password']]);
    expect(refusal(() => read(call({ username: 'u\u0007', password: 'p' })))).toEqual(['INVALID_REQUEST', ['username']]);
  });

  it('refuses missing or empty credentials as INVALID_CREDENTIALS, like a wrong password', () => {
    const read = reader();
    expect(refusal(() => read(call({})))).toEqual(['INVALID_CREDENTIALS', ['username', 'password']]);
    expect(refusal(() => read(call({ username: 'u', password: '' })))).toEqual(['INVALID_CREDENTIALS', ['username', 'password']]);
    expect(refusal(() => read(call({ password: 'p' })))).toEqual(['INVALID_CREDENTIALS', ['username', 'password']]);
  });

  it('ignores a place it is not configured to read', () => {
    expect(refusal(() => reader(['body'])(call({}, [basic('a', 'b')])))).toEqual(['INVALID_CREDENTIALS', ['username', 'password']]);
    expect(refusal(() => reader(['header'])(call({ username: 'a', password: 'b' })))).toEqual([
      'INVALID_CREDENTIALS',
      ['username', 'password'],
    ]);
  });
});
