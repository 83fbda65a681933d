import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { passwordCosts } from '../../src/credentials/calibration.js';
import { failureFloorMs } from '../../src/credentials/check.js';
import { defaultDummyHash } from '../../src/credentials/hash.js';
import { parsePhc, type ParsedHash } from '../../src/credentials/phc.js';
import { basic } from '../support/credentials.js';
import type { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { NOLOCK_PIPE, nolockDemoFixture } from './nolock-demo.js';

/**
 * The failure floor comes from calibration at start: every cost profile of the directory is
 * timed before the server listens, so the very first refusal after start (a till with a cheap
 * imported argon2id hash) already takes the floor. Its own file, so that no earlier test has
 * calibrated this process.
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

describe('calibration at start', () => {
  it('has timed every cost profile of the directory before the server listens', () => {
    expect(passwordCosts.calibrated).toBe(true);
    for (const hash of [...demoHashes(), defaultDummyHash()]) {
      const cost = passwordCosts.costOf(hash);
      expect(cost.measured).toBe(true);
      expect(cost.cpuMs).toBeGreaterThan(0);
    }
    // The floor covers the dearest profile (the demo's scrypt N=2^15).
    expect(failureFloorMs()).toBeGreaterThanOrEqual(passwordCosts.costOf(defaultDummyHash()).wallMs);
  });

  it('pads the first refusal of a cheap argon2id till to the floor', async () => {
    const floor = failureFloorMs();
    const started = performance.now();
    const res = await server.call(NOLOCK_PIPE, {}, { authorization: basic('till-002', `wrong-${randomUUID()}`) });
    const ms = performance.now() - started;
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
    expect(ms).toBeGreaterThanOrEqual(floor - 2);
  }, 30_000);

  it('estimates a profile first seen after start from the timed one of its algorithm, without timing it', () => {
    const dearer = parsePhc(`$scrypt$ln=16,r=8,p=1$${'A'.repeat(22)}$${'A'.repeat(43)}`) as ParsedHash;
    const base = passwordCosts.costOf(defaultDummyHash());
    const estimate = passwordCosts.costOf(dearer);
    expect(estimate.measured).toBe(false);
    expect(estimate.cpuMs).toBeCloseTo(2 * base.cpuMs, 5);
  });
});
