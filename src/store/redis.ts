import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { JSONSchema } from 'json-schema-to-ts';
import { fault } from '../errors.js';
import { defineStoreBackend, type OptionsConfig } from './backend.js';
import { describeRedis, resolveRedisSettings, type RedisSettings } from './settings.js';
import { checkListLength, type Store } from './store.js';

/**
 * The shared store: Redis through ioredis, standalone, Sentinel or Cluster. Every operation
 * is one command or one Lua script, so two processes can never interleave inside it; TTLs
 * live in Redis. It fails closed: the offline queue is off (no command waits for a
 * connection), every operation has a deadline, and any failure becomes COMMUNICATION_ERROR.
 * A lost connection is retried in the background with a capped backoff, so the engine
 * serves again by itself when Redis returns.
 */

// The counter gets its TTL only when this call created it, as in the memory store.
const INCR_LUA = `
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[2])
if created then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value`;

// ARGV[3] is the TTL in ms, or '' to store without one (SET drops any previous TTL).
const CAS_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`;

// Push, then keep only the newest ARGV[2] values ('' keeps all).
const PUSH_LUA = `
redis.call('RPUSH', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then
  local keep = tonumber(ARGV[2])
  -- LTRIM from -0 would keep the whole list: none kept is a delete.
  if keep > 0 then redis.call('LTRIM', KEYS[1], -keep, -1) else redis.call('DEL', KEYS[1]) end
end
return 1`;

interface Scripts {
  authpipePush(key: string, value: string, maxLength: string): Promise<number>;
  authpipeIncr(key: string, ttlMs: number, by: number): Promise<number>;
  authpipeCas(key: string, expected: string, value: string, ttlMs: string): Promise<number>;
}

type Client = (Redis | Cluster) & Scripts;

const MAX_BACKOFF_MS = 1000;
/** 100, 200, 400, 800, then every second: back within about a second of Redis returning. */
const backoff = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt, 5), MAX_BACKOFF_MS);

export class RedisStore implements Store {
  private readonly client: Client;
  private readonly deadlineMs: number;
  private down = false;
  private closed = false;

  constructor(settings: RedisSettings, logger: Logger) {
    this.deadlineMs = settings.commandTimeoutMs;
    this.client = connect(settings);
    this.client.defineCommand('authpipeIncr', { numberOfKeys: 1, lua: INCR_LUA });
    this.client.defineCommand('authpipeCas', { numberOfKeys: 1, lua: CAS_LUA });
    this.client.defineCommand('authpipePush', { numberOfKeys: 1, lua: PUSH_LUA });
    const where = describeRedis(settings);
    // Log outages once, not on every reconnect attempt.
    this.client.on('error', (err: Error) => {
      if (this.down || this.closed) return logger.debug({ err: err.message, store: where }, 'store still unreachable');
      this.down = true;
      logger.error({ err: err.message, store: where }, 'store unreachable; calls that need it fail until it returns');
    });
    this.client.on('ready', () => {
      logger.info({ store: where }, this.down ? 'store reachable again' : 'store connected');
      this.down = false;
    });
  }

  /** Resolves once connected (or rejects after `timeoutMs`); calls before that fail closed. */
  ready(timeoutMs = 5000): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(fault('COMMUNICATION_ERROR', { detail: `store not ready within ${timeoutMs} ms` }));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    });
  }

  get(key: string): Promise<string | null> {
    return this.run('get', () => this.client.get(key));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    await this.run('set', () => (ttlMs === undefined ? this.client.set(key, value) : this.client.set(key, value, 'PX', millis(ttlMs))));
  }

  incr(key: string, ttlMs: number, by = 1): Promise<number> {
    return this.run('incr', () => this.client.authpipeIncr(key, millis(ttlMs), by));
  }

  take(key: string): Promise<string | null> {
    return this.run('take', () => this.client.getdel(key));
  }

  async compareAndSet(key: string, expected: string | null, value: string, ttlMs?: number): Promise<boolean> {
    if (expected === null) {
      const reply = await this.run('compareAndSet', () =>
        ttlMs === undefined ? this.client.set(key, value, 'NX') : this.client.set(key, value, 'PX', millis(ttlMs), 'NX'),
      );
      return reply === 'OK';
    }
    const ttl = ttlMs === undefined ? '' : String(millis(ttlMs));
    return (await this.run('compareAndSet', () => this.client.authpipeCas(key, expected, value, ttl))) === 1;
  }

  async del(key: string): Promise<void> {
    await this.run('del', () => this.client.del(key));
  }

  async ttl(key: string): Promise<number | null> {
    const ms = await this.run('ttl', () => this.client.pttl(key));
    return ms < 0 ? null : ms;
  }

  async listPush(key: string, value: string, maxLength?: number): Promise<void> {
    checkListLength(maxLength);
    await this.run('listPush', () => this.client.authpipePush(key, value, maxLength === undefined ? '' : String(maxLength)));
  }

  listPop(key: string): Promise<string | null> {
    return this.run('listPop', () => this.client.lpop(key));
  }

  listMove(from: string, to: string): Promise<string | null> {
    return this.run('listMove', () => this.client.lmove(from, to, 'LEFT', 'RIGHT'));
  }

  async listRemove(key: string, value: string): Promise<boolean> {
    return (await this.run('listRemove', () => this.client.lrem(key, 1, value))) > 0;
  }

  listRange(key: string, count: number): Promise<string[]> {
    return count <= 0 ? Promise.resolve([]) : this.run('listRange', () => this.client.lrange(key, 0, count - 1));
  }

  listLength(key: string): Promise<number> {
    return this.run('listLength', () => this.client.llen(key));
  }

  async ping(): Promise<void> {
    await this.run('ping', () => this.client.ping());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.run('quit', () => this.client.quit());
    } catch {
      // Down or slow: drop the connection instead.
    } finally {
      this.client.disconnect();
    }
  }

  /** One operation under the deadline; every failure is a coded fault, never a hang. */
  private run<T>(op: string, command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.deadlineMs} ms`)), this.deadlineMs);
    });
    let pending: Promise<T>;
    try {
      pending = command();
    } catch (err) {
      pending = Promise.reject(err);
    }
    return Promise.race([pending, deadline]).then(
      (value) => {
        clearTimeout(timer);
        return value;
      },
      (err: unknown) => {
        clearTimeout(timer);
        throw fault('COMMUNICATION_ERROR', { cause: err, detail: `store ${op}: ${err instanceof Error ? err.message : String(err)}` });
      },
    );
  }
}

