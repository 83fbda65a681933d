#!/usr/bin/env node
/**
 * The `authpipe` command. Each subcommand lives in cli/<name>.ts and is listed once here.
 */
import { commands } from './cli/index.js';

const [name, ...args] = process.argv.slice(2);
const command = name === undefined ? undefined : commands[name];
if (!command) {
  process.stderr.write(
    `usage: authpipe <command> [options]\n\ncommands:\n${Object.entries(commands)
      .map(([n, c]) => `  ${n.padEnd(14)} ${c.summary}`)
      .join('\n')}\n`,
  );
  process.exit(name === undefined || name === 'help' || name === '--help' ? 0 : 2);
} else {
  Promise.resolve(command.run(args)).then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`authpipe ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
