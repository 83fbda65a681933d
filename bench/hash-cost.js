#!/usr/bin/env node
/**
 * The cold cost of one password verification per hash algorithm the directory accepts: what
 * a till-login pays on a verified-credential cache miss (and what an unknown user pays, with
 * a dummy of the same cost). Uses the built code in dist/ (`npm run build` first).
 *
 *   node bench/hash-cost.js [--runs 15]
 *
 * scrypt at authpipe's default (N=2^15, r=8, p=1); argon2id at OWASP's minimum
 * (m=19 MiB, t=2, p=1); bcrypt at cost 10 (the common default of imported hashes).
 */
import { parseArgs } from 'node:util';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { DEFAULT_SCRYPT, hashPassword, verifyPassword } from '../dist/credentials/hash.js';
import { parsePhc } from '../dist/credentials/phc.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Math.max(3, Number(values.runs));
const password = 'till-001-pass';

const algorithms = [
  ['scrypt', `N=2^${DEFAULT_SCRYPT.ln} r=${DEFAULT_SCRYPT.r} p=${DEFAULT_SCRYPT.p}`, () => hashPassword(password)],
  ['argon2id', 'm=19456 KiB t=2 p=1', () => argon2Hash(password, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 })],
  ['bcrypt', 'cost=10', () => bcryptHash(password, 10)],
];

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

console.log(
  `node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`${runs} sequential verifications each, right and wrong passwords alternating (both cost the same)\n`);
console.log('algorithm  parameters            first ms  median ms   p90 ms   min ms');
for (const [name, params, make] of algorithms) {
  const parsed = parsePhc(await make());
  if (typeof parsed === 'string') throw new Error(parsed);
  let start = process.hrtime.bigint();
  if ((await verifyPassword('wrong', parsed)) !== false) throw new Error('wrong password verified');
  const first = ms(start);
  const times = [];
  for (let i = 0; i < runs; i++) {
    start = process.hrtime.bigint();
    await verifyPassword(i % 2 ? password : 'wrong', parsed);
    times.push(ms(start));
  }
  times.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(10)} ${params.padEnd(21)} ${first.toFixed(1).padStart(8)} ${pct(times, 50).toFixed(1).padStart(10)} ${pct(times, 90).toFixed(1).padStart(8)} ${times[0].toFixed(1).padStart(8)}`,
  );
}
