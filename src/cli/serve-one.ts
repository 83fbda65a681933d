import cluster from 'node:cluster';
import { createApp, type AuthpipeApp } from '../app.js';
import { workerConfigSync } from '../config/cluster-sync.js';
import { ConfigError, formatIssue } from '../config-kit/issues.js';
import { CLUSTER_METRICS_ENV } from '../observe/cluster-protocol.js';
import { workerMetricsSource } from '../observe/worker-metrics.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { writeReloadOutcome } from './reload-outcome.js';
import { countKeyFiles, startSummary } from './start-summary.js';

/**
 * One serving process of `authpipe serve`: the whole server, or one worker under --workers.
 * Resolves to 1 on an invalid config (one line per issue on stderr), or undefined once it
 * serves; then SIGHUP reloads, and SIGTERM/SIGINT drain and exit (a second signal exits at once).
 * Rejects, the app closed, when the pid file cannot be written (the command exits 1).
 */
export async function serveOne(configFile: string, pidFile: string): Promise<number | undefined> {
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
    try {
      writePidFile(pidFile);
    } catch (err) {
      // Not served without it: `authpipe reload` and supervisors find the server by that file.
      await app.close().catch(() => undefined);
      throw err;
    }
    process.on('exit', () => removePidFile(pidFile));
  }
  app.logger.info(
    {
      ...startSummary(app.holder.current, servers, keysBefore, countKeyFiles(configFile), process.env),
      ...(cluster.isWorker ? {} : { pidFile }),
    },
    'authpipe started',
  );
  process.on('SIGHUP', () => writeReloadOutcome(pidFile, app.reload('SIGHUP')));
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
}
