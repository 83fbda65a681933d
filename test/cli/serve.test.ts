import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigFixture } from '../support/fixture.js';
import { runCli } from '../support/cli.js';

/**
 * What `authpipe serve --workers N` refuses before it forks anything: a count that is not a
 * whole number from 1 to 64 (a usage error, exit 2), and several workers on the memory store,
 * where each would keep its own lockout counters (exit 1). The workers themselves, as real
 * processes on Redis, are in workers.test.ts.
 */
const fixture = ConfigFixture.fromDemo();
afterAll(() => fixture.cleanup());

describe('serve --workers, refused', () => {
  it('refuses several workers with the memory store, with a clear message', async () => {
    const { REDIS_URL: redisUrl } = process.env;
    delete process.env.REDIS_URL;
    try {
      const { code, err } = await runCli(['serve', '--config', fixture.mainFile, '--workers', '2']);
      expect(code).toBe(1);
      expect(err).toMatch(/--workers 2 needs the redis store/);
      expect(err).toMatch(/REDIS_URL/);
    } finally {
      if (redisUrl !== undefined) process.env.REDIS_URL = redisUrl;
    }
  });

  it.each(['0', 'two', '1.5', '65', '-1'])('refuses --workers %s: a whole number from 1 to 64, exit 2', async (bad) => {
    const { code, err } = await runCli(['serve', '--config', fixture.mainFile, `--workers=${bad}`]);
    expect(code).toBe(2);
    expect(err).toMatch(/--workers must be a whole number from 1 to 64/);
  });
});
