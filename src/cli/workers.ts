import cluster, { type Worker } from 'node:cluster';
import { dirname, resolve } from 'node:path';
import { ConfigError, formatIssue } from '../config-kit/issues.js';
import { loadConfig } from '../config/load.js';
import { closeConfigServices } from '../config/services.js';
import { systemClock } from '../engine/clock.js';
import { createLogger, silentLogger } from '../logger.js';
import { CLUSTER_METRICS_ENV } from '../observe/cluster-protocol.js';
import { MemoryStore } from '../store/memory.js';
import { resolveStoreSettings } from '../store/create.js';
import { createRegistry } from '../valves/index.js';
import { answerMetricsAsks } from './workers-metrics.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { countKeyFiles, signingKeyState } from './start-summary.js';
import { answerConfigChanges } from './workers-config.js';

/**
 * The primary of `authpipe serve --workers N`: checks the config, refuses the memory store
 * (each worker would hold its own counters, OTPs and refresh tokens), forks N workers that
 * share the listening ports through node:cluster, replaces a worker that dies, forwards
 * SIGHUP (reload) and shuts all down on SIGTERM/SIGINT. It serves nothing itself, but sums
 * the workers' metrics when one of them is scraped (workers-metrics.ts) and relays an admin
 * change to every worker before it is answered (workers-config.ts).
 */
const RESTART_DELAY_MS = 500;
const STOP_GRACE_MS = 10_000;

export function runPrimary(configFile: string, count: number, pidFile: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const keysBefore = countKeyFiles(configFile);
  const placeholder = new MemoryStore(systemClock);
  let main;
  try {
    const loaded = loadConfig(configFile, {
      registry: createRegistry(),
      runtime: () => ({ store: placeholder, clock: systemClock, logger: silentLogger() }),
      env,
    });
    main = loaded.main;
    void closeConfigServices(loaded.services);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return 1;
  } finally {
    void placeholder.close();
  }
  const store = resolveStoreSettings(main.store, env, dirname(resolve(configFile)));
  if (!store.shared) {
    process.stderr.write(
      `authpipe serve: --workers ${count} needs the redis store; with the ${store.type} store every worker would keep its own ` +
        'lockout counters, OTPs and refresh tokens. Set "store": {"type": "redis", ...} in the config, or REDIS_URL.\n',
    );
    return 1;
  }

  const logger = createLogger({ level: env.LOG_LEVEL ?? main.log.level, format: env.LOG_FORMAT });
  cluster.setupPrimary({ exec: process.argv[1] as string, args: ['serve', '--config', configFile] });
  const listened = new WeakSet<Worker>();
  let stopping = false;

  answerMetricsAsks(logger);
  answerConfigChanges(logger);
  const fork = () => cluster.fork({ [CLUSTER_METRICS_ENV]: '1' });
  cluster.on('listening', (worker, address) => {
    listened.add(worker);
    logger.info({ worker: worker.id, pid: worker.process.pid, address: address.address, port: address.port }, 'worker listening');
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (!listened.has(worker)) {
      // It died before serving (bad port, unreadable key…): restarting would only loop.
      logger.fatal({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker failed at start; stopping');
      void stop(1);
      return;
    }
    logger.warn({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker died; starting another');
    setTimeout(() => !stopping && fork(), RESTART_DELAY_MS).unref();
  });

  const stop = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    const exited = workers.map((w) => new Promise<void>((done) => w.once('exit', () => done())));
    for (const w of workers) w.process.kill('SIGTERM');
    const force = setTimeout(() => workers.forEach((w) => w.process.kill('SIGKILL')), STOP_GRACE_MS);
    await Promise.all(exited);
    clearTimeout(force);
    logger.info({ exitCode }, 'all workers stopped');
    removePidFile(pidFile);
    logger.flush();
    process.exit(exitCode);
  };
  process.once('SIGTERM', () => void stop(0));
  process.once('SIGINT', () => void stop(0));
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });

  writePidFile(pidFile);
  const signingKey = signingKeyState(keysBefore, countKeyFiles(configFile));
  logger.info({ workers: count, pid: process.pid, pidFile, config: resolve(configFile), signingKey }, 'starting workers');
  for (let i = 0; i < count; i++) fork();
  return undefined;
}
