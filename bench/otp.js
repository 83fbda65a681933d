// The OTP round trip under load: otp-start, read the code from the outbox, otp-verify.
//
// The shipped otp-start pipe cannot be hammered as is: it sends codes only to directory users
// (two demo mobiles) and allows one code per mobile per 30 s and 5 an hour. So the bench runs
// the real server on a copy of the demo config with one extra pipe, otp-start-bench: the same
// otp-issue valve with `user_by: none`, and iterations cycle through 50,000 mobiles, so no
// limit is hit and every code is really generated, hashed, stored and written to the outbox.
// It answers without the shipped 100 ms minimum answer time (`min_answer_ms: 0`): that wait
// costs no CPU, and with it 32 connections could not make more than about 300 starts/s, so the
// figure would measure the wait rather than the engine.
// The codes are read back from the outbox file, which the server's delivery worker appends
// shortly after otp-start answered.
//
// Used by the `authpipe-otp` server and the otp scenario: `BENCH_ONLY=otp npm run bench`.
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp copy of config/ and pipes/ with otp-start-bench added; its outbox is in the temp folder. */
export function prepareOtpConfig(root) {
  const dir = mkdtempSync(join(tmpdir(), 'authpipe-bench-otp-'));
  cpSync(join(root, 'config'), join(dir, 'config'), { recursive: true });
  cpSync(join(root, 'pipes'), join(dir, 'pipes'), { recursive: true });
  const outbox = join(dir, 'otp-outbox.jsonl');
  writeFileSync(
    join(dir, 'pipes', 'otp-start-bench.json'),
    JSON.stringify({
      id: 'otp-start-bench',
      description: 'Bench only: otp-start for any mobile, without resend limits.',
      valves: [
        {
          name: 'otp-issue',
          config: { user_by: 'none', cooldown_seconds: 0, max_per_hour: 1000, min_answer_ms: 0, sender: { type: 'outbox', file: outbox } },
        },
      ],
      response: ['transaction_id'],
    }),
  );
  // The shipped otp-verify mints a token for the directory user; bench recipients are nobody,
  // so the bench verify names the recipient as subject and mints the same 30-minute user token.
  writeFileSync(
    join(dir, 'pipes', 'otp-verify-bench.json'),
    JSON.stringify({
      id: 'otp-verify-bench',
      description: 'Bench only: otp-verify, then a user token for the recipient.',
      valves: [
        { name: 'otp-verify', config: { max_attempts: 3, expects: 'recipient' } },
        { name: 'property-set', config: { properties: { sub: '{{item.recipient}}' } } },
        { name: 'token-mint', config: { kind: 'user' } },
      ],
      response: ['access_token', 'token_type', 'expires_in', 'refresh_token'],
    }),
  );
  // Issue 3's figure: a till's cached Basic check alone, without the token till-login mints.
  writeFileSync(
    join(dir, 'pipes', 'till-check.json'),
    JSON.stringify({
      id: 'till-check',
      description: 'Bench only: the basic-auth valve of till-login, answering the subject.',
      valves: [{ name: 'basic-auth', config: { kind: 'till', from: ['header'] } }],
      response: ['sub'],
    }),
  );
  const mainFile = join(dir, 'config', 'authpipe.json');
  const main = JSON.parse(readFileSync(mainFile, 'utf8'));
  const demo = main.modules[0].config.tenant.find((t) => t.id === 'demo');
  demo.allowedOperation.push('otp-start-bench', 'otp-verify-bench', 'till-check');
  writeFileSync(mainFile, JSON.stringify(main));
  return { dir, configFile: mainFile, outbox, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Reads the outbox as it grows (only the new bytes) and hands out each delivered code once,
 * oldest first. Codes are delivered off the caller's time (the delivery worker polls its queue
 * every 50 ms), so a code is not there when otp-start answers: the bench verifies whichever
 * code has arrived, from any connection, rather than waiting for its own.
 */
function outboxReader(file) {
  const codes = new Map();
  let offset = 0;
  let rest = '';
  const buffer = Buffer.alloc(1 << 20);
  const pull = () => {
    let fd;
    try {
      fd = openSync(file, 'r');
    } catch {
      return; // nothing sent yet
    }
    try {
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, offset);
        if (n === 0) break;
        offset += n;
        const lines = (rest + buffer.toString('utf8', 0, n)).split('\n');
        rest = lines.pop();
        for (const line of lines)
          if (line) {
            const m = JSON.parse(line);
            codes.set(m.transaction_id, m.code);
          }
      }
    } finally {
      closeSync(fd);
    }
  };
  return () => {
    if (codes.size === 0) pull();
    const first = codes.entries().next();
    if (first.done) return undefined;
    codes.delete(first.value[0]);
    return { transactionId: first.value[0], code: first.value[1] };
  };
}

/**
 * autocannon `requests`: otp-start to the next mobile of the pool, then otp-verify of a delivered code.
 * When no code has arrived yet, the verify is skipped (setupRequest answers null and
 * autocannon goes back to the first request), so starts run ahead of verifies by the codes
 * still queued; req/s counts both kinds. (Until the delivery worker started its next job as
 * one ended, it delivered at most 160 codes a second: verifies were a small share of the
 * round trip, and after a few rounds codes expired in the queue, so that later rounds'
 * verifies met expired codes and answered 403.)
 */
/** Recipients the starts cycle through: far below the store's counter bound, and each is sent to far less than max_per_hour (1000) an hour. */
const MOBILES = 50_000;

export function otpRoundTripRequests(outbox) {
  const nextCode = outboxReader(outbox);
  const headers = { 'content-type': 'application/json', tenant: 'demo' };
  let next = 0;
  return [
    {
      method: 'PUT',
      path: '/api/authentication/otp-start-bench',
      headers,
      setupRequest(req) {
        // A pool of MOBILES recipients in turn: each send counts for its recipient's hour in the
        // store, and a fresh recipient per send filled the memory store's 200,000 live counters
        // after about four rounds at 10k req/s (every start then refused, fail-closed).
        next = (next % MOBILES) + 1;
        return { ...req, body: JSON.stringify({ mobile: `+1${String(5550000000000 + next)}` }) };
      },
    },
    {
      method: 'PUT',
      path: '/api/authentication/otp-verify-bench',
      headers,
      setupRequest(req) {
        const delivered = nextCode();
        if (!delivered) return null;
        return { ...req, body: JSON.stringify({ transaction_id: delivered.transactionId, otp: delivered.code }) };
      },
    },
  ];
}
