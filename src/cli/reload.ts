import { parseArgs } from 'node:util';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.js';
import { DEFAULT_PID_FILE, isServer, readPid } from './pid-file.js';
import { readReloadOutcome } from './reload-outcome.js';

/** How long `authpipe reload` waits for the server to say how the reload ended. */
const WAIT_MS = 15_000;
const POLL_MS = 50;

/**
 * `authpipe reload [--pid-file FILE]`: SIGHUP to the server named by its pid file, then the
 * outcome the server writes beside it: exit 0 with the version it serves, or 1 with every
 * issue of a refused config (the last good config keeps serving).
 */
export const reload: Command = {
  summary: 'make the running server reload its config (SIGHUP to the pid in its pid file)',
  usage:
    'usage: authpipe reload [--pid-file FILE]\n\n' +
    'Sends SIGHUP to the server whose pid authpipe serve wrote (under --workers: the primary,\n' +
    'which passes it to every worker), then waits for the outcome: exit 0 when the new config\n' +
    'serves, 1 with each issue (file, pointer, message) when the server refused it.\n' +
    `  --pid-file FILE   the file authpipe serve wrote (default ${DEFAULT_PID_FILE})\n`,
  async run(args) {
    const { values } = parseArgs({ args, options: { 'pid-file': { type: 'string', default: DEFAULT_PID_FILE } } });
    const file = values['pid-file'] as string;
    const pid = readPid(file);
    if (pid === null) {
      process.stderr.write(
        `authpipe reload: no server pid in ${file} (is authpipe serve running from this folder? --pid-file names another file)\n`,
      );
      return EXIT_FAILED;
    }
    if (!isServer(pid)) {
      process.stderr.write(`authpipe reload: ${file} names pid ${pid}, which is not a running authpipe server (a stale file)\n`);
      return EXIT_FAILED;
    }
    const sent = Date.now();
    process.kill(pid, 'SIGHUP');
    const outcome = await outcomeSince(file, sent);
    if (outcome === null) {
      process.stderr.write(`authpipe reload: sent SIGHUP to pid ${pid}, but it told no outcome within ${WAIT_MS / 1000} s; see its log\n`);
      return EXIT_FAILED;
    }
    if (!outcome.ok) {
      process.stderr.write(`authpipe reload: the server (pid ${pid}) refused the new config and keeps serving the last good one:\n`);
      for (const issue of outcome.issues ?? []) process.stderr.write(`${issue}\n`);
      return EXIT_FAILED;
    }
    process.stdout.write(`reloaded: authpipe serve (pid ${pid}) serves config version ${outcome.version}\n`);
    return EXIT_OK;
  },
};

async function outcomeSince(pidFile: string, sent: number) {
  for (const deadline = Date.now() + WAIT_MS; Date.now() < deadline;) {
    const outcome = readReloadOutcome(pidFile);
    if (outcome !== null && outcome.at >= sent) return outcome;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return null;
}
