import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { isHighS, lowS, lowSCompact } from '../../src/tokens/low-s.js';

const N = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
const HALF_N = N >> 1n;
const withS = (s: bigint) => Buffer.concat([Buffer.alloc(32, 7), Buffer.from(s.toString(16).padStart(64, '0'), 'hex')]);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('low-S ES256 signatures', () => {
  it('draws the line at n/2: s = n/2 is low, n/2 + 1 high, and only 64-byte signatures are judged', () => {
    expect(isHighS(withS(HALF_N))).toBe(false);
    expect(isHighS(withS(HALF_N + 1n))).toBe(true);
    expect(isHighS(withS(1n))).toBe(false);
    expect(isHighS(withS(N - 1n))).toBe(true);
    expect(isHighS(withS(N - 1n).subarray(0, 63))).toBe(false);
  });

  it('agrees with the number comparison, and its low form verifies, for real signatures', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const data = Buffer.from('header.payload');
    let high = 0;
    for (let i = 0; i < 200; i++) {
      const signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
      expect(isHighS(signature)).toBe(s > HALF_N);
      if (s > HALF_N) high++;
      const low = lowS(signature);
      expect(isHighS(low)).toBe(false);
      expect(low.subarray(0, 32).equals(signature.subarray(0, 32))).toBe(true);
      expect(BigInt(`0x${low.subarray(32).toString('hex')}`)).toBe(s > HALF_N ? N - s : s);
      expect(verify('sha256', data, { key: publicKey.export({ format: 'pem', type: 'spki' }), dsaEncoding: 'ieee-p1363' }, low)).toBe(true);
    }
    expect(high).toBeGreaterThan(50); // about half are high: the test saw both kinds
  });

  it('rewrites a compact ES256 token only when high, and leaves other algorithms and junk alone', () => {
    const header = b64({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
    const highToken = `${header}.${b64({ sub: 'x' })}.${withS(N - 1n).toString('base64url')}`;
    const rewritten = lowSCompact(highToken);
    expect(rewritten).not.toBe(highToken);
    expect(isHighS(Buffer.from(rewritten.split('.')[2] as string, 'base64url'))).toBe(false);
    expect(lowSCompact(rewritten)).toBe(rewritten);
    const rs = `${b64({ alg: 'RS256' })}.${b64({ sub: 'x' })}.${withS(N - 1n).toString('base64url')}`;
    expect(lowSCompact(rs)).toBe(rs);
    for (const junk of ['no-dots', '!!!.e30.AAAA', `${b64('not an object')}.e30.AAAA`]) expect(lowSCompact(junk)).toBe(junk);
  });
});
