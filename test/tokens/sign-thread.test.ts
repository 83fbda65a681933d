import { afterAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, verify } from 'node:crypto';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SignThreads } from '../../src/tokens/sign-thread.js';
import { buildCli } from '../support/built-cli.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const threads = new SignThreads({ idleMs: 60_000 });
const es256 = threads.key('sha256', { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
const eddsa = threads.key(null, ed.privateKey);

const es256Valid = (input: string, signature: Buffer) =>
  verify('sha256', Buffer.from(input, 'latin1'), { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, signature);

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done()).toBe(true);
}

afterAll(() => threads.close());

describe('the token signing threads', () => {
  it('sign on the pool while no thread runs yet, and start one meanwhile', async () => {
    expect(threads.size).toEqual({ threads: 0, running: 0 });
    const data = 'first';
    expect(es256Valid(data, await threads.sign(es256, data))).toBe(true);
    await until(() => threads.size.running >= 1);
  });

  it('sign a turn of requests for two keys in batches, each with its own key, on up to two threads', async () => {
    const inputs = Array.from({ length: 50 }, (_, i) => `token ${i}`);
    const signatures = await Promise.all(inputs.map((data, i) => threads.sign(i % 2 ? eddsa : es256, data)));
    signatures.forEach((signature, i) => {
      const data = inputs[i] as string;
      if (i % 2) expect(verify(null, Buffer.from(data, 'latin1'), ed.publicKey, signature)).toBe(true);
      else expect([signature.length, es256Valid(data, signature)]).toEqual([64, true]);
    });
    await until(() => threads.size.running === 2);
  });

  it('fail a signature a thread cannot make, and only that one', async () => {
    const wrong = threads.key('no-such-digest', { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    const [bad, good] = await Promise.allSettled([threads.sign(wrong, 'x'), threads.sign(es256, 'y')]);
    expect(bad.status).toBe('rejected');
    expect(good.status).toBe('fulfilled');
  });

  it('fail what a stopped thread held; later signatures start others, which learn the keys again', async () => {
    // Full batches are posted as they fill; stopping in the same turn, before any answer can
    // be read, leaves them all held.
    const held = Array.from({ length: 3000 }, (_, i) => threads.sign(es256, `held ${i}`));
    await threads.close();
    const settled = await Promise.allSettled(held);
    expect(settled.filter((s) => s.status === 'rejected').length).toBeGreaterThan(0);
    expect(threads.size.threads).toBe(0);
    await threads.sign(es256, 'pool');
    await until(() => threads.size.running >= 1);
    const data = 'after';
    expect(es256Valid(data, await threads.sign(es256, data))).toBe(true);
  });

  it('leave after their idle time', async () => {
    const brief = new SignThreads({ idleMs: 100 });
    const key = brief.key('sha256', { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    await brief.sign(key, 'start');
    await until(() => brief.size.running === 1);
    const data = 'batched';
    expect(es256Valid(data, await brief.sign(key, data))).toBe(true);
    await until(() => brief.size.threads === 0);
  });

  it('keep no process alive: one that signed exits at once, not after the idle time', async () => {
    const built = await buildCli();
    try {
      const script = `
        import { generateKeyPairSync } from 'node:crypto';
        import { signThread } from ${JSON.stringify(join(built.cli, '..', 'tokens', 'sign-thread.js'))};
        const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const key = signThread.key('sha256', { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
        await signThread.sign(key, 'on the pool; a thread starts');
        for (let i = 0; i < 200 && signThread.size.running === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
        await signThread.sign(key, 'on the thread');
        console.log(JSON.stringify(signThread.size));`;
      const started = performance.now();
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
      expect(JSON.parse(stdout).running).toBeGreaterThanOrEqual(1); // it signed on a thread
      // Held by the thread, it would live 5 s (the idle time) past its last signature.
      expect(performance.now() - started).toBeLessThan(4500);
    } finally {
      built.cleanup();
    }
  }, 30_000);
});
