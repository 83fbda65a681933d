import { parseArgs } from 'node:util';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.js';
import { DEFAULT_PID_FILE, isServer, readPid } from './pid-file.js';

/** `authpipe reload [--pid-file FILE]`: SIGHUP to the server named by its pid file. */
export const reload: Command = {
  summary: 'make the running server reload its config (SIGHUP to the pid in its pid file)',
  usage:
    'usage: authpipe reload [--pid-file FILE]\n\n' +
    'Sends SIGHUP to the server whose pid authpipe serve wrote (under --workers: the primary,\n' +
    'which passes it to every worker). The reload itself is logged by the server.\n' +
    `  --pid-file FILE   the file authpipe serve wrote (default ${DEFAULT_PID_FILE})\n`,
  run(args) {
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
    process.kill(pid, 'SIGHUP');
    process.stdout.write(`sent SIGHUP to authpipe serve (pid ${pid}); the server logs the reload\n`);
    return EXIT_OK;
  },
};
