import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG, type Command } from './command.js';
import { DEFAULT_PID_FILE } from './pid-file.js';

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
    // The engine loads only now: help and usage errors answer without it.
    if (workers > 1 && cluster.isPrimary) return (await import('./workers.js')).runPrimary(configFile, workers, pidFile);
    return (await import('./serve-one.js')).serveOne(configFile, pidFile);
  },
};