/** Redis wants a positive whole number of milliseconds. */
function millis(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

function connect(settings: RedisSettings): Client {
  const tls = settings.tls ? { tls: { ...settings.tls } } : {};
  const auth = {
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
  };
  // Shared by every connection: fail fast instead of queueing, never replay a command
  // (an INCR replayed after a reconnect would count twice).
  const failFast = {
    commandTimeout: settings.commandTimeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    // How long close() lets a dead socket linger before destroying it (keeps exits prompt).
    disconnectTimeout: settings.commandTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    disableClientInfo: true,
    connectionName: 'authpipe',
  } satisfies RedisOptions;

  if (settings.mode === 'cluster') {
    const options: ClusterOptions = {
      enableOfflineQueue: false,
      clusterRetryStrategy: backoff,
      slotsRefreshTimeout: settings.connectTimeoutMs,
      redisOptions: { ...failFast, ...auth, ...tls },
    };
    return new Cluster(settings.nodes, options) as Client;
  }
  const options: RedisOptions = {
    ...failFast,
    ...auth,
    ...tls,
    enableOfflineQueue: false,
    retryStrategy: backoff,
    ...(settings.db === undefined ? {} : { db: settings.db }),
  };
  if (settings.mode === 'sentinel') {
    return new Redis({
      ...options,
      sentinels: settings.sentinels,
      name: settings.master,
      sentinelRetryStrategy: backoff,
      ...(settings.sentinelPassword === undefined ? {} : { sentinelPassword: settings.sentinelPassword }),
      ...(settings.tls ? { enableTLSForSentinelMode: true, sentinelTLS: { ...settings.tls } } : {}),
    }) as Client;
  }
  return new Redis(settings.url, options) as Client;
}

const REDIS_NODES = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'port'],
    properties: {
      host: { type: 'string', minLength: 1, description: 'Host name or address of the node.' },
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port of the node.' },
    },
  },
} as const;

