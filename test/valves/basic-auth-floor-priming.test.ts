import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDummyHash } from '../../src/credentials/hash.js';
import { costProfile, parsePhc, type ParsedHash } from '../../src/credentials/phc.js';
import { failureFloor, primeFailureFloor } from '../../src/credentials/timing-floor.js';
import { basic } from '../support/credentials.js';
import type { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { NOLOCK_PIPE, nolockDemoFixture } from './nolock-demo.js';

/**
 * The failure floor is primed when the valve is built: the very first refusal of a till with
 * a cheap imported hash (argon2id) after start already takes what the scrypt dummy of an
 * unknown till takes. Its own file, so that no earlier test has taught this process's floor.
 */
let fixture: ConfigFixture;
let server: RunningServer;

const demoHashes = (): ParsedHash[] => {
  const directory = JSON.parse(readFileSync(join(fixture.dir, 'config', 'directory.json'), 'utf8'));
  return directory.tenants.demo.tills.map((t: { password_hash: string }) => parsePhc(t.password_hash) as ParsedHash);
};

beforeAll(async () => {
  fixture = nolockDemoFixture();
  server = await startServer({ configFile: fixture.mainFile });
});

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

describe('failure floor priming', () => {
  it('learns every cost profile of the directory at load, before any call', async () => {
    const profiles = new Set(demoHashes().map(costProfile));
    expect(profiles.size).toBeGreaterThanOrEqual(3); // scrypt, argon2id, bcrypt in the demo
    await primeFailureFloor(demoHashes()); // joins the priming the valve started
    for (const profile of profiles) expect(failureFloor.knows(profile)).toBe(true);
    expect(failureFloor.floorMs()).toBeGreaterThan(5);
  });

  it('pads the first refusal of a cheap argon2id till to what the scrypt dummy costs', async () => {
    // No call has failed yet: only priming can have taught the floor what scrypt costs.
    const scrypt = costProfile(defaultDummyHash());
    for (let waited = 0; !failureFloor.knows(scrypt); waited += 20) {
      if (waited > 3000) throw new Error('the floor was not primed with the scrypt dummy within 3 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const floor = failureFloor.floorMs();
    const started = performance.now();
    const res = await server.call(NOLOCK_PIPE, {}, { authorization: basic('till-002', `wrong-${randomUUID()}`) });
    const ms = performance.now() - started;
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
    expect(ms).toBeGreaterThan(0.9 * floor);
  }, 30_000);
});
