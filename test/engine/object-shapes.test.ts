import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { builtCliOnDemo } from '../support/built-cli.js';

/**
 * V8 keeps at most 1536 transitions on one hidden class. Every plain object starts from the
 * same empty `{}` class, so once 1536 distinct first property names have been added to plain
 * objects, any other name gets a class of its own, on every object: node's request headers,
 * our contexts and claims were rebuilt from scratch on each call, and every property access
 * on them went through V8's slowest lookups for the life of the process. ajv's code optimiser
 * filled that table while the config compiled (one object per generated name: err506,
 * _errs41, data66...), and only the first full collection, seconds into serving, emptied it;
 * by then the hot path's inline caches had gone megamorphic for good. The echo call was 1.45x
 * faster once ajv stopped (bench/ab.js, 5 alternated rounds).
 *
 * This test loads the demo config in a process of its own, where V8's `%HaveSameMap` can be
 * asked, and checks that plain objects built the same way still share a hidden class after
 * the config has compiled, and that two calls' header objects do.
 */
const PROBE = `
import http from 'node:http';
const [appModule, configFile] = process.argv.slice(2);
const { createApp } = await import(appModule);
const app = createApp({ configFile, env: { NODE_ENV: 'production', PORT: '0', MANAGEMENT_PORT: '0', LOG_LEVEL: 'warn' } });
const listener = app.httpApp();
const fresh = 'probe' + Math.random().toString(36).slice(2);
const a = {}; a[fresh] = 1;
const b = {}; b[fresh] = 1;
const seen = [];
const server = http.createServer((req, res) => { seen.push(req.headers); listener(req, res); });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const call = () => new Promise((resolve, reject) => {
  const body = JSON.stringify({ username: 'till-001', message: 'hello' });
  const req = http.request({ port: server.address().port, host: '127.0.0.1', method: 'PUT', path: '/api/authentication/echo',
    headers: { tenant: 'demo', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('error', reject);
  req.end(body);
});
const statuses = [await call(), await call()];
process.stderr.write('SHAPES ' + JSON.stringify({ freshKeyShares: %HaveSameMap(a, b), headersShare: %HaveSameMap(seen[0], seen[1]), statuses }) + '\\n');
process.exit(0);
`;

const { cli, fixture } = builtCliOnDemo();

function probe(): Promise<{ freshKeyShares: boolean; headersShare: boolean; statuses: number[] }> {
  const script = join(dirname(cli()), '..', 'shapes-probe.mjs');
  writeFileSync(script, PROBE);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--allow-natives-syntax', script, join(dirname(cli()), 'app.js'), fixture.mainFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = err.split('\n').find((l) => l.startsWith('SHAPES '));
      if (code !== 0 || !line) reject(new Error(`probe exited ${code}: ${err}`));
      else resolve(JSON.parse(line.slice('SHAPES '.length)) as { freshKeyShares: boolean; headersShare: boolean; statuses: number[] });
    });
  });
}

describe('hidden classes after the config compiles', () => {
  it('plain objects built alike share a hidden class, and so do two calls’ request headers', async () => {
    const shapes = await probe();
    expect(shapes.statuses).toEqual([200, 200]);
    expect(shapes.freshKeyShares).toBe(true);
    expect(shapes.headersShare).toBe(true);
  }, 60_000);
});
