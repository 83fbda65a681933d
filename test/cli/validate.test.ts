import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigFixture, ROOT } from '../support/fixture.js';

/** `authpipe validate`, run as the built command admins use (npm test builds dist/ first). */
const run = promisify(execFile);
const CLI = join(ROOT, 'dist', 'cli.js');

async function validate(configFile: string): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [CLI, 'validate', '--config', configFile]);
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

let fixture: ConfigFixture | undefined;
afterEach(() => fixture?.cleanup());

describe('authpipe validate', () => {
  it('exits 0 on the shipped demo config', async () => {
    const result = await validate(join(ROOT, 'config', 'authpipe.json'));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/valid \(version [0-9a-f]{12}/);
  });

  it('exits 1 naming the file and the pointer of an unknown valve', async () => {
    fixture = ConfigFixture.fromDemo();
    fixture.writePipe('echo', { valves: [{ name: 'property-set', config: { properties: { a: 'b' } } }, { name: 'basic-authh' }] });
    const result = await validate(fixture.mainFile);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/pipes\/echo\.json: \/valves\/1\/name: unknown valve "basic-authh"/);
  });
});
