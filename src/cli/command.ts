/** A CLI subcommand: resolves to the exit code, or undefined when it keeps running (serve). */
export interface Command {
  summary: string;
  /** The `authpipe <command> --help` text: a usage line, then the options. */
  usage: string;
  run(args: string[]): Promise<number | undefined> | number | undefined;
}

export const DEFAULT_CONFIG = 'config/authpipe.json';

/**
 * Exit codes, the same for every command: 0 done, 1 it failed (an invalid config, a file it
 * could not read, a server that is not running), 2 a usage error (unknown command or option,
 * a missing or bad value). `run` adds 3 for a 403 and 4 for a 500 answer.
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
