import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';
import { NOLOCK_PIPE, nolockDemoFixture } from './nolock-demo.js';
import { basic } from '../support/credentials.js';

/**
 * No enumeration by timing: an unknown till costs what a known till with a wrong password
 * costs (one verification at the same algorithm and cost), measured through real HTTP on
 * the shipped demo directory (scrypt N=2^15). Samples are interleaved so that load from
 * elsewhere on the machine falls on both series alike, and compared by their medians.
 * Lockout is off in this pipe so that every wrong guess is verified.
 */
let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = nolockDemoFixture();
  server = await startServer({ configFile: fixture.mainFile });
});

afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

describe('timing', () => {
  it('unknown-user and wrong-password medians are within 15% of each other', async () => {
    const timed = async (username: string) => {
      const started = performance.now();
      const res = await server.call(NOLOCK_PIPE, {}, { authorization: basic(username, `wrong-${randomUUID()}`) });
      const ms = performance.now() - started;
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
      return ms;
    };
    await timed('till-001');
    await timed('no-such-till');
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 31; i++) {
      // Alternate which goes first, so neither series always follows the other.
      if (i % 2 === 0) {
        known.push(await timed('till-001'));
        unknown.push(await timed(`unknown-${i}`));
      } else {
        unknown.push(await timed(`unknown-${i}`));
        known.push(await timed('till-001'));
      }
    }
    const [k, u] = [median(known), median(unknown)];
    // Both really hashed: a verification at N=2^15 takes tens of milliseconds, a refusal one or two.
    expect(Math.min(k, u)).toBeGreaterThan(15);
    expect(Math.abs(k - u) / Math.min(k, u)).toBeLessThanOrEqual(0.15);
  }, 180_000);

  it('a till with a cheaper imported hash (argon2id, bcrypt) and a locked till answer no faster than an unknown one', async () => {
    const timed = async (pipe: string, username: string) => {
      const started = performance.now();
      const res = await server.call(pipe, {}, { authorization: basic(username, `wrong-${randomUUID()}`) });
      expect(res.status).toBe(403);
      expect(res.body.errorTranslationKeys).toEqual(['INVALID_CREDENTIALS']);
      return performance.now() - started;
    };
    for (let i = 0; i < 3; i++) await timed(NOLOCK_PIPE, `warm-${i}`);
    const unknown: number[] = [];
    const argon: number[] = [];
    const bcrypt: number[] = [];
    for (let i = 0; i < 9; i++) {
      unknown.push(await timed(NOLOCK_PIPE, `unknown-${i}`));
      argon.push(await timed(NOLOCK_PIPE, 'till-002'));
      bcrypt.push(await timed(NOLOCK_PIPE, 'till-003'));
    }
    const u = median(unknown);
    expect(median(argon) / u).toBeGreaterThan(0.8);
    expect(median(bcrypt) / u).toBeGreaterThan(0.8);
    // The shipped till-login locks after 5 failures; the locked answer still costs a verification.
    for (let i = 0; i < 3; i++) await timed('till-login', `warm-${i}`);
    for (let i = 0; i < 5; i++) await timed('till-login', 'till-001');
    const locked: number[] = [];
    const unknownLocking: number[] = [];
    for (let i = 0; i < 5; i++) {
      locked.push(await timed('till-login', 'till-001'));
      unknownLocking.push(await timed('till-login', `fresh-${i}`));
    }
    expect(median(locked) / median(unknownLocking)).toBeGreaterThan(0.8);
  }, 180_000);
});
