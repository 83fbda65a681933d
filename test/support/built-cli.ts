import { afterAll, beforeAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../../scripts/build-server.mjs';
import { ConfigFixture, ROOT } from './fixture.js';

/**
 * The authpipe command compiled from the current sources into a throwaway folder, for tests
 * that need real separate processes (node:cluster workers exec a JavaScript file). Uses the
 * repository's node_modules through a symlink; never touches dist/.
 *
 * Built as `npm run build` builds dist/ (scripts/build-server.mjs: esbuild, file by file,
 * well under a second); the types are checked by `npm run typecheck`, not here.
 */
export interface BuiltCli {
  /** Path of cli.js. */
  readonly cli: string;
  cleanup(): void;
}

export async function buildCli(): Promise<BuiltCli> {
  const dir = mkdtempSync(join(tmpdir(), 'authpipe-cli-'));
  // Named and versioned like the repository's, so `authpipe --version` finds its version.
  const { name, version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', name, version }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  try {
    await buildServer(join(dir, 'dist'));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { cli: join(dir, 'dist', 'cli.js'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * For a test file that runs the built CLI on a copy of the demo config: builds both before the
 * file's tests and removes both after. `cli()` is the path of cli.js once built.
 */
export function builtCliOnDemo(): { cli(): string; readonly fixture: ConfigFixture } {
  let built: BuiltCli | undefined;
  const fixture = ConfigFixture.fromDemo();
  beforeAll(async () => {
    built = await buildCli();
  }, 60_000);
  afterAll(() => {
    built?.cleanup();
    fixture.cleanup();
  });
  return {
    cli: () => {
      if (!built) throw new Error('the CLI is built in beforeAll');
      return built.cli;
    },
    fixture,
  };
}

/** A running `authpipe …` process with its output collected line by line. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(cli: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (c: Buffer) => (this.stdout += c.toString()));
    this.child.stderr?.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** JSON log lines printed so far. */
  logs(): Record<string, any>[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, any>);
  }

  async waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found !== undefined) return found;
      if (Date.now() > until) throw new Error(`timed out; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
