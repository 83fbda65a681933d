import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { defaultDummyHash, hashPassword, verifyAndPad, verifyPassword } from '../../src/credentials/hash.js';
import { HashThreads } from '../../src/credentials/hash-threads.js';
import { parsePhc, type ParsedHash } from '../../src/credentials/phc.js';
import { ephemeralKeySet } from '../../src/tokens/key-store.js';
import { TokenService } from '../../src/tokens/service.js';

const parsed = (phc: string): ParsedHash => {
  const hash = parsePhc(phc);
  if (typeof hash === 'string') throw new Error(hash);
  return hash;
};

/** A field of each of this process's threads' stat line, from /proc (Linux): 19 nice, 41 policy. */
function threadStat(field: number): number[] {
  return readdirSync('/proc/self/task').map((tid) =>
    Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[field - 3]),
  );
}
const threadNices = () => threadStat(19);
const SCHED_IDLE = 5;
const hasChrt = (() => {
  try {
    execFileSync('chrt', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('hash threads: cold password work on threads of its own, at the lowest priority', () => {
  it('verifies every algorithm right and wrong', async () => {
    const scrypt = parsed(await hashPassword('right', { ln: 10, r: 8, p: 1 }));
    const argon2 = parsed(await argon2Hash('right', { memoryCost: 1024, timeCost: 1 }));
    const bcrypt = parsed(await bcryptHash('right', 4));
    for (const hash of [scrypt, argon2, bcrypt]) {
      await expect(verifyPassword('right', hash)).resolves.toBe(true);
      await expect(verifyPassword('wrong', hash)).resolves.toBe(false);
    }
  });

  const linux = process.platform === 'linux' ? it : it.skip;
  linux("pads a refusal on the verifying thread to the CPU asked, by the thread's own clock, and only a refusal", async () => {
    const threads = new HashThreads(1, 0);
    const cheap = parsed(await bcryptHash('right', 4));
    const cpuOf = async (password: string, evenOnMatch: boolean) => {
      const before = process.cpuUsage();
      const verified = await verifyAndPad(password, cheap, { cpuMs: 60, iterations: 0, evenOnMatch }, threads);
      const used = process.cpuUsage(before);
      return { ...verified, processMs: (used.user + used.system) / 1000 };
    };
    try {
      await cpuOf('right', false); // the thread's start
      const wrong = await cpuOf('wrong', false);
      const right = await cpuOf('right', false);
      const locked = await cpuOf('right', true);
      // The verification alone, by the thread's clock (which moves by scheduler ticks): a
      // cheap bcrypt is a millisecond or so.
      expect(wrong.matches).toBe(false);
      expect(wrong.cpuMs).toBeGreaterThanOrEqual(0);
      expect(wrong.cpuMs).toBeLessThan(30);
      // The refusals cost the mark (the clock may lag by a scheduler tick), the match far less.
      // Read from the whole process's CPU, which the test runner's own work (its GC, another
      // file's) also moves: the upper bound only catches a pad that runs away (96 ms was seen
      // once in a CI run for the 60 asked).
      expect(wrong.processMs).toBeGreaterThanOrEqual(55);
      expect(wrong.processMs).toBeLessThan(150);
      expect(locked).toMatchObject({ matches: true });
      expect(locked.processMs).toBeGreaterThanOrEqual(55);
      expect(right).toMatchObject({ matches: true });
      expect(right.processMs).toBeLessThan(40);
    } finally {
      await threads.close();
    }
  });

  linux('runs its jobs at nice 19 (configurable), the rest of the process at its own nice (0 unless started under nice)', async () => {
    const threads = new HashThreads(1, 19);
    try {
      const before = threadNices().filter((n) => n === 19).length;
      const idleBefore = threadStat(41).filter((p) => p === SCHED_IDLE).length;
      await threads.run({ op: 'pbkdf2', iterations: 1000 });
      expect(threadNices().filter((n) => n === 19).length).toBe(before + 1);
      expect(threadNices()).toContain(getPriority());
      // Not in the idle scheduling class unless asked.
      expect(threadStat(41).filter((p) => p === SCHED_IDLE).length).toBe(idleBefore);
    } finally {
      await threads.close();
    }
  });

  linux('joins the idle scheduling class when asked (password_checks.idle_class), through chrt', async () => {
    if (!hasChrt) {
      console.warn('hash-threads.test: chrt not found; the idle scheduling class is not checked');
      return;
    }
    const threads = new HashThreads(1, 19, true);
    try {
      const idleBefore = threadStat(41).filter((p) => p === SCHED_IDLE).length;
      await threads.run({ op: 'pbkdf2', iterations: 1000 });
      expect(threadStat(41).filter((p) => p === SCHED_IDLE).length).toBe(idleBefore + 1);
      // Asked again without it: later jobs run on a thread of the normal class.
      await threads.close();
      threads.configure(1, 19, false);
      await threads.run({ op: 'pbkdf2', iterations: 1000 });
      expect(threadStat(41).filter((p) => p === SCHED_IDLE).length).toBe(idleBefore);
    } finally {
      await threads.close();
    }
  });

  it('fails a job that throws closed, with the thread still serving the next', async () => {
    const threads = new HashThreads(1, 0);
    try {
      // More memory than scrypt is allowed: node refuses inside the thread.
      await expect(
        threads.run({
          op: 'scrypt',
          password: Buffer.from('x'),
          salt: Buffer.alloc(16),
          keylen: 32,
          options: { N: 2 ** 15, r: 8, p: 1, maxmem: 1024 },
        }),
      ).rejects.toThrow(/password hash failed/);
      await expect(threads.run({ op: 'pbkdf2', iterations: 10 })).resolves.toBe(true);
    } finally {
      await threads.close();
    }
  });

  it('fails the job of a thread that dies, and starts another for the next job', async () => {
    const threads = new HashThreads(1, 0);
    try {
      const job = threads.run({ op: 'pbkdf2', iterations: 5_000_000 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await threads.close(); // terminates the thread under the job
      await expect(job).rejects.toThrow(/exited/);
      await expect(threads.run({ op: 'pbkdf2', iterations: 10 })).resolves.toBe(true);
    } finally {
      await threads.close();
    }
  });

  it('runs no more jobs at once than its size: the rest wait their turn and all finish', async () => {
    const threads = new HashThreads(2, 0);
    try {
      const results = await Promise.all(Array.from({ length: 6 }, () => threads.run({ op: 'pbkdf2', iterations: 1000 })));
      expect(results).toEqual(Array(6).fill(true));
      const workers = readdirSync('/proc/self/task').length;
      await threads.run({ op: 'pbkdf2', iterations: 10 });
      expect(readdirSync('/proc/self/task').length).toBe(workers); // no thread added for later jobs
    } finally {
      await threads.close();
    }
  });

  it('token signatures never wait behind password hashes', async () => {
    const settings = { issuer: 'https://auth.test.example', audience: 'https://api.test.example', clockTolerance: 5 };
    const service = new TokenService(new Map([['demo', ephemeralKeySet(['ES256'], Date.now())]]), settings);
    const now = Date.now();
    const claims = {
      iss: settings.issuer,
      sub: 'till-001',
      aud: settings.audience,
      iat: Math.floor(now / 1000),
      exp: Math.floor(now / 1000) + 600,
      jti: 'j-1',
      tenant: 'demo',
    };
    let hashesDone = 0;
    const hashes = Array.from({ length: 8 }, () => verifyPassword('wrong', defaultDummyHash()).finally(() => hashesDone++));
    const token = await service.sign('access', 'demo', claims);
    // Had the signature queued behind the hashes on one pool, some would have finished first.
    expect(hashesDone).toBe(0);
    await expect(Promise.all(hashes)).resolves.toEqual(hashes.map(() => false));
    await expect(service.verify(token, { type: 'access', tenant: 'demo', now, property: 'authorization' })).resolves.toMatchObject({
      sub: 'till-001',
    });
  });
});
