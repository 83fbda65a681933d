import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type AppOptions, type AuthpipeApp } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';
import { answerOf } from './net.js';

/** A real authpipe listening on an ephemeral loopback port. */
export interface RunningServer {
  app: AuthpipeApp;
  server: Server;
  /** The first public listener. */
  url: string;
  /** The management listener (metrics, readyz, admin API, console, traced calls). */
  managementUrl: string;
  /** PUT /api/authentication/<operation> through real HTTP (fetch), on the public listener unless `via` says management. */
  call(
    operation: string,
    body: unknown,
    headers?: Record<string, string>,
    via?: 'public' | 'management',
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export async function startServer(options: AppOptions): Promise<RunningServer> {
  // MANAGEMENT_PORT 0 unless the test says otherwise: parallel suites must not fight over 9090.
  const env = { MANAGEMENT_PORT: '0', ...(options.env ?? { ...process.env, PORT: '0', HOST: '127.0.0.1' }) };
  const app = createApp({ logger: silentLogger(), auditStream: { write() {} }, ...options, env });
  const servers = await app.listen();
  const [server] = servers;
  const management = servers[servers.length - 1];
  if (!server || !management || server === management) throw new Error('no listener started');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const managementUrl = `http://127.0.0.1:${(management.address() as AddressInfo).port}`;
  return {
    app,
    server,
    url,
    managementUrl,
    async call(operation, body, headers = {}, via = 'public') {
      const res = await fetch(`${via === 'management' ? managementUrl : url}/api/authentication/${operation}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', tenant: 'demo', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return answerOf(res);
    },
    close: () => app.close(),
  };
}
