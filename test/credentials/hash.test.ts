import { describe, expect, it } from '@jest/globals';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { dummyLike, hashPassword, verifyPassword } from '../../src/credentials/hash.js';
import { costProfile, parsePhc, type ParsedHash } from '../../src/credentials/phc.js';

function parsed(phc: string): ParsedHash {
  const result = parsePhc(phc);
  if (typeof result === 'string') throw new Error(result);
  return result;
}

/**
 * The CPU time of one run, in ms. process.cpuUsage counts every thread of this process,
 * the hash threads included, and nothing of other processes: unlike wall time, a test file
 * hashing next to this one does not move it.
 */
async function cpuMs(run: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

describe('scrypt hashes', () => {
  it('hash with the default cost and verify in both directions', async () => {
    const phc = await hashPassword('till-001-pass');
    expect(phc).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    await expect(verifyPassword('till-001-pass', parsed(phc))).resolves.toBe(true);
    await expect(verifyPassword('till-001-pasS', parsed(phc))).resolves.toBe(false);
    await expect(verifyPassword('', parsed(phc))).resolves.toBe(false);
  });

  it('salt every hash', async () => {
    const [a, b] = await Promise.all([hashPassword('same', { ln: 10, r: 8, p: 1 }), hashPassword('same', { ln: 10, r: 8, p: 1 })]);
    expect(a).not.toBe(b);
  });

  it('hash UTF-8 passwords', async () => {
    const phc = await hashPassword('123£', { ln: 10, r: 8, p: 1 });
    await expect(verifyPassword('123£', parsed(phc))).resolves.toBe(true);
    await expect(verifyPassword('123#', parsed(phc))).resolves.toBe(false);
  });
});

describe('imported hashes', () => {
  it('verify argon2id hashes made by another system', async () => {
    const phc = await argon2Hash('imported-pass', { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(parsed(phc)).toMatchObject({ algorithm: 'argon2id', m: 19456, t: 2, p: 1 });
    await expect(verifyPassword('imported-pass', parsed(phc))).resolves.toBe(true);
    await expect(verifyPassword('imported-Pass', parsed(phc))).resolves.toBe(false);
  });

  it('verify bcrypt hashes made by another system ($2b$ and $2a$/$2y$ spellings)', async () => {
    const phc = await bcryptHash('imported-pass', 6);
    expect(parsed(phc)).toMatchObject({ algorithm: 'bcrypt', cost: 6 });
    await expect(verifyPassword('imported-pass', parsed(phc))).resolves.toBe(true);
    await expect(verifyPassword('imported-pas', parsed(phc))).resolves.toBe(false);
    // PHP's $2y$ and old $2a$ hashes of this password are the same computation.
    await expect(verifyPassword('imported-pass', parsed(phc.replace('$2b$', '$2y$')))).resolves.toBe(true);
  });
});

describe('parsePhc refuses', () => {
  const salt = 'c2FsdHNhbHRzYWx0c2FsdA';
  const digest = 'oFlieKJVewTYvpEdKItZQ8pFt+4Fefw7qeqJJCYYixw';
  it.each([
    ['a plain password', 'till-001-pass', /not a supported PHC string/],
    ['argon2i', `$argon2i$v=19$m=19456,t=2,p=1$${salt}$${digest}`, /argon2id/],
    ['an argon2id without version 19', `$argon2id$v=16$m=19456,t=2,p=1$${salt}$${digest}`, /malformed argon2id/],
    ['scrypt with N beyond 2^20', `$scrypt$ln=21,r=8,p=1$${salt}$${digest}`, /ln=21 is outside/],
    ['scrypt needing over 1 GiB', `$scrypt$ln=20,r=16,p=1$${salt}$${digest}`, /1 GiB/],
    ['scrypt with a padded salt', `$scrypt$ln=15,r=8,p=1$${salt}==$${digest}`, /malformed scrypt/],
    ['scrypt with a short salt', `$scrypt$ln=15,r=8,p=1$c2FsdA$${digest}`, /salt must be/],
    ['scrypt with a non-canonical digest', `$scrypt$ln=15,r=8,p=1$${salt}$${digest.slice(0, -1)}x`, /not canonical/],
    ['bcrypt with cost 31', '$2b$31$5fSXIDedAv.UJ2RznUVBlONhHKOsCRH5bh5ZoRyRp1YwxzAP98UYS', /cost=31 is outside/],
    ['bcrypt with stray bits in the salt', '$2b$10$5fSXIDedAv.UJ2RznUVBlPNhHKOsCRH5bh5ZoRyRp1YwxzAP98UYS', /not canonical/],
    ['a truncated bcrypt hash', '$2b$10$5fSXIDedAv.UJ2RznUVBlONhHKOsCRH5bh5ZoRyRp1YwxzAP98UY', /malformed bcrypt/],
  ])('%s', (_name, phc, message) => {
    const result = parsePhc(phc);
    expect(typeof result).toBe('string');
    expect(result).toMatch(message);
  });
});

describe('dummy hashes', () => {
  it('keep the algorithm and cost, match nothing, and change salt and digest', async () => {
    const real = parsed(await hashPassword('pw', { ln: 10, r: 8, p: 1 }));
    const dummy = dummyLike(real);
    expect(costProfile(dummy)).toBe(costProfile(real));
    expect(dummy.phc).not.toBe(real.phc);
    await expect(verifyPassword('pw', dummy)).resolves.toBe(false);
  });

  it.each([
    ['scrypt', () => hashPassword('pw', { ln: 13, r: 8, p: 1 })],
    ['argon2id', () => argon2Hash('pw', { algorithm: 2, memoryCost: 8192, timeCost: 2, parallelism: 1 })],
    ['bcrypt', () => bcryptHash('pw', 8)],
  ])('cost as much to verify as a real %s hash (no early exit)', async (_name, make) => {
    const real = parsed(await make());
    const dummy = dummyLike(real);
    await verifyPassword('wrong', real); // warm-up
    const times = { real: [] as number[], dummy: [] as number[] };
    for (let i = 0; i < 9; i++) {
      times.real.push(await cpuMs(() => verifyPassword('wrong', real)));
      times.dummy.push(await cpuMs(() => verifyPassword('wrong', dummy)));
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    // A dummy the library refused without hashing would take well under a tenth of the CPU.
    expect(med(times.dummy)).toBeGreaterThan(med(times.real) * 0.5);
  });
});
