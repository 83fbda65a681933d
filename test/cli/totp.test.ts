import { describe, expect, it, jest } from '@jest/globals';
import { totp as totpCommand } from '../../src/cli/totp.js';
import { base32Decode, matchTotp, totp } from '../../src/otp/hotp.js';

async function run(args: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    return { code: (await totpCommand.run(args)) ?? undefined, out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('authpipe totp enroll', () => {
  it('prints a fresh 160-bit secret and an otpauth URI an app can use', async () => {
    const { code, out } = await run(['enroll', '--account', 'alice@demo', '--issuer', 'Demo brand']);
    expect(code).toBe(0);
    const secret = /^secret: ([A-Z2-7]+)$/m.exec(out)?.[1] as string;
    const uri = new URL(/^uri: (\S+)$/m.exec(out)?.[1] as string);
    expect(base32Decode(secret)).toHaveLength(20);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Demo brand:alice@demo');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ secret, issuer: 'Demo brand', algorithm: 'SHA1', digits: '6', period: '30' });
    // What the app will show now is what the server accepts now.
    const key = base32Decode(secret) as Buffer;
    const now = Date.now();
    expect(matchTotp(key, totp(key, now), now)).not.toBeNull();
    // Two runs, two secrets.
    const again = await run(['enroll', '--account', 'alice@demo']);
    expect(/^secret: (\S+)$/m.exec(again.out)?.[1]).not.toBe(secret);
  });

  it('sizes the secret for the hash and carries digits and period', async () => {
    const { out } = await run(['enroll', '--account', 'bob', '--algorithm', 'sha512', '--digits', '8', '--period', '60']);
    const uri = new URL(/^uri: (\S+)$/m.exec(out)?.[1] as string);
    expect(base32Decode(uri.searchParams.get('secret') as string)).toHaveLength(64);
    expect(uri.searchParams.get('algorithm')).toBe('SHA512');
    expect(uri.searchParams.get('digits')).toBe('8');
    expect(uri.searchParams.get('period')).toBe('60');
  });

  it('totp code prints the code an app shows now', async () => {
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    const { code, out } = await run(['code', '--secret', secret]);
    expect(code).toBe(0);
    const key = base32Decode(secret) as Buffer;
    // The step may turn between the command and this check: the window covers it.
    expect(matchTotp(key, out.trim(), Date.now())).not.toBeNull();
    expect(out).toMatch(/^[0-9]{6}\n$/);
  });

  it('refuses missing or bad options with exit 2 and prints no secret', async () => {
    const bad = [
      ['enroll'],
      ['enroll', '--account', 'a', '--digits', '9'],
      ['enroll', '--account', 'a', '--algorithm', 'MD5'],
      ['enroll', '--account', 'a', '--unknown'],
      ['rotate'],
      ['code'],
      ['code', '--secret', 'not base32!'],
    ];
    for (const args of bad) {
      const { code, out, err } = await run(args);
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toContain('usage: authpipe totp enroll');
    }
  });
});
