import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type Socket } from 'node:net';
import { createApp } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';
import { basic } from '../support/credentials.js';
import { ConfigFixture } from '../support/fixture.js';
import { sample } from '../support/metrics-text.js';
import { startServer, type RunningServer } from '../support/server.js';

/**
 * Connections that hold a slot and ask nothing: silent ones, half-sent heads, a byte at a
 * time, and kept-alive ones gone quiet, from several source addresses (loopback is all of
 * 127.0.0.0/8) up to the per-address caps, on the public and the management listener. Each
 * is closed within its bound (shortened here), counted by reason, and a till-login keeps
 * succeeding throughout.
 */

const HEAD_MS = 800;
const IDLE_MS = 400;
const PER_ADDRESS = 6;
/** How late a close may come on a busy machine: the bounds are checked from below exactly, from above loosely. */
const LATE_MS = 1500;
const LIMITS = {
  head_timeout_ms: HEAD_MS,
  idle_timeout_ms: IDLE_MS,
  max_connections: 16 * PER_ADDRESS,
  max_connections_per_address: PER_ADDRESS,
};

let fixture: ConfigFixture;
let server: RunningServer;
const opened: Socket[] = [];

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  const main = fixture.readJson('config/authpipe.json') as { http_configuration: object[]; management: object };
  main.http_configuration = main.http_configuration.map((http) => ({ ...http, ...LIMITS }));
  main.management = { ...main.management, ...LIMITS };
  fixture.writeMain(main);
  server = await startServer({ configFile: fixture.mainFile });
});
afterAll(async () => {
  for (const socket of opened) socket.destroy();
  await server.close();
  fixture.cleanup();
});

const portOf = (url: string) => Number(new URL(url).port);

interface Held {
  socket: Socket;
  /** When the server closed it, ms after it opened; what it answered, if anything. */
  closed: Promise<{ afterMs: number; text: string }>;
}

