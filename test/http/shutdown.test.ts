import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConfigFixture } from '../support/fixture.js';
import { startServer } from '../support/server.js';
import { closeTrackingStore } from '../support/stores.js';

const ECHO = { valves: [{ name: 'property-copy', config: { properties: ['a'] } }], response: ['a'] };
const BODY = '{"a":"in-flight"}';

/** A call whose body arrives in two parts: in flight until `finish` is called. */
function slowCall(port: number): { finish(): void; answer: Promise<string>; socket: Socket } {
  const socket = connect(port, '127.0.0.1');
  const answer = new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c)).on('close', () => resolve(Buffer.concat(chunks).toString())).on('error', () => {});
  });
  socket.write(`PUT /api/authentication/echo HTTP/1.1\r\nHost: x\r\ntenant: demo\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY.slice(0, 5)}`);
  return { finish: () => socket.write(BODY.slice(5)), answer, socket };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('graceful shutdown', () => {
  it('stops accepting, finishes the call in flight, then closes the store', async () => {
    const fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: ECHO });
    const store = closeTrackingStore();
    const server = await startServer({ configFile: fixture.mainFile, store });
    const { port } = server.server.address() as AddressInfo;
    // An idle keep-alive connection from an earlier call must not hold shutdown up.
    expect((await server.call('echo', { a: 'warm-up' })).status).toBe(200);
    const arrived = once(server.server, 'request');
    const call = slowCall(port);
    await arrived; // the call is in flight: headers read, body pending

    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    await sleep(100);
    expect(await canConnect(port)).toBe(false);
    expect(closed).toBe(false);
    expect(store.closedAt).toBeNull();

    const answeredAt = performance.now();
    call.finish();
    const raw = await call.answer;
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw.endsWith('{"a":"in-flight"}')).toBe(true);
    await closing;
    expect(store.closedAt).not.toBeNull();
    expect(store.closedAt! - answeredAt).toBeLessThan(1000);
    fixture.cleanup();
  });

  it('is bounded: a stalled client is cut after shutdown.grace_ms', async () => {
    const fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: ECHO }, { shutdown: { grace_ms: 300 } });
    const store = closeTrackingStore();
    const server = await startServer({ configFile: fixture.mainFile, store });
    const { port } = server.server.address() as AddressInfo;
    const arrived = once(server.server, 'request');
    const call = slowCall(port); // never finished
    await arrived;
    const started = performance.now();
    await server.close();
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);
    expect(store.closedAt).not.toBeNull();
    await call.answer; // the connection was closed by the server
    expect(call.socket.destroyed).toBe(true);
    fixture.cleanup();
  });

  it('closes once, however often it is asked', async () => {
    const fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['echo'] }], { echo: ECHO });
    const store = closeTrackingStore();
    const server = await startServer({ configFile: fixture.mainFile, store });
    const [a, b] = [server.close(), server.close()];
    expect(a).toBe(b);
    await a;
    expect(store.closedAt).not.toBeNull();
    fixture.cleanup();
  });
});
