import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ConfigFixture } from '../support/fixture.js';
import { lightClient, type LightClient } from '../support/light-client.js';
import { closedPort } from '../support/tcp-proxy.js';
import { outboundFor } from '../support/outbound.js';
import { startServer, type RunningServer } from '../support/server.js';
import { answer, startGateway, type Gateway } from '../otp/webhook-server.js';

/**
 * OTP start answers a known recipient (demo user alice) and an unknown one the same, in the
 * same time, whatever the sender does: fast, slow (300 ms), down (nothing listens) or
 * redirecting. Calls alternate which goes first and pause between them, so background
 * deliveries fall on both series alike; medians are compared.
 */
const SECRET = 'gateway-shared-secret-0123456789';
const MODES = ['fast', 'slow', 'down', 'redirecting'] as const;
let fast: Gateway;
let slow: Gateway;
let redirecting: Gateway;
let fixture: ConfigFixture;
let server: RunningServer;
let client: LightClient;

beforeAll(async () => {
  [fast, slow, redirecting] = await Promise.all([startGateway(), startGateway(), startGateway()]);
  slow.behave((_req, res) => void setTimeout(() => res.writeHead(200).end('{}'), 300));
  redirecting.behave(answer(307, { location: 'http://127.0.0.1:1/elsewhere' }));
  const urls = { fast: fast.url, slow: slow.url, down: `http://127.0.0.1:${await closedPort()}/otp`, redirecting: redirecting.url };
  fixture = ConfigFixture.fromDemo();
  const main = JSON.parse(readFileSync(fixture.mainFile, 'utf8'));
  for (const mode of MODES) {
    main.modules[0].config.tenant[0].allowedOperation.push(`otp-${mode}`);
    fixture.writePipe(`otp-${mode}`, {
      valves: [
        {
          name: 'otp-issue',
          config: {
            user_by: 'mobile',
            cooldown_seconds: 0,
            max_per_hour: 1000,
            sender: { type: 'webhook', url: urls[mode], secret: SECRET, timeout_ms: 1000, retries: 1, backoff_ms: 50 },
          },
        },
      ],
      response: ['transaction_id'],
    });
  }
  // Beside what the demo lists already (its stand-in upstream for external-login).
  main.outbound.allow.push(...outboundFor(...Object.values(urls)).allow);
  fixture.writeMain(main);
  server = await startServer({ configFile: fixture.mainFile });
  client = lightClient(server.url);
}, 30_000);

afterAll(async () => {
  // Whatever beforeAll got to: a server that failed to start must not keep the gateways (and jest) alive.
  client?.close();
  await server?.close();
  await Promise.all([fast.close(), slow.close(), redirecting.close()]);
  fixture.cleanup();
});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

let unknownSeq = 0;
const unknown = () => `+1555077${String(unknownSeq++).padStart(4, '0')}`;

/** One mode's series: [known, unknown] call times, in alternating order. */
async function series(mode: (typeof MODES)[number]): Promise<[number[], number[]]> {
  const timed = async (mobile: string) => {
    const started = performance.now();
    const res = await client.put(`otp-${mode}`, { mobile });
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['transaction_id']);
    await new Promise((r) => setTimeout(r, 15));
    return ms;
  };
  for (let i = 0; i < 3; i++) await timed(i % 2 ? '+15550000001' : unknown());
  const known: number[] = [];
  const other: number[] = [];
  for (let i = 0; i < 21; i++) {
    if (i % 2 === 0) {
      known.push(await timed('+15550000001'));
      other.push(await timed(unknown()));
    } else {
      other.push(await timed(unknown()));
      known.push(await timed('+15550000001'));
    }
  }
  return [known, other];
}

// The four senders' series run side by side: each call mostly waits out the 100 ms answer
// floor, so they hardly touch each other, and four sequential series would take four times as long.
let measured: Record<string, [number[], number[]]>;
beforeAll(async () => {
  measured = Object.fromEntries(await Promise.all(MODES.map(async (mode) => [mode, await series(mode)] as const)));
}, 30_000);

describe('otp start answers the same for everyone', () => {
  it.each(MODES)('sender %s: known and unknown recipients get the same 200, with medians within 10%%', (mode) => {
    const [known, other] = measured[mode] as [number[], number[]];
    const [k, u] = [median(known), median(other)];
    // Every answer takes otp-issue's min_answer_ms (100 ms) and nobody waits for the sender
    // (a slow one takes 300 ms, a down one fails and retries).
    expect(Math.min(k, u)).toBeGreaterThanOrEqual(99);
    expect(Math.max(k, u)).toBeLessThan(250);
    expect({ ratio: Math.abs(k - u) / Math.min(k, u) <= 0.1, k, u }).toEqual({ ratio: true, k, u });
  });
});
