import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { createApp, type AuthpipeApp } from '../app.js';
import { workerConfigSync } from '../config/cluster-sync.js';
import { ConfigError, formatIssue } from '../config-kit/issues.js';
import { CLUSTER_METRICS_ENV } from '../observe/cluster-protocol.js';
import { workerMetricsSource } from '../observe/worker-metrics.js';
import { DEFAULT_CONFIG, type Command } from './command.js';
import { runPrimary } from './workers.js';
import { DEFAULT_PID_FILE, removePidFile, writePidFile } from './pid-file.js';
import { countKeyFiles, startSummary } from './start-summary.js';

/**
 * `authpipe serve [--config FILE] [--workers N] [--pid-file FILE]`: serve until SIGTERM/SIGINT,
 * with the pid in the pid file (for `authpipe reload`) and one start summary line. SIGHUP and
 * (unless `reload.watch` is false) any change to a config or pipe file reload the config.
 * The first SIGTERM drains (stop accepting, finish calls in flight, close the store); a
 * second one exits at once. With N > 1 this process becomes a node:cluster primary and N
 * workers serve (each runs this command without --workers); that needs the redis store.
 */
const MAX_WORKERS = 64;

export const serve: Command = {
  summary: 'serve the authentication API on the configured listeners (--workers N: N processes, needs redis)',
  usage:
    'usage: authpipe serve [--config FILE] [--workers N] [--pid-file FILE]\n\n' +
    'Serves until SIGTERM or SIGINT; SIGHUP (or authpipe reload) reloads the config.\n' +
    '  --config FILE     the main config file (default config/authpipe.json)\n' +
    '  --workers N       N processes on the same ports (1..64; needs the redis store)\n' +
    '  --pid-file FILE   where the server writes its pid for authpipe reload (default var/authpipe.pid)\n',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        config: { type: 'string', default: DEFAULT_CONFIG },
        workers: { type: 'string', default: '1' },
        'pid-file': { type: 'string', default: DEFAULT_PID_FILE },
      },
    });
    const configFile = values.config as string;
    const pidFile = values['pid-file'] as string;
    const workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
      process.stderr.write(`authpipe serve: --workers must be a whole number from 1 to ${MAX_WORKERS}, not "${values.workers}"\n`);
      return 2;
    }
    if (workers > 1 && cluster.isPrimary) return runPrimary(configFile, workers, pidFile);

    let app: AuthpipeApp | undefined;
    const keysBefore = cluster.isPrimary ? countKeyFiles(configFile) : null;
    try {
      // A worker of our own primary serves /metrics summed over all workers (cli/workers-metrics.ts).
      // A worker of our own primary also makes admin changes reach every worker before answering (config/cluster-sync.ts).
      const clustered = cluster.isWorker && process.env[CLUSTER_METRICS_ENV] === '1';
      const propagate = clustered ? workerConfigSync(() => (app?.reload('cluster').ok ? app.holder.current.version : null)) : undefined;
      app = createApp({ configFile, ...(clustered ? { metricsSource: (registry) => workerMetricsSource(registry), propagate } : {}) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      return 1;
    }
    let servers;
    try {
      servers = await app.listen();
    } catch (err) {
      await app.close();
      throw err;
    }
    app.watch();
    // Under --workers the primary holds the pid file (it forwards SIGHUP); each worker still logs its summary.
    if (!cluster.isWorker) {
      writePidFile(pidFile);
      process.on('exit', () => removePidFile(pidFile));
    }
    app.logger.info(
      {
        ...startSummary(app.holder.current, servers, keysBefore, countKeyFiles(configFile), process.env),
        ...(cluster.isWorker ? {} : { pidFile }),
      },
      'authpipe started',
    );
    process.on('SIGHUP', () => app.reload('SIGHUP'));
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        app.logger.warn({ signal }, 'second signal: exiting without draining');
        app.logger.flush?.();
        process.exit(1);
      }
      stopping = true;
      app.logger.info({ signal }, 'shutting down: draining calls in flight');
      app.close().then(
        () => {
          app.logger.info('shut down');
          app.logger.flush?.();
          process.exit(0);
        },
        (err: unknown) => {
          app.logger.error({ err }, 'shutdown failed');
          app.logger.flush?.();
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    return undefined;
  },
};
