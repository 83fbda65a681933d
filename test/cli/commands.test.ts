import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { editJson } from '../access-groups/support.js';
import { buildCli, CliProcess, type BuiltCli } from '../support/built-cli.js';
import { ConfigFixture, ROOT } from '../support/fixture.js';
import { main } from '../../src/cli/main.js';

/**
 * The authpipe command line as operators meet it: help for every command, one exit-code
 * convention, clear usage errors without stack traces, --version, a start summary with the
 * pid, `authpipe reload` through the pid file, and `authpipe run --server` against a
 * running server (so step 2 of a flow sees what step 1 left in the server's store).
 */
let built: BuiltCli;
let work: string;
const started: CliProcess[] = [];

beforeAll(async () => {
  built = await buildCli();
  work = mkdtempSync(join(tmpdir(), 'authpipe-cli-work-'));
}, 120_000);
afterAll(() => {
  for (const p of started) p.kill('SIGKILL');
  built?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [built.cli, ...args], {
    cwd: work,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const STACK = /^\s+at /m;

describe('help, version and usage errors (cli/main.ts in-process; the built command below)', () => {
  const COMMANDS = ['serve', 'reload', 'validate', 'run', 'schemas', 'hash-password', 'keys', 'totp'];
  async function inProcess(args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
    return { code, stdout, stderr };
  }

  it.each(COMMANDS)('%s --help and -h print its own usage, exit 0', async (command) => {
    const long = await inProcess([command, '--help']);
    const short = await inProcess([command, '-h']);
    expect(long.code).toBe(0);
    expect(short.code).toBe(0);
    expect(long.stdout).toMatch(new RegExp(`^usage: authpipe ${command}`));
    expect(short.stdout).toBe(long.stdout);
    expect(long.stderr).toBe('');
    // Wherever the flag sits among the options.
    expect((await inProcess([command, '--config', 'x.json', '-h'])).stdout).toBe(long.stdout);
  });

  it('no command, help, --help and -h print the overview, exit 0; --version the version', async () => {
    for (const args of [[], ['help'], ['--help'], ['-h']]) {
      const r = await inProcess(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: authpipe <command>/);
    }
    expect((await inProcess(['help', 'keys'])).stdout).toMatch(/^usage: authpipe keys/);
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    expect(await inProcess(['--version'])).toMatchObject({ code: 0, stdout: `authpipe ${version}\n` });
  });

  it('an unknown command or option says so, exit 2', async () => {
    const r = await inProcess(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^authpipe: unknown command "frobnicate"/);
    expect((await inProcess(['--frob'])).stderr).toMatch(/^authpipe: unknown option "--frob"/);
  });

  it.each([
    [['validate', '--nope'], /Unknown option '--nope'/],
    [['keys', 'list', '--config'], /--config/],
    [['schemas', '--out'], /--out/],
    [['serve', '--bogus'], /Unknown option '--bogus'/],
    [['hash-password', '--ln'], /--ln/],
    [['reload', '--pid-file'], /--pid-file/],
    [['run', 'echo', '--tenant'], /--tenant/],
  ])('%j: a clear usage error, exit 2, no stack trace', async (args, message) => {
    const r = await inProcess(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/usage: authpipe /);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('the built command: the same help, version and usage errors, exit codes and no stack trace', () => {
    expect(cli(['keys', '--help'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usage: authpipe keys/) });
    expect(cli(['--version'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^authpipe \d+\.\d+\.\d+\n$/) });
    const bad = cli(['validate', '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^authpipe validate: Unknown option '--nope'/);
    expect(bad.stderr).not.toMatch(STACK);
    expect(cli(['frobnicate']).code).toBe(2);
    // The exit codes of a command that finishes: validate on a copy of the demo, then on a broken copy.
    const demo = ConfigFixture.fromDemo();
    try {
      expect(cli(['validate', '--config', demo.mainFile])).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(/valid \(version [0-9a-f]{12}/),
      });
      demo.writePipe('echo', { valves: [{ name: 'basic-authh' }] });
      expect(cli(['validate', '--config', demo.mainFile])).toMatchObject({
        code: 1,
        stdout: expect.stringMatching(/pipes\/echo\.json: \/valves\/0\/name: unknown valve "basic-authh"/),
      });
    } finally {
      demo.cleanup();
    }
  });
});

describe('serve, reload and run --server', () => {
  let fixture: ConfigFixture;
  let server: CliProcess;
  let url: string;
  let managementUrl: string;
  const pidFile = () => join(work, 'run', 'authpipe.pid');
  const TOKEN = 'trace-token-for-the-cli-test';

  beforeAll(async () => {
    fixture = ConfigFixture.fromDemo();
    editJson(fixture, 'config/authpipe.json', (main) => {
      main.reload = { watch: false };
      main.trace = { enabled: true, output: 'header', token: TOKEN };
      main.modules[0].config.tenant[0].allowedOperation.push('once');
    });
    fixture.writePipe('once', {
      valves: [
        { name: 'rate-limit', config: { key: 'all', limit: 1, window_seconds: 600 } },
        { name: 'property-set', config: { properties: { ok: 'yes' } } },
      ],
      response: ['ok'],
    });
    server = new CliProcess(built.cli, ['serve', '--config', fixture.mainFile, '--pid-file', pidFile()], {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      MANAGEMENT_PORT: '0',
      REDIS_URL: '',
    });
    started.push(server);
  }, 60_000);
  afterAll(() => {
    server?.kill('SIGKILL');
    fixture?.cleanup();
  });

  it('logs its pid and a start summary, and writes the pid file', async () => {
    const summary = await server.waitFor(() => server.logs().find((l) => l.msg === 'authpipe started'), 30_000);
    expect(summary).toMatchObject({
      pid: server.child.pid,
      config: fixture.mainFile,
      tenants: ['demo', 'acme'],
      store: 'memory',
      signingKey: 'generated at this start',
      pidFile: pidFile(),
    });
    expect(summary.pipes).toBeGreaterThan(5);
    expect(summary.listeners).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
    expect(summary.management).toMatch(/^127\.0\.0\.1:\d+$/);
    url = `http://${summary.listeners[0]}`;
    managementUrl = `http://${summary.management}`;
    expect(readFileSync(pidFile(), 'utf8').trim()).toBe(String(server.child.pid));
  }, 45_000); // the wait above allows 30 s: start-up calibrates the password hashes, slow on a loaded machine

  it('authpipe reload signals the server through the pid file and waits for the outcome', async () => {
    const r = cli(['reload', '--pid-file', pidFile()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^reloaded: authpipe serve \\(pid ${server.child.pid}\\) serves config version [0-9a-f]{12}$`, 'm'),
    );
    await server.waitFor(() => server.logs().find((l) => l.msg === 'config reloaded' && l.trigger === 'SIGHUP'), 10_000);
  });

  it('authpipe reload on a broken config exits 1 with each issue and its pointer; the server keeps serving', async () => {
    const pipe = join(fixture.dir, 'pipes', 'once.json');
    const good = readFileSync(pipe, 'utf8');
    writeFileSync(pipe, good.replace('"rate-limit"', '"no-such-valve"'));
    try {
      const r = cli(['reload', '--pid-file', pidFile()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/refused the new config/);
      expect(r.stderr).toMatch(/pipes\/once\.json: \/valves\/0\/name: unknown valve "no-such-valve"/);
    } finally {
      writeFileSync(pipe, good);
    }
    expect(cli(['reload', '--pid-file', pidFile()]).code).toBe(0);
  });

  it("authpipe run --server sees the server's state and brings its trace back; in-process it would not", async () => {
    const first = await fetch(`${url}/api/authentication/once`, {
      method: 'PUT',
      headers: { tenant: 'demo', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(first.status).toBe(200);
    // Traced calls go to the management listener; the public one never traces.
    const remote = cli(['run', 'once', '--tenant', 'demo', '--server', managementUrl, '--trace'], { AUTHPIPE_TRACE_TOKEN: TOKEN });
    expect(remote.code).toBe(3);
    expect(remote.stdout).toMatch(/^trace: pipe once, tenant demo/m);
    expect(remote.stdout).toMatch(/#0 rate-limit\s+refused/);
    expect(remote.stdout).toMatch(/^403 .*RATE_LIMITED/m);
    // In-process, on its own memory store, the counter starts afresh.
    const local = cli(['run', 'once', '--tenant', 'demo', '--config', fixture.mainFile]);
    expect(local.code).toBe(0);
    expect(cli(['run', 'once', '--tenant', 'demo', '--server', 'http://127.0.0.1:1']).code).toBe(1);
  });

  (process.platform === 'linux' ? it : it.skip)(
    'a pid file that cannot be written stops the start, exit 1, instead of serving without it',
    () => {
      // Under /proc: node's recursive mkdir spun there for ever, holding the start at full CPU.
      const r = cli(['serve', '--config', fixture.mainFile, '--pid-file', '/proc/authpipe-nope/authpipe.pid'], {
        PORT: '0',
        HOST: '127.0.0.1',
        MANAGEMENT_PORT: '0',
        REDIS_URL: '',
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^authpipe serve: cannot write the pid file \/proc\/authpipe-nope\/authpipe\.pid \(ENOENT\)$/m);
      expect(r.stderr).not.toMatch(STACK);
    },
    60_000,
  );

  it('a stopped server removes its pid file; reload then fails clearly, exit 1', async () => {
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    expect(existsSync(pidFile())).toBe(false);
    const r = cli(['reload', '--pid-file', pidFile()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no server pid in/);
  });
});
