import { afterEach, describe, expect, it } from '@jest/globals';
import { runCli } from '../support/cli.js';
import { ConfigFixture } from '../support/fixture.js';

/** `authpipe validate` on copies of the demo config (in this process, through cli/main.ts as the shell would run it). */
async function validate(configFile: string): Promise<{ code: number | undefined; stdout: string }> {
  const { code, out } = await runCli(['validate', '--config', configFile]);
  return { code, stdout: out };
}

let fixture: ConfigFixture | undefined;
afterEach(() => fixture?.cleanup());

describe('authpipe validate', () => {
  it('exits 0 on the shipped demo config', async () => {
    fixture = ConfigFixture.fromDemo();
    const result = await validate(fixture.mainFile);
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
