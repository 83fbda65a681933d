import { main } from '../../src/cli/main.js';

/**
 * Runs one `authpipe …` command line in this process, as the shell would (through cli/main.ts,
 * which turns a bad option into exit 2 with the usage), capturing what it prints. The
 * commands write to process.stdout/stderr themselves, so both are swapped for the call.
 * The built command in a separate process is covered by test/cli/commands.test.ts.
 */
export async function runCli(args: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}
