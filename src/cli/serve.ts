import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import { ConfigError, formatIssue } from '../config/issues.js';
import { DEFAULT_CONFIG, type Command } from './command.js';

/**
 * `authpipe serve [--config FILE]`: serve until SIGTERM/SIGINT. SIGHUP and (unless
 * `reload.watch` is false) any change to a config or pipe file reload the config. The first
 * SIGTERM drains (stop accepting, finish calls in flight, close the store); a second one
 * exits at once.
 */
export const serve: Command = {
  summary: 'serve the authentication API on the configured listeners',
  async run(args) {
    const { values } = parseArgs({ args, options: { config: { type: 'string', default: DEFAULT_CONFIG } } });
    let app;
    try {
      app = createApp({ configFile: values.config as string });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      return 1;
    }
    await app.listen();
    app.watch();
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
