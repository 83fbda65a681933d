import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { maxTokenLength, parseBasic } from '../../src/credentials/basic-header.js';

const MAX = maxTokenLength(128 + 1 + 256);
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

describe('parseBasic', () => {
  it('decodes the RFC 7617 examples', () => {
    expect(parseBasic('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==', MAX)).toEqual({ ok: true, username: 'Aladdin', password: 'open sesame' });
    // Section 2.1: user-id "test", password "123£" in UTF-8.
    expect(parseBasic('Basic dGVzdDoxMjPCow==', MAX)).toEqual({ ok: true, username: 'test', password: '123£' });
  });

  it('takes the scheme in any case and several spaces before the token', () => {
    expect(parseBasic('basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==', MAX)).toMatchObject({ ok: true, username: 'Aladdin' });
    expect(parseBasic('BASIC   QWxhZGRpbjpvcGVuIHNlc2FtZQ==', MAX)).toMatchObject({ ok: true, username: 'Aladdin' });
  });

  it('splits at the first colon, so a password may hold colons', () => {
    expect(parseBasic(`Basic ${b64('till:pa:ss:')}`, MAX)).toEqual({ ok: true, username: 'till', password: 'pa:ss:' });
  });

  it('returns empty parts for the caller to refuse', () => {
    expect(parseBasic(`Basic ${b64(':secret')}`, MAX)).toEqual({ ok: true, username: '', password: 'secret' });
    expect(parseBasic(`Basic ${b64('till:')}`, MAX)).toEqual({ ok: true, username: 'till', password: '' });
  });

  it.each([
    ['Basic alone', 'Basic'],
    ['Basic and a space', 'Basic '],
    ['another scheme', 'Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ=='],
    ['a scheme with basic as prefix', 'Basicx QWxhZGRpbjpvcGVuIHNlc2FtZQ=='],
    ['no colon', `Basic ${b64('Aladdin')}`],
    ['invalid base64 @@', 'Basic @@'],
    ['an embedded space', 'Basic QWxhZGRp bjpvcGVuIHNlc2FtZQ=='],
    ['an asterisk', 'Basic QWxhZGRp*jpvcGVuIHNlc2FtZQ=='],
    [
      'base64url characters',
      `Basic ${b64(Buffer.from([0xfb, 0xff, 0x3a, 0x3e]))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')}`,
    ],
    ['missing padding', 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ'],
    ['too much padding', 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==='],
    ['stray low bits', 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZR=='],
    ['a tab before the token', 'Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ=='],
    ['invalid UTF-8', `Basic ${b64(Buffer.from([0x74, 0x3a, 0xc3, 0x28]))}`],
    ['an overlong UTF-8 colon', `Basic ${b64(Buffer.from([0x74, 0xc0, 0xba, 0x70]))}`],
    ['a token over the cap', `Basic ${b64(`u:${'p'.repeat(400)}`)}`],
  ])('refuses %s', (_name, header) => {
    expect(parseBasic(header, MAX).ok).toBe(false);
  });

  it('names the problem', () => {
    expect(parseBasic('Bearer x', MAX)).toEqual({ ok: false, problem: 'authorization scheme is not Basic' });
    expect(parseBasic(`Basic ${b64('nocolon')}`, MAX)).toEqual({ ok: false, problem: 'Basic credentials have no colon' });
  });

  it('refuses an over-long header before looking at it', () => {
    const started = performance.now();
    expect(parseBasic(`Basic ${'A'.repeat(1_000_000)}`, MAX).ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('round-trips any user id without a colon and any password', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }).filter((u) => !u.includes(':')),
        fc.string({ unit: 'grapheme', maxLength: 80 }),
        (username, password) => {
          expect(parseBasic(`Basic ${b64(`${username}:${password}`)}`, MAX)).toEqual({ ok: true, username, password });
        },
      ),
    );
  });

  it('never throws on arbitrary header text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (header) => {
        const result = parseBasic(header, MAX);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});
