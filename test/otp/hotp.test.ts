import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { base32Decode, base32Encode, hotp, matchTotp, totp, type TotpAlgorithm } from '../../src/otp/hotp.js';

// RFC 4226 Appendix D: secret "12345678901234567890", counters 0..9, six digits.
const RFC4226_SECRET = Buffer.from('12345678901234567890', 'ascii');
const RFC4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

// RFC 6238 Appendix B: each hash has its own seed length (Appendix A's reference code), eight digits.
const SEEDS: Record<TotpAlgorithm, Buffer> = {
  SHA1: Buffer.from('12345678901234567890', 'ascii'),
  SHA256: Buffer.from('12345678901234567890123456789012', 'ascii'),
  SHA512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
};
const RFC6238: [seconds: number, algorithm: TotpAlgorithm, code: string][] = [
  [59, 'SHA1', '94287082'],
  [59, 'SHA256', '46119246'],
  [59, 'SHA512', '90693936'],
  [1111111109, 'SHA1', '07081804'],
  [1111111109, 'SHA256', '68084774'],
  [1111111109, 'SHA512', '25091201'],
  [1111111111, 'SHA1', '14050471'],
  [1111111111, 'SHA256', '67062674'],
  [1111111111, 'SHA512', '99943326'],
  [1234567890, 'SHA1', '89005924'],
  [1234567890, 'SHA256', '91819424'],
  [1234567890, 'SHA512', '93441116'],
  [2000000000, 'SHA1', '69279037'],
  [2000000000, 'SHA256', '90698825'],
  [2000000000, 'SHA512', '38618901'],
  [20000000000, 'SHA1', '65353130'],
  [20000000000, 'SHA256', '77737706'],
  [20000000000, 'SHA512', '47863826'],
];

describe('HOTP (RFC 4226)', () => {
  it.each(RFC4226.map((code, counter) => [counter, code] as const))('counter %d gives %s', (counter, code) => {
    expect(hotp(RFC4226_SECRET, counter)).toBe(code);
  });

  it('refuses digit counts outside 6..9', () => {
    expect(() => hotp(RFC4226_SECRET, 0, 5)).toThrow(RangeError);
    expect(() => hotp(RFC4226_SECRET, 0, 10)).toThrow(RangeError);
  });
});

describe('TOTP (RFC 6238 Appendix B)', () => {
  it.each(RFC6238)('t=%d %s gives %s', (seconds, algorithm, code) => {
    expect(totp(SEEDS[algorithm], seconds * 1000, { digits: 8, algorithm })).toBe(code);
  });

  it('matches the step before, the current step and the step after, and nothing further', () => {
    const secret = SEEDS.SHA1;
    const now = 1234567890_000;
    const step = Math.floor(now / 30_000);
    for (const delta of [-1, 0, 1]) {
      const code = totp(secret, now + delta * 30_000);
      expect(matchTotp(secret, code, now)).toBe(step + delta);
    }
    for (const delta of [-3, -2, 2, 3]) {
      const code = totp(secret, now + delta * 30_000);
      // A code of a far step can collide with a near one by chance (1 in 10^6); this one does not.
      expect(matchTotp(secret, code, now)).toBeNull();
    }
  });

  it('honours window 0 and eight-digit SHA512 codes', () => {
    const secret = SEEDS.SHA512;
    const now = 2000000000_000;
    const code = totp(secret, now - 30_000, { digits: 8, algorithm: 'SHA512' });
    expect(matchTotp(secret, code, now, { digits: 8, algorithm: 'SHA512', window: 1 })).toBe(Math.floor(now / 30_000) - 1);
    expect(matchTotp(secret, code, now, { digits: 8, algorithm: 'SHA512', window: 0 })).toBeNull();
    expect(matchTotp(secret, code.slice(0, 6), now, { digits: 8, algorithm: 'SHA512' })).toBeNull();
  });
});

describe('base32 (RFC 4648)', () => {
  it('encodes the RFC test vectors', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Encode(Buffer.from('f'))).toBe('MY');
    expect(base32Encode(SEEDS.SHA1)).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });

  it('decodes what authenticator apps accept: lower case, spaces, padding', () => {
    expect(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq')?.equals(SEEDS.SHA1)).toBe(true);
    expect(base32Decode('MZXW6YTBOI======')?.toString()).toBe('foobar');
  });

  it('refuses characters outside the alphabet and non-zero trailing bits', () => {
    expect(base32Decode('MZXW6YTB0I')).toBeNull(); // zero is not base32
    expect(base32Decode('MZ')).toBeNull(); // "f" is MY: the last two bits must be zero
    expect(base32Decode('MYA')).toBeNull(); // a dangling character
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        expect(base32Decode(base32Encode(buffer))?.equals(buffer)).toBe(true);
      }),
    );
    const secret = randomBytes(20);
    expect(base32Decode(base32Encode(secret))?.equals(secret)).toBe(true);
  });
});
