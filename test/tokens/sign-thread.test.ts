import { afterAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, verify } from 'node:crypto';
import { signThread } from '../../src/tokens/sign-thread.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const es256 = signThread.key('sha256', { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
const eddsa = signThread.key(null, ed.privateKey);

const es256Valid = (data: Buffer, signature: Buffer) => verify('sha256', data, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, signature);

afterAll(() => signThread.close());

describe('the token signing thread', () => {
  it('signs a turn of requests for two keys in one batch, each with its own key', async () => {
    const inputs = Array.from({ length: 50 }, (_, i) => Buffer.from(`token ${i}`));
    const signatures = await Promise.all(inputs.map((data, i) => signThread.sign(i % 2 ? eddsa : es256, data)));
    signatures.forEach((signature, i) => {
      const data = inputs[i] as Buffer;
      if (i % 2) expect(verify(null, data, ed.publicKey, signature)).toBe(true);
      else expect([signature.length, es256Valid(data, signature)]).toEqual([64, true]);
    });
  });

  it('fails a signature the thread cannot make, and only that one', async () => {
    const wrong = signThread.key('no-such-digest', { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    const [bad, good] = await Promise.allSettled([signThread.sign(wrong, Buffer.from('x')), signThread.sign(es256, Buffer.from('y'))]);
    expect(bad.status).toBe('rejected');
    expect(good.status).toBe('fulfilled');
  });

  it('fails what a dying thread held, and the next signature starts another thread that knows the keys again', async () => {
    await signThread.sign(es256, Buffer.from('warm'));
    const held = Array.from({ length: 3000 }, (_, i) => signThread.sign(es256, Buffer.from(`held ${i}`)));
    await new Promise((resolve) => setImmediate(resolve)); // the batch is posted
    await signThread.close();
    const settled = await Promise.allSettled(held);
    expect(settled.some((s) => s.status === 'rejected')).toBe(true);
    const data = Buffer.from('after');
    expect(es256Valid(data, await signThread.sign(es256, data))).toBe(true);
  });
});
