import { connect } from 'node:net';

/**
 * Sends bytes exactly as given over a socket and returns the raw response, for requests
 * fetch and supertest refuse to build: doubled headers, invalid UTF-8, odd paths.
 */
export function rawRequest(
  port: number,
  request: string | Buffer,
  timeoutMs = 5000,
): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('raw request timed out'));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, headers: head, body: rest.join('\r\n\r\n') });
    });
    socket.write(request);
  });
}

/** A PUT with Connection: close, raw headers and a raw body. */
export function rawPut(path: string, headers: string[], body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const head = [`PUT ${path} HTTP/1.1`, 'Host: localhost', 'Connection: close', `Content-Length: ${bytes.length}`, ...headers, '', ''].join(
    '\r\n',
  );
  return Buffer.concat([Buffer.from(head), bytes]);
}