function hold(port: number, localAddress: string): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    opened.push(socket);
    const started = performance.now();
    let text = '';
    socket.on('data', (c) => (text += c.toString()));
    socket.on('error', () => {});
    const closed = new Promise<{ afterMs: number; text: string }>((done) =>
      socket.once('close', () => done({ afterMs: performance.now() - started, text })),
    );
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** One byte of a request head every `everyMs`, never reaching its end. */
function dribble(socket: Socket, everyMs: number): void {
  const head = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + 'a'.repeat(1000);
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    socket.write(head[i++ % head.length] as string);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

async function tillLogin(): Promise<number> {
  return (await server.call('till-login', {}, { authorization: basic('till-001', 'till-001-pass') })).status;
}

async function metrics(): Promise<string> {
  return (await fetch(`${server.managementUrl}/metrics`)).text();
}

describe.each([
  ['public', () => portOf(server.url), 'd8baaa02-2ead-473c-88b8-a7aa08a53332'],
  ['management', () => portOf(server.managementUrl), 'management'],
] as const)('the %s listener', (_name, portFn, listener) => {
  it('closes silent, half-sent and byte-at-a-time connections from many addresses within the head bound; calls go on', async () => {
    const port = portFn();
    const before = await metrics();
    const held: { kind: string; held: Held }[] = [];
    // Eight addresses, each at its cap: two silent, two that half-close after part of a head,
    // two that send a byte every 100 ms; one more from each is refused by the cap.
    for (let a = 2; a < 10; a++) {
      const address = `127.0.0.${a}`;
      for (let i = 0; i < PER_ADDRESS; i++)
        held.push({ kind: ['silent', 'half-open', 'dribble'][i % 3] as string, held: await hold(port, address) });
      const over = await hold(port, address);
      expect((await over.closed).text).toMatch(/RATE_LIMITED/);
    }
    for (const { kind, held: h } of held) {
      if (kind === 'half-open') h.socket.end('GET /healthz HTTP/1.1\r\nHost: loc');
      if (kind === 'dribble') dribble(h.socket, 100);
    }
    // The caps leave room: legitimate calls from 127.0.0.1 succeed while those are held.
    const calls: number[] = [];
    const caller = (async () => {
      const until = performance.now() + HEAD_MS + 300;
      while (performance.now() < until) calls.push(await tillLogin());
    })();
    const closes = await Promise.all(held.map(async ({ kind, held: h }) => ({ kind, ...(await h.closed) })));
    await caller;
    expect(calls.length).toBeGreaterThan(3);
    expect(new Set(calls)).toEqual(new Set([200]));
    for (const { kind, afterMs } of closes) {
      // A half-closed head is refused at once; the rest at the head bound (the timer is not early).
      if (kind !== 'half-open') expect([kind, afterMs >= HEAD_MS - 20]).toEqual([kind, true]);
      expect([kind, afterMs < HEAD_MS + LATE_MS]).toEqual([kind, true]);
    }
    const after = await metrics();
    const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
    // The half-closed heads were answered as malformed at once; the other 32 timed out.
    expect(delta(`authpipe_http_connections_closed_total{listener="${listener}",reason="head_timeout"}`)).toBe(32);
    expect(delta(`authpipe_http_connections_refused_total{listener="${listener}",reason="per_address"}`)).toBe(8);
  });

  it('closes a kept-alive connection idle past its bound, and one that dribbles its next head', async () => {
    const port = portFn();
    const before = await metrics();
    const ask = `GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`;
    const [idle, slow] = [await hold(port, '127.0.0.20'), await hold(port, '127.0.0.21')];
    idle.socket.write(ask);
    slow.socket.write(ask);
    // After its answer, the slow one starts another head and never finishes it.
    slow.socket.once('data', () => dribble(slow.socket, 50));
    const [idleClosed, slowClosed] = await Promise.all([idle.closed, slow.closed]);
    expect(idleClosed.text).toMatch(/^HTTP\/1\.1 200/);
    expect(idleClosed.text).toMatch(/keep-alive: timeout=0/i);
    // Node closes 1 s after the timeout it advertises; a next head is due HEAD_MS after that.
    expect(idleClosed.afterMs).toBeGreaterThanOrEqual(IDLE_MS + 1000 - 20);
    expect(idleClosed.afterMs).toBeLessThan(IDLE_MS + 1000 + LATE_MS);
    expect(slowClosed.afterMs).toBeGreaterThanOrEqual(IDLE_MS + 1000 + HEAD_MS - 20);
    expect(slowClosed.afterMs).toBeLessThan(IDLE_MS + 1000 + HEAD_MS + LATE_MS);
    const after = await metrics();
    const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
    expect(delta(`authpipe_http_connections_closed_total{listener="${listener}",reason="idle_timeout"}`)).toBe(1);
    expect(delta(`authpipe_http_connections_closed_total{listener="${listener}",reason="head_timeout"}`)).toBe(1);
  });

  it('keeps a connection that goes on asking open well past the head bound', async () => {
    const port = portFn();
    const held = await hold(port, '127.0.0.22');
    let answers = 0;
    held.socket.on('data', (chunk: Buffer) => (answers += (chunk.toString().match(/HTTP\/1\.1 200/g) ?? []).length));
    // A request every 300 ms for three head bounds: each answer moves the connection's
    // deadline, and the timer set when it opened fires in between and waits out the rest.
    for (let i = 0; i < 8; i++) {
      held.socket.write(`GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(answers).toBe(8);
    expect(held.socket.destroyed).toBe(false);
    held.socket.destroy();
  });
});

it('refuses at load a per-address cap that lets fewer than 16 addresses fill a listener', () => {
  const main = fixture.readJson('config/authpipe.json') as { http_configuration: object[]; management: object };
  for (const [edit, pointer] of [
    [
      { http_configuration: [{ ...main.http_configuration[0], max_connections: 1024, max_connections_per_address: 256 }] },
      '/http_configuration/0/max_connections_per_address',
    ],
    [
      { management: { ...main.management, max_connections: 1024, max_connections_per_address: 65 } },
      '/management/max_connections_per_address',
    ],
  ] as const) {
    fixture.writeMain({ ...main, ...edit });
    expect(() => createApp({ configFile: fixture.mainFile, logger: silentLogger(), env: {} })).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ pointer })] }),
    );
  }
  fixture.writeMain(main);
});
