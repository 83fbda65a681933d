import { parseArgs } from 'node:util';
import { ConfigError, formatIssue } from '../config-kit/issues.js';
import { systemClock } from '../engine/clock.js';
import { DEFAULT_CONFIG, type Command } from './command.js';

/** `authpipe validate [--config FILE]`: exit 0 when valid (warnings printed first), else 1 and one line per issue. */
export const validate: Command = {
  summary: 'check the config, every pipe and every valve config; print <file>: <pointer>: <message>',
  usage:
    'usage: authpipe validate [--config FILE]\n\n' +
    'Checks the main file, every pipe and every valve config; prints each problem as\n' +
    '<file>: <json pointer>: <message>, and warnings as warning: …. Exit 0 valid, 1 invalid.\n' +
    '  --config FILE   the main config file (default config/authpipe.json)\n',
  async run(args) {
    const { values } = parseArgs({ args, options: { config: { type: 'string', default: DEFAULT_CONFIG } } });
    // The engine loads only now: help and usage errors answer without it.
    const [{ loadConfig }, { createRegistry }, { silentLogger }, { MemoryStore }] = await Promise.all([
      import('../config/load.js'),
      import('../valves/index.js'),
      import('../logger.js'),
      import('../store/memory.js'),
    ]);
    const store = new MemoryStore(systemClock);
    try {
      const loaded = loadConfig(values.config as string, {
        registry: createRegistry(),
        runtime: () => ({ store, clock: systemClock, logger: silentLogger() }),
        readOnly: true,
      });
      for (const warning of loaded.warnings) process.stdout.write(`warning: ${formatIssue(warning)}\n`);
      const warned = loaded.warnings.length > 0 ? `, ${loaded.warnings.length} warning${loaded.warnings.length === 1 ? '' : 's'}` : '';
      process.stdout.write(`${values.config}: valid (version ${loaded.version}, ${loaded.pipes.size} pipes${warned})\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const issue of err.issues) process.stdout.write(`${formatIssue(issue)}\n`);
      return 1;
    } finally {
      void store.close();
    }
  },
};
