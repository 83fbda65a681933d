import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type AppOptions, type AuthpipeApp } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';
import { answerOf } from './net.js';

/** A real authpipe listening on an ephemeral loopback port. */
export interface RunningServer {
  app: AuthpipeApp;
  server: Server;
  url: string;
  /** PUT /api/authentication/<operation> through real HTTP (fetch). */
  call(operation: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export async function startServer(options: AppOptions): Promise<RunningServer> {
  const app = createApp({ logger: silentLogger(), auditStream: { write() {} }, env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, ...options });
  const [server] = await app.listen();
  if (!server) throw new Error('no listener started');
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    server,
    url,
    async call(operation, body, headers = {}) {
      const res = await fetch(`${url}/api/authentication/${operation}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', tenant: 'demo', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return answerOf(res);
    },
    close: () => app.close(),
  };
}
