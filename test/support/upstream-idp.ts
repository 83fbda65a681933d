/**
 * The demo's stand-in upstream OpenID provider (examples/upstream-idp.mjs) as a child process
 * of a test, and its ID tokens got through its own authorization code flow (`id-token`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './fixture.js';

const SCRIPT = join(ROOT, 'examples', 'upstream-idp.mjs');
const run = promisify(execFile);

/** Starts it on `port`; resolves once it listens. */
export async function startUpstreamIdp(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SCRIPT], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
  });
  return child;
}

/** An ID token the upstream on `port` issues to `client` for its test user. */
export async function upstreamIdToken(port: number, client = 'authpipe-demo'): Promise<string> {
  const { stdout } = await run(process.execPath, [SCRIPT, 'id-token', client], { env: { ...process.env, PORT: String(port) } });
  return stdout.trim();
}
