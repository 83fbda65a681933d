import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SettingsProblem, StoreWhere } from './backend.js';
import type { RedisConfig } from './redis.js';

/**
 * How the redis backend connects, read from the main file's `store` section and the REDIS_URL
 * environment variable (which wins, and selects this backend whatever the section's type).
 * Resolved without touching the network, so the same function both checks a config
 * (problems with JSON pointers) and feeds the store factory.
 */
interface RedisNode {
  host: string;
  port: number;
}

interface RedisTls {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized: boolean;
}

interface RedisCommon {
  type: 'redis';
  username?: string;
  password?: string;
  tls?: RedisTls;
  /** The longest any store operation may take before it fails (ms). */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** Where the connection was chosen, for logs: the config file or REDIS_URL. */
  source: 'config' | 'REDIS_URL';
}

export type RedisSettings =
  | (RedisCommon & { mode: 'standalone'; url: string; db?: number })
  | (RedisCommon & { mode: 'sentinel'; sentinels: RedisNode[]; master: string; sentinelPassword?: string; db?: number })
  | (RedisCommon & { mode: 'cluster'; nodes: RedisNode[] });

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const REDIS_URL = /^rediss?:\/\/[^\s]+$/;

export function resolveRedisSettings(store: RedisConfig, where: StoreWhere): { settings: RedisSettings; problems: SettingsProblem[] } {
  const problems: SettingsProblem[] = [];
  const envUrl = where.env.REDIS_URL || undefined;
  if (envUrl !== undefined && !REDIS_URL.test(envUrl)) {
    problems.push({
      pointer: '/store',
      code: 'CONFIG_INVALID',
      message: 'the REDIS_URL environment variable must look like redis://host:port or rediss://host:port',
    });
  }

  const common: RedisCommon = {
    type: 'redis',
    commandTimeoutMs: store.command_timeout_ms,
    connectTimeoutMs: store.connect_timeout_ms,
    source: envUrl ? 'REDIS_URL' : 'config',
  };
  if (store.username !== undefined) common.username = store.username;
  if (store.password !== undefined) common.password = store.password;
  const tls = readTls(store.tls, where.configDir, problems);
  if (tls) common.tls = tls;

  if (envUrl) return { settings: { ...common, mode: 'standalone', url: envUrl }, problems };

  const given = (['url', 'sentinels', 'cluster'] as const).filter((k) => store[k] !== undefined);
  if (given.length > 1) {
    problems.push({
      pointer: `/store/${given[1]}`,
      code: 'CONFIG_INVALID',
      message: `give one of url, sentinels or cluster, not ${given.join(' and ')}`,
    });
  }
  if (store.cluster) {
    if (store.db !== undefined)
      problems.push({ pointer: '/store/db', code: 'CONFIG_INVALID', message: 'Redis Cluster has only database 0; remove db' });
    return { settings: { ...common, mode: 'cluster', nodes: store.cluster }, problems };
  }
  const db = store.db === undefined ? {} : { db: store.db };
  if (store.sentinels) {
    const sentinel = { ...common, ...db, mode: 'sentinel' as const, sentinels: store.sentinels, master: store.sentinel_master ?? '' };
    return {
      settings: store.sentinel_password === undefined ? sentinel : { ...sentinel, sentinelPassword: store.sentinel_password },
      problems,
    };
  }
  return { settings: { ...common, ...db, mode: 'standalone', url: store.url ?? DEFAULT_URL }, problems };
}

function readTls(tls: RedisConfig['tls'], configDir: string, problems: SettingsProblem[]): RedisTls | undefined {
  if (tls === undefined || tls === false) return undefined;
  const out: RedisTls = { rejectUnauthorized: true };
  if (tls === true) return out;
  const files = { ca: tls.ca_file, cert: tls.cert_file, key: tls.key_file };
  for (const [name, file] of Object.entries(files) as [keyof typeof files, string | undefined][]) {
    if (file === undefined) continue;
    try {
      out[name] = readFileSync(resolve(configDir, file), 'utf8');
    } catch (err) {
      problems.push({
        pointer: `/store/tls/${name}_file`,
        code: 'CONFIG_READ',
        message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      });
    }
  }
  if ((tls.cert_file === undefined) !== (tls.key_file === undefined)) {
    problems.push({
      pointer: '/store/tls',
      code: 'CONFIG_INVALID',
      message: 'cert_file and key_file go together (a client certificate needs its key)',
    });
  }
  if (tls.servername !== undefined) out.servername = tls.servername;
  if (tls.reject_unauthorized === false) out.rejectUnauthorized = false;
  return out;
}

/** Where the store connects, for logs: never a password. */
export function describeRedis(settings: RedisSettings): string {
  switch (settings.mode) {
    case 'standalone': {
      try {
        const url = new URL(settings.url);
        return `${url.protocol}//${url.host} (${settings.source})`;
      } catch {
        return `redis (${settings.source})`;
      }
    }
    case 'sentinel':
      return `sentinel master "${settings.master}" via ${settings.sentinels.map((n) => `${n.host}:${n.port}`).join(',')}`;
    case 'cluster':
      return `cluster via ${settings.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  }
}
