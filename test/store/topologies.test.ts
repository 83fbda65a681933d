import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { prefixedStore, tenantPrefix } from '../../src/store/store.js';
import { describeWithRedis, freePort, RedisServer, sleep, startCluster } from '../support/redis.js';
import { failsClosed, openRedis, unreadyRedis } from '../support/redis-store.js';
import { makeCertificate, type TestCertificate } from '../support/tls.js';
import { storeContract } from './contract.js';

/**
 * The same store contract through Sentinel, through a three-master Cluster, and over TLS,
 * each against real redis-server processes started here.
 */
describeWithRedis('redis topologies', () => {
  describe('sentinel', () => {
    let master: RedisServer;
    let sentinel: RedisServer;
    beforeAll(async () => {
      master = await RedisServer.start();
      sentinel = await RedisServer.startSentinel(master, 'authpipe-master');
    });
    afterAll(async () => {
      await sentinel?.stop();
      await master?.stop();
    });

    storeContract('redis via sentinel', () =>
      openRedis({ sentinels: [{ host: '127.0.0.1', port: sentinel.port }], sentinel_master: 'authpipe-master' }),
    );

    it('writes land on the master the sentinel names', async () => {
      const store = await openRedis({ sentinels: [{ host: '127.0.0.1', port: sentinel.port }], sentinel_master: 'authpipe-master' });
      try {
        await store.set(`${tenantPrefix('s')}k`, 'on-master');
        expect(await master.command('GET', `${tenantPrefix('s')}k`)).toBe('$9\r\non-master\r\n');
      } finally {
        await store.close();
      }
    });

    it('an unknown master name fails closed', async () => {
      const store = unreadyRedis({ sentinels: [{ host: '127.0.0.1', port: sentinel.port }], sentinel_master: 'nobody' });
      try {
        await sleep(200);
        expect(await failsClosed(store.incr('n', 1000))).toBeLessThan(600);
        expect(await failsClosed(store.ping())).toBeLessThan(600);
      } finally {
        await store.close();
        // ioredis waits out its sentinel retry delay (at most 1 s) even after close.
        await sleep(1100);
      }
    });
  });

  describe('cluster', () => {
    let nodes: RedisServer[];
    beforeAll(async () => {
      nodes = await startCluster(3);
    }, 30_000);
    afterAll(async () => {
      await Promise.all((nodes ?? []).map((n) => n.stop()));
    });

    const open = () => openRedis({ cluster: [{ host: '127.0.0.1', port: nodes[0]!.port }] });
    storeContract('redis cluster', open);

    it('tenants spread over the masters, each tenant on one slot, scripts included', async () => {
      const store = await open();
      try {
        for (let t = 0; t < 24; t++) {
          const tenant = prefixedStore(store, tenantPrefix(`tenant-${t}`));
          expect(await tenant.incr('lock:alice', 60_000)).toBe(1);
          expect(await tenant.compareAndSet('refresh:fam', null, 'gen-1', 60_000)).toBe(true);
          expect(await tenant.compareAndSet('refresh:fam', 'gen-1', 'gen-2', 60_000)).toBe(true);
          expect(await tenant.take('refresh:fam')).toBe('gen-2');
        }
        const sizes = await Promise.all(nodes.map(async (n) => Number(/^:(\d+)/.exec(await n.command('DBSIZE'))?.[1])));
        expect(sizes.filter((s) => s > 0).length).toBe(3);
      } finally {
        await store.close();
      }
    });
  });

  describe('tls', () => {
    let certs: TestCertificate | null;
    let redis: RedisServer;
    let tlsPort: number;
    beforeAll(async () => {
      // Self-signed: the certificate is its own CA. Null when openssl cannot make one (needCerts decides).
      try {
        certs = makeCertificate();
      } catch {
        certs = null;
        return;
      }
      tlsPort = await freePort();
      redis = await RedisServer.start([
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        certs.certFile,
        '--tls-key-file',
        certs.keyFile,
        '--tls-ca-cert-file',
        certs.certFile,
        '--tls-auth-clients',
        'no',
      ]);
    });
    afterAll(async () => {
      await redis?.stop();
      certs?.cleanup();
    });

    function needCerts(): boolean {
      if (certs) return true;
      if (process.env.CI === 'true') throw new Error('openssl not found, and CI=true: the TLS tests may not be skipped');
      console.warn('*** openssl not found: SKIPPING the Redis TLS tests ***');
      return false;
    }

    it('speaks TLS with the configured CA (rediss://, tls.ca_file)', async () => {
      if (!needCerts()) return;
      const store = await openRedis({ url: `rediss://127.0.0.1:${tlsPort}`, tls: { ca_file: certs!.certFile } });
      try {
        await store.set(`${tenantPrefix('tls')}k`, 'over-tls', 10_000);
        expect(await store.incr(`${tenantPrefix('tls')}n`, 10_000)).toBe(1);
        expect(await store.take(`${tenantPrefix('tls')}k`)).toBe('over-tls');
      } finally {
        await store.close();
      }
    });

    it('a server certificate it cannot verify fails closed', async () => {
      if (!needCerts()) return;
      const untrusting = unreadyRedis({ url: `rediss://127.0.0.1:${tlsPort}` });
      try {
        await sleep(200);
        expect(await failsClosed(untrusting.get('k'))).toBeLessThan(600);
        expect(await failsClosed(untrusting.ping())).toBeLessThan(600);
      } finally {
        await untrusting.close();
      }
    });
  });
});