const redisOptions = {
  url: {
    type: 'string',
    pattern: '^rediss?://',
    description: 'redis://[user:password@]host:port[/db]; rediss:// for TLS. Default redis://127.0.0.1:6379.',
  },
  sentinels: { ...REDIS_NODES, description: 'Sentinel addresses; the master is looked up by sentinel_master.' },
  sentinel_master: { type: 'string', minLength: 1, description: 'The master name the sentinels monitor.' },
  sentinel_password: { type: 'string', description: 'Password of the sentinels themselves (use ${env:NAME}).' },
  cluster: { ...REDIS_NODES, description: 'Seed nodes of a Redis Cluster; the rest is discovered.' },
  username: { type: 'string', minLength: 1, description: 'Redis ACL user to authenticate as (with password); absent: the default user.' },
  password: { type: 'string', description: 'Use ${env:NAME} or ${file:path}; a password in the url wins.' },
  db: {
    type: 'integer',
    minimum: 0,
    maximum: 65535,
    description: 'Database number to select; absent: the one in the url, else 0. Not allowed with cluster.',
  },
  tls: {
    description: 'true: TLS with the system CAs. An object: custom CA, client certificate, server name.',
    type: ['boolean', 'object'],
    additionalProperties: false,
    properties: {
      ca_file: { type: 'string', minLength: 1, description: 'PEM CA bundle, relative to this file.' },
      cert_file: { type: 'string', minLength: 1, description: 'PEM client certificate (with key_file).' },
      key_file: { type: 'string', minLength: 1, description: 'PEM client key (with cert_file).' },
      servername: { type: 'string', minLength: 1, description: 'The name the server certificate must carry, when not the host.' },
      reject_unauthorized: { type: 'boolean', default: true, description: 'false disables certificate checks: tests only.' },
    },
  },
  command_timeout_ms: {
    type: 'integer',
    minimum: 10,
    maximum: 60000,
    default: 500,
    description: 'The longest a store operation may take; then the call fails with COMMUNICATION_ERROR (500).',
  },
  connect_timeout_ms: {
    type: 'integer',
    minimum: 100,
    maximum: 60000,
    default: 2000,
    description:
      'The longest, in milliseconds, a connection (and a cluster slot refresh) may take to open before the attempt fails and is retried.',
  },
} as const satisfies Record<string, JSONSchema>;

/** The redis options of the `store` section, defaults applied. */
export type RedisConfig = OptionsConfig<typeof redisOptions>;

/** `"store": {"type": "redis", …}`, or REDIS_URL: standalone, Sentinel or Cluster, shared by every process. */
export const redisBackend = defineStoreBackend({
  type: 'redis',
  summary: 'shared by every process (needed for --workers > 1).',
  options: redisOptions,
  dependentRequired: { sentinels: ['sentinel_master'], sentinel_master: ['sentinels'], sentinel_password: ['sentinels'] },
  selectedBy: 'REDIS_URL',
  shared: true,
  resolve: (config: RedisConfig, where) => resolveRedisSettings(config, where),
  create: (settings, runtime) => new RedisStore(settings, runtime.logger),
  describe: describeRedis,
});
