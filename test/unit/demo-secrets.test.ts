import { afterAll, describe, expect, it } from '@jest/globals';
import { verifyPassword } from '../../src/credentials/hash.js';
import { parsePhc, type ParsedHash } from '../../src/credentials/phc.js';
import { ConfigFixture, DEMO_SECRETS, directoryHashes } from '../support/fixture.js';

/**
 * The tests' table of demo secrets matches the shipped demo directory, and `fromDemo`'s cheap hashes (its default)
 * keeps every secret valid while it lowers the cost: a test that logs in with a demo
 * password on a cheapened copy is testing the same accounts.
 */
function hashes(fixture: ConfigFixture): [string, ParsedHash][] {
  return directoryHashes(fixture.readJson('config/directory.json')).map(({ name, phc }) => {
    const parsed = parsePhc(phc);
    if (typeof parsed === 'string') throw new Error(parsed);
    return [name, parsed];
  });
}

const demo = ConfigFixture.fromDemo({ hashes: 'shipped' });
const cheap = ConfigFixture.fromDemo();
afterAll(() => [demo, cheap].forEach((f) => f.cleanup()));

describe('demo secrets', () => {
  it('every shipped hash matches its secret in DEMO_SECRETS, and every secret has a hash', async () => {
    const shipped = hashes(demo);
    expect(shipped.map(([name]) => name).sort()).toEqual(Object.keys(DEMO_SECRETS).sort());
    for (const [name, hash] of shipped) {
      expect([name, await verifyPassword(DEMO_SECRETS[name] as string, hash)]).toEqual([name, true]);
    }
  }, 30_000);

  it('the cheap copy keeps each algorithm and secret at a lower cost', async () => {
    const before = new Map(hashes(demo));
    for (const [name, hash] of hashes(cheap)) {
      const shipped = before.get(name) as ParsedHash;
      expect([name, hash.algorithm]).toEqual([name, shipped.algorithm]);
      expect(hash.phc).not.toBe(shipped.phc);
      expect([name, await verifyPassword(DEMO_SECRETS[name] as string, hash)]).toEqual([name, true]);
    }
    expect(hashes(cheap).map(([, h]) => h.phc.slice(0, 21))).toContain('$scrypt$ln=10,r=8,p=1');
  });
});
