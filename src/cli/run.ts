import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, formatIssue } from '../config-kit/issues.js';
import type { LoadedConfig } from '../config/load.js';
import { systemClock } from '../engine/clock.js';
import { formatTrace } from '../observe/trace-format.js';
import type { Store } from '../store/store.js';
import { DEFAULT_CONFIG, type Command } from './command.js';
import { remoteRun, type RemoteResult } from './remote-run.js';

/**
 * `authpipe run <operation> --tenant T [--data JSON] [--header k=v]… [--trace] [--json]`:
 * runs the pipe in-process on the configured store and prints the answer, and with --trace
 * every step. Exit 0 for 200, 3 for 403, 4 for 500; 2 for a usage error, 1 for a bad config.
 */
const EXIT: Record<number, number> = { 200: 0, 403: 3, 500: 4 };

const USAGE =
  'usage: authpipe run <operation> --tenant T [--data \'{"k":"v"}\'] [--header k=v]... [--trace] [--json]\n' +
  '                    [--config FILE] [--client-ip IP] | [--server URL]\n\n' +
  'Runs a pipe and prints its answer (--trace: every valve). Exit 0 for 200, 3 for 403, 4 for 500,\n' +
  '2 for a usage error, 1 for an invalid config or an unreachable server.\n' +
  '  --tenant T        the tenant header\n' +
  '  --data JSON       the request body (default {})\n' +
  '  --header k=v      a request header; repeat for more\n' +
  '  --trace           print the trace of every valve\n' +
  '  --json            print {status, body, headers, trace} as JSON\n' +
  '  --config FILE     in-process: the main config file (default config/authpipe.json), on its store\n' +
  '  --client-ip IP    in-process: the client address the pipe sees (default 127.0.0.1)\n' +
  '  --server URL      send the call to a running server instead (its management listener, e.g.\n' +
  '                    http://127.0.0.1:9090, the one that traces), so it\n' +
  "                    sees the server's state (step 2 of a flow); --trace then asks the server's trace\n" +
  '                    switch (trace.enabled, output "header", this address in trace.clients) with\n' +
  '                    the token in AUTHPIPE_TRACE_TOKEN\n';

export const run: Command = {
  summary: 'run a pipe in-process (no HTTP) on the configured store; --trace shows every valve',
  usage: USAGE,
  async run(args) {
    // A bad option throws; cli/main.ts prints it with the usage (exit 2).
    const parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: 'string', default: DEFAULT_CONFIG },
        tenant: { type: 'string' },
        data: { type: 'string', default: '{}' },
        header: { type: 'string', multiple: true, default: [] },
        'client-ip': { type: 'string', default: '127.0.0.1' },
        trace: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        server: { type: 'string' },
      },
    });
    const { values, positionals } = parsed;
    const headers = parseHeaders(values.header as string[]);
    if (positionals.length !== 1 || values.tenant === undefined || headers === null) {
      process.stderr.write(headers === null ? `--header takes name=value\n${USAGE}` : USAGE);
      return 2;
    }

    const input = {
      operation: positionals[0] as string,
      tenant: values.tenant,
      data: values.data as string,
      headers,
      trace: values.trace as boolean,
    };
    if (values.server !== undefined) {
      let result: RemoteResult;
      try {
        result = await remoteRun(values.server, input, process.env.AUTHPIPE_TRACE_TOKEN);
      } catch (err) {
        process.stderr.write(`authpipe run: ${(err as Error).message}\n`);
        return 1;
      }
      print(result, values.json as boolean);
      if (input.trace && !result.trace) {
        process.stderr.write(
          'no trace came back: the server needs trace.enabled, "output": "header", this address in trace.clients, and its trace.token in AUTHPIPE_TRACE_TOKEN\n',
        );
      }
      return EXIT[result.status] ?? 4;
    }

    // The engine loads only now: help, usage errors and --server runs answer without it.
    const [{ loadConfig }, { closeConfigServices }, { createRegistry }, { dryRun }, { createLogger }, { createStore }] = await Promise.all([
      import('../config/load.js'),
      import('../config/services.js'),
      import('../valves/index.js'),
      import('./dry-run.js'),
      import('../logger.js'),
      import('../store/create.js'),
    ]);
    let store: Store | undefined;
    let config: LoadedConfig;
    const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', destination: process.stderr });
    try {
      config = loadConfig(values.config as string, {
        registry: createRegistry(),
        runtime: (main) => ({
          store: (store ??= createStore(main.store, {
            clock: systemClock,
            logger,
            env: process.env,
            configDir: dirname(resolve(values.config as string)),
          })),
          clock: systemClock,
          logger,
        }),
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      await store?.close();
      return 1;
    }
    try {
      const result = await dryRun(config, { ...input, clientIp: values['client-ip'] as string });
      print(result, values.json as boolean);
      if (!values.json) {
        if (result.status === 403 && result.error) process.stderr.write(`refused: ${result.error.message}\n`);
        if (result.status === 500 && result.error)
          process.stderr.write(`fault: ${result.error.message}\n${(result.error.cause as Error | undefined)?.stack ?? ''}\n`);
      }
      return EXIT[result.status] ?? 4;
    } finally {
      await closeConfigServices(config.services);
      await config.services.store.close();
      logger.flush();
    }
  },
};

function print(result: RemoteResult, json: boolean): void {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ status: result.status, body: result.body, headers: result.headers, ...(result.trace ? { trace: result.trace } : {}) })}\n`,
    );
    return;
  }
  if (result.trace) process.stdout.write(`${formatTrace(result.trace)}\n`);
  process.stdout.write(`${result.status} ${JSON.stringify(result.body)}\n`);
}

function parseHeaders(entries: readonly string[]): Record<string, string[]> | null {
  const headers: Record<string, string[]> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at <= 0) return null;
    const name = entry.slice(0, at).trim().toLowerCase();
    (headers[name] ??= []).push(entry.slice(at + 1));
  }
  return headers;
}
