import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { buildCli, type BuiltCli } from '../support/built-cli.js';

/**
 * Node 20 deadlocks when a collection, during an export of a key its generator made, destroys
 * the generator's job: both take the key's lock. A first start that writes new key files
 * exports each new key to JWK, and one such start never listened. generateKeyPair hands back
 * keys imported anew from their encoding, which share no lock with any job. With a young
 * generation of 1 MB, collections come often enough that exporting generator-made keys hangs
 * within a few thousand (measured: within 6,000 EC keys); this loop must finish.
 */
const LOOP = `
const [algorithms] = process.argv.slice(1);
const { generateKeyPair } = await import(algorithms);
for (let i = 0; i < 8000; i++) {
  const { privateKey, publicKey } = generateKeyPair('ES256');
  privateKey.export({ format: 'jwk' });
  publicKey.export({ format: 'jwk' });
}
process.stdout.write('done');
`;

let built: BuiltCli;

beforeAll(async () => {
  built = await buildCli();
}, 60_000);

afterAll(() => built?.cleanup());

describe('new signing keys', () => {
  it('are exported to JWK, thousands in a row with collections in between, without a deadlock', async () => {
    const child = spawn(
      process.execPath,
      ['--max-semi-space-size=1', '--input-type=module', '-e', LOOP, join(dirname(built.cli), 'tokens', 'algorithms.js')],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const outcome = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
    if (outcome === 'hung') child.kill('SIGKILL');
    expect([outcome, out]).toEqual([0, 'done']);
  }, 60_000);
});
