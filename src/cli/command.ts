/** A CLI subcommand: resolves to the exit code, or undefined when it keeps running (serve). */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number | undefined> | number | undefined;
}

export const DEFAULT_CONFIG = 'config/authpipe.json';
