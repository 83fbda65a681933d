import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { freePort } from './net.js';

/**
 * Throwaway redis-server processes for tests: each on a free loopback port, without
 * persistence, killed afterwards. Without redis-server the suites say so loudly and skip,
 * except in CI (CI=true), where a missing server fails the run.
 */
const REDIS_SERVER = findRedisServer();

function findRedisServer(): string | null {
  if (process.env.REDIS_SERVER && existsSync(process.env.REDIS_SERVER)) return process.env.REDIS_SERVER;
  if (existsSync('/usr/bin/redis-server')) return '/usr/bin/redis-server';
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  return which.status === 0 && path ? path : null;
}

/** `describe` that needs a real redis-server: skips loudly on a laptop, fails in CI. */
export function describeWithRedis(name: string, body: () => void): void {
  if (REDIS_SERVER) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs redis-server, which CI must install (.ci/run)', () => {
        throw new Error('redis-server not found, and CI=true: Redis-backed tests may not be skipped in CI');
      });
    });
    return;
  }
  console.warn(`\n*** redis-server not found: SKIPPING "${name}" (install redis-server to run it) ***\n`);
  describe.skip(name, body);
}

export { freePort };

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class RedisServer {
  private child: ChildProcess | null = null;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
    private readonly dir: string,
    private readonly leadingArgs: readonly string[] = [],
  ) {}

  /** Starts a server on a free port and waits for PONG. */
  static async start(extraArgs: readonly string[] = []): Promise<RedisServer> {
    return RedisServer.startWith((port, dir) => new RedisServer(port, extraArgs, dir));
  }

  /** A Sentinel (redis-server --sentinel) monitoring `master` under `name`, quorum 1. */
  static async startSentinel(master: RedisServer, name: string): Promise<RedisServer> {
    return RedisServer.startWith((port, dir) => {
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(conf, `sentinel monitor ${name} 127.0.0.1 ${master.port} 1\nsentinel resolve-hostnames no\n`);
      return new RedisServer(port, [], dir, [conf, '--sentinel']);
    });
  }

  private static async startWith(make: (port: number, dir: string) => RedisServer): Promise<RedisServer> {
    for (let attempt = 0; ; attempt++) {
      const server = make(await freePort(), mkdtempSync(join(tmpdir(), 'authpipe-redis-')));
      try {
        await server.start();
        return server;
      } catch (err) {
        server.cleanup();
        if (attempt >= 3) throw err;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** (Re)starts the process on the same port; resolves when it answers PING. */
  async start(): Promise<void> {
    if (!REDIS_SERVER) throw new Error('redis-server not found');
    if (this.child) throw new Error('already running');
    this.output = '';
    const args = [
      ...this.leadingArgs,
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      ...this.extraArgs,
    ];
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.once('exit', () => {
      live.delete(child);
      if (this.child === child) this.child = null;
    });
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      if (!this.child) throw new Error(`redis-server exited at start:\n${this.output}`);
      if (await answersPing(this.port)) return;
      await sleep(20);
    }
    await this.kill();
    throw new Error(`redis-server did not answer PING within 5 s:\n${this.output}`);
  }

  /** Kills the process (SIGKILL by default: a crash, not a shutdown) and waits for its exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Freezes the process: connections stay open, nothing answers (a hung server). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** One command over a fresh connection; the raw RESP reply. */
  command(...args: string[]): Promise<string> {
    return redisCommand(this.port, args);
  }

  async stop(): Promise<void> {
    this.resume();
    await this.kill('SIGKILL');
    this.cleanup();
  }

  private cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function answersPing(port: number): Promise<boolean> {
  try {
    return (await redisCommand(port, ['PING'], 500)).startsWith('+PONG');
  } catch {
    return false;
  }
}

/**
 * Sends one command in RESP and returns the raw reply once it looks complete. Enough for
 * PING, PTTL, SCRIPT FLUSH, CLUSTER … in tests, without a client library.
 */
function redisCommand(port: number, args: readonly string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${args[0]} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply);
    };
    socket.on('error', done);
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (complete(reply)) done();
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

/** True when `reply` holds one whole RESP value (simple cases: no nested aggregates). */
function complete(reply: string): boolean {
  const end = reply.indexOf('\r\n');
  if (end < 0) return false;
  const head = reply.slice(0, end);
  if ('+-:'.includes(head[0] as string)) return true;
  const size = Number(head.slice(1));
  if (head[0] === '$') return size < 0 || Buffer.byteLength(reply) >= end + 2 + size + 2;
  if (head[0] === '*') return size <= 0 || reply.split('\r\n').length - 1 >= 1 + 2 * size;
  return true;
}

/**
 * A Redis Cluster of `size` masters without replicas, slots split evenly, formed with
 * CLUSTER ADDSLOTSRANGE and CLUSTER MEET; resolves once every node reports cluster_state:ok.
 */
export async function startCluster(size = 3): Promise<RedisServer[]> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < size; i++)
      nodes.push(
        await RedisServer.start(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']),
      );
    const per = Math.floor(16384 / size);
    for (const [i, node] of nodes.entries()) {
      const first = i * per;
      const last = i === size - 1 ? 16383 : first + per - 1;
      expectOk(await node.command('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last)));
    }
    for (const node of nodes.slice(1)) expectOk(await nodes[0]!.command('CLUSTER', 'MEET', '127.0.0.1', String(node.port)));
    const until = Date.now() + 15_000;
    for (;;) {
      const states = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'INFO')));
      const known = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'NODES')));
      if (
        states.every((s) => s.includes('cluster_state:ok')) &&
        known.every((k) => k.split('\n').filter((l) => l.includes('master')).length === size)
      )
        return nodes;
      if (Date.now() > until) throw new Error(`cluster did not form:\n${states.join('\n')}`);
      await sleep(100);
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
}

function expectOk(reply: string): void {
  if (!reply.startsWith('+OK')) throw new Error(`expected +OK, got ${reply}`);
}
