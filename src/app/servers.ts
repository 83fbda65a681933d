/**
 * The node:http servers of the app: each started with the contract's edges (client errors
 * answered the contract's way, connection caps, timeouts), and all drained together at
 * shutdown within a bounded grace.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import { managementAddress } from '../config/management-schema.js';
import { answerClientError } from '../http/client-error.js';
import { closeSilentConnections, type ConnectionTimeouts } from '../http/connection-timeouts.js';
import { hardenServer, type ConnectionCaps } from '../http/server-edges.js';
import type { AppMetrics } from '../observe/prometheus.js';

export interface ServerSpec {
  /** For logs and the connection metrics. */
  name: string;
  port: number;
  host: string;
  limits: ConnectionCaps;
  timeouts: ConnectionTimeouts;
}

interface ConnectionSettings {
  readonly max_connections: number;
  readonly max_connections_per_address: number;
  readonly head_timeout_ms: number;
  readonly idle_timeout_ms: number;
}

/** A listener's caps and timeouts from its section (config/connection-schema.ts). */
function connectionSpec(settings: ConnectionSettings): Pick<ServerSpec, 'limits' | 'timeouts'> {
  return {
    limits: { total: settings.max_connections, perAddress: settings.max_connections_per_address },
    timeouts: { headMs: settings.head_timeout_ms, idleMs: settings.idle_timeout_ms },
  };
}

type Env = Readonly<Record<string, string | undefined>>;

/** Where each public listener listens, by its id. PORT and HOST override the first, so `PORT=9000 npm start` works. */
export function publicSpecs(config: LoadedConfig, env: Env): (ServerSpec & { id: string })[] {
  return config.listeners.map(({ http }, index) => ({
    id: http.id,
    name: http.id,
    port: index === 0 && env.PORT !== undefined ? Number(env.PORT) : http.port,
    host: index === 0 && env.HOST !== undefined ? env.HOST : http.host,
    ...connectionSpec(http),
  }));
}

/** Where the management listener listens; MANAGEMENT_PORT and MANAGEMENT_HOST override it, as PORT and HOST the first public one. */
export function managementSpec(config: LoadedConfig, env: Env): ServerSpec {
  const section = config.main.management;
  return { name: 'management', ...managementAddress(section, env), ...connectionSpec(section) };
}

export class Servers {
  readonly started: Server[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly metrics: AppMetrics | undefined,
  ) {}

  async start(listener: RequestListener, { name, port, host, limits, timeouts }: ServerSpec): Promise<Server> {
    // Host is checked by request-edges.ts, which answers the contract's way (node: a bare 400).
    const server = createServer({ requireHostHeader: false }, listener);
    server.on('clientError', answerClientError);
    const observers = this.metrics?.connections(name);
    hardenServer(server, limits, observers);
    closeSilentConnections(server, timeouts, observers?.closed);
    server.listen(port, host);
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    this.logger.info({ listener: name, address: server.address() }, 'listening');
    this.started.push(server);
    return server;
  }

  /** Stops accepting on every server and lets calls in flight finish, for at most `graceMs`. */
  async drain(graceMs: number): Promise<void> {
    await Promise.all(this.started.map((server) => drain(server, graceMs)));
  }
}

/**
 * Stops accepting at once, closes idle keep-alive connections as soon as they go idle (so a
 * connection that was busy does not linger for its keep-alive timeout), and after `graceMs`
 * cuts whatever is still open: shutdown is bounded even with a stalled client.
 */
function drain(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 25);
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    sweep.unref();
    force.unref();
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
