/**
 * The management listener's names at run time (config/management-hosts.ts says what they
 * are): which origin a request names, if any, and every origin the console may come back to.
 * A bare name is served at the port the connection came in on, so MANAGEMENT_PORT and a port
 * picked at listen (0) need no configuring; the console's client learns that port when the
 * listener starts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AdminError } from './admin-error.js';
import type { ConfigHolder } from '../config/holder.js';
import type { LoadedConfig } from '../config/load.js';
import { hostEntries, hostNames } from '../config/management-hosts.js';
import { managementAddress } from '../config/management-schema.js';
import { requestIdOf } from '../http/request-id.js';
import { baseHeaders, sendJson } from '../http/respond.js';

type Env = Readonly<Record<string, string | undefined>>;

export class ManagementHosts {
  /** Host value → origin, per config and port (the entries may change with a reload). */
  private readonly byConfig = new WeakMap<LoadedConfig, Map<number, Map<string, string>>>();
  /** Where the listener listens: read at start, as the listener does not move on a reload. */
  private readonly listenHost: string;
  private port: number;

  constructor(
    private readonly holder: ConfigHolder,
    env: Env,
  ) {
    ({ host: this.listenHost, port: this.port } = managementAddress(holder.current.main.management, env));
  }

  /** The port the listener got (MANAGEMENT_PORT=0 lets the system pick one). */
  listening(port: number): void {
    this.port = port;
  }

  /** The origin the request's one Host names, or null: a missing, doubled or unlisted Host. */
  originOf(req: IncomingMessage): string | null {
    const raw = req.rawHeaders;
    let host: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
      if (host !== undefined) return null;
      host = raw[i + 1] as string;
    }
    if (host === undefined) return null;
    return this.table(req.socket.localPort ?? this.port).get(host.toLowerCase()) ?? null;
  }

  /** Every name's origin at the port listened on: where the console's client may come back to. */
  origins(): string[] {
    return [...new Set(this.table(this.port).values())];
  }

  private table(port: number): Map<string, string> {
    const config = this.holder.current;
    let byPort = this.byConfig.get(config);
    if (!byPort) this.byConfig.set(config, (byPort = new Map()));
    let table = byPort.get(port);
    if (!table) {
      table = new Map();
      for (const name of hostNames(hostEntries(config.main.management.hosts, this.listenHost), port))
        for (const host of name.hosts) table.set(host, name.origin);
      byPort.set(port, table);
    }
    return table;
  }
}

/** The refusal of a Host the listener does not answer for, in the admin API's shape; the connection is closed. */
export function refuseHost(req: IncomingMessage, res: ServerResponse, logger: Logger): void {
  const requestId = requestIdOf(req);
  baseHeaders(res, requestId);
  const err = new AdminError('HOST_NOT_ALLOWED', 'this listener does not answer for this Host (see management.hosts)', ['host']);
  logger.info({ requestId, method: req.method, outcome: 'refused', code: err.code, reason: err.reason }, 'call');
  sendJson(res, err.status, err.body(requestId), { connection: 'close' });
}
