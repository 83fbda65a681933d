// A credential spray to run beside a measured scenario: `connections` loops, each sending
// till-login with Basic credentials of a username nobody has, one after another, as fast as the
// answers come. Every request is a cold password check (or a refusal before one).
//
// Source addresses: the demo's till-login allows 100 failed attempts per 5 minutes from one
// address, and the measured till logins come from 127.0.0.1. So the spray never uses
// 127.0.0.1. With `rotate: false` it comes from 127.0.0.2 alone: the shipped per-address limit
// soon answers it without a password check, a second late (the demo's refusal_delay_ms). With `rotate: true` each request comes from the
// next address of 127.1.0.0/16 (a botnet, or many clients behind many NATs): no address reaches
// the per-address limit within a round, so every request reaches the hash budget.
// Linux routes all of 127.0.0.0/8 to loopback, so binding these needs no set-up.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * Starts the spray in a process of its own, so that its client work (a new connection per
 * request, hundreds a second once the per-address limit answers at once) does not run in the
 * event loop of the autocannon that measures the tills beside it. It still shares the
 * machine's cores, as everything in the bench does.
 */
export function startSpray(url, options = {}) {
  const child = fork(fileURLToPath(import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.send({ url, options });
  return {
    /** Stops the spray; answers how many spray requests were answered, per status, and their rate. */
    stop: () =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null) return reject(new Error(`spray process exited (${child.exitCode})`));
        child.once('message', (figures) => {
          child.disconnect();
          resolve(figures);
        });
        child.once('exit', (code) => reject(new Error(`spray process exited (${code})`)));
        child.send('stop');
      }),
  };
}

function sprayHere(url, { connections = 8, rotate = true } = {}) {
  const target = new URL('/api/authentication/till-login', url);
  const counts = new Map();
  let stopped = false;
  let sent = 0;
  const address = () => (rotate ? `127.1.${(sent >> 8) & 255}.${sent & 255 || 1}` : '127.0.0.2');
  const once = () =>
    new Promise((resolve) => {
      sent += 1;
      const credentials = Buffer.from(`spray-${sent}-${Math.random().toString(36).slice(2)}:not-the-password`).toString('base64');
      const req = http.request(
        target,
        {
          method: 'PUT',
          agent: false,
          localAddress: address(),
          headers: { 'content-type': 'application/json', tenant: 'demo', authorization: `Basic ${credentials}`, 'content-length': 2 },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        },
      );
      req.on('error', (err) => resolve(err.code ?? 'error'));
      req.end('{}');
    });
  const loops = Array.from({ length: connections }, async () => {
    while (!stopped) {
      const outcome = await once();
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    }
  });
  const started = performance.now();
  return {
    /** Stops the loops; answers how many spray requests were answered, per status, and their rate. */
    async stop() {
      stopped = true;
      await Promise.all(loops);
      const seconds = (performance.now() - started) / 1000;
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      return { sprayRps: Math.round(total / seconds), sprayStatus: Object.fromEntries(counts) };
    },
  };
}

// In the spray's own process: spray until told to stop, then report and leave.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', ({ url, options }) => {
    const spray = sprayHere(url, options);
    process.once('message', async () => {
      process.send(await spray.stop(), () => process.exit(0));
    });
  });
}
