import { Agent, request } from 'node:http';

/**
 * A PUT client on node:http with keep-alive connections: much less CPU per call than fetch,
 * so that tests measuring the server's CPU in-process see the server's work, not the client's.
 */
export interface LightClient {
  put(operation: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): void;
}

export function lightClient(baseUrl: string, sockets = 32): LightClient {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const base = new URL(baseUrl);
  return {
    put(operation, body, headers = {}) {
      const bytes = Buffer.from(JSON.stringify(body));
      return new Promise((resolve, reject) => {
        const req = request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            method: 'PUT',
            path: `/api/authentication/${operation}`,
            headers: { 'content-type': 'application/json', 'content-length': bytes.length, tenant: 'demo', ...headers },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(bytes);
      });
    },
    close: () => agent.destroy(),
  };
}
