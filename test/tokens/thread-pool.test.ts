import { defaultDummyHash, verifyPassword } from '../../src/credentials/hash.js';
import { ephemeralKeySet } from '../../src/tokens/key-store.js';
import { TokenService } from '../../src/tokens/service.js';
import { POOL_THREADS, poolHasRoom, poolThreads } from '../../src/thread-pool.js';

const settings = { issuer: 'https://auth.test.example', audience: 'https://api.test.example', clockTolerance: 5 };

describe('thread pool: signatures never queue behind password hashes', () => {
  const service = new TokenService(ephemeralKeySet('ES256', Date.now()), settings);
  const claims = (now: number) => ({ iss: settings.issuer, sub: 'till-001', aud: settings.audience, iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 600, jti: 'j-1', tenant: 'demo' });

  it('reads UV_THREADPOOL_SIZE as libuv does: a positive integer, else 4', () => {
    expect(poolThreads(undefined)).toBe(4);
    expect(poolThreads('8')).toBe(8);
    expect(poolThreads('0')).toBe(4);
    expect(poolThreads('two')).toBe(4);
    expect(poolThreads('2.5')).toBe(4);
  });

  it('signs on the pool when it has room, and the token verifies', async () => {
    expect(poolHasRoom()).toBe(true);
    const now = Date.now();
    const token = await service.sign('access', claims(now));
    await expect(service.verify(token, { type: 'access', tenant: 'demo', now, property: 'authorization' })).resolves.toMatchObject({ sub: 'till-001' });
  });

  it('signs in line while hashes hold every thread: the token is ready before any hash is', async () => {
    const hashes = Array.from({ length: 2 * POOL_THREADS }, () => verifyPassword('wrong', defaultDummyHash()));
    let hashed = 0;
    for (const hash of hashes) void hash.then(() => hashed++);
    expect(poolHasRoom()).toBe(false);
    const now = Date.now();
    const token = await service.sign('access', claims(now));
    // Queued on the pool, the signature would have waited for the first hashes to finish.
    expect(hashed).toBe(0);
    await expect(Promise.all(hashes)).resolves.toEqual(hashes.map(() => false));
    expect(poolHasRoom()).toBe(true);
    await expect(service.verify(token, { type: 'access', tenant: 'demo', now, property: 'authorization' })).resolves.toMatchObject({ sub: 'till-001' });
  });
});
