import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import { ConfigError, formatIssue } from '../config/issues.js';
import { DEFAULT_CONFIG, type Command } from './command.js';

/** `authpipe serve [--config FILE]`: serve until SIGTERM/SIGINT; SIGHUP reloads the config. */
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
    process.on('SIGHUP', () => app.reload());
    const stop = (signal: string) => {
      app.logger.info({ signal }, 'shutting down');
      void app.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    return undefined;
  },
};
