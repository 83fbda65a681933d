import { readFileSync } from 'node:fs';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Command } from './command.js';
import { commands } from './index.js';

/**
 * The `authpipe` command line: `authpipe <command> [options]`. Every command has its own
 * `--help` (or `-h`, same text, exit 0); `--version` prints the version. An unknown command
 * or option, or an option missing its value, is a usage error: one line saying what is
 * wrong, the command's usage, exit 2, never a stack trace. Anything a command throws is
 * reported as one line, exit 1.
 */
const HELP = new Set(['--help', '-h']);

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const stdio: Output = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) };

/** The version in the nearest package.json named authpipe above this file. */
function version(): string {
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'authpipe' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look further up
    }
  }
  return 'unknown';
}

function overview(): string {
  const rows = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(14)} ${c.summary}`);
  return (
    `usage: authpipe <command> [options]\n\ncommands:\n${rows.join('\n')}\n\n` +
    "authpipe <command> --help shows a command's options; authpipe --version the version.\n"
  );
}

/** Errors node:util parseArgs throws for what the user typed (not bugs). */
function isUsageError(err: unknown): err is Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** Runs one command line; resolves to the exit code, or undefined when the command keeps running. */
export async function main(argv: readonly string[], io: Output = stdio): Promise<number | undefined> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || HELP.has(name)) {
    const topic = name === 'help' && args[0] !== undefined ? commands[args[0]] : undefined;
    io.out(topic ? topic.usage : overview());
    return EXIT_OK;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`authpipe ${version()}\n`);
    return EXIT_OK;
  }
  const command: Command | undefined = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.err(`authpipe: ${name.startsWith('-') ? 'unknown option' : 'unknown command'} "${name}"\n\n${overview()}`);
    return EXIT_USAGE;
  }
  const end = args.indexOf('--');
  if ((end === -1 ? args : args.slice(0, end)).some((a) => HELP.has(a))) {
    io.out(command.usage);
    return EXIT_OK;
  }
  try {
    return await command.run(args);
  } catch (err) {
    if (isUsageError(err)) {
      io.err(`authpipe ${name}: ${err.message}\n${command.usage}`);
      return EXIT_USAGE;
    }
    io.err(`authpipe ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILED;
  }
}
