import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, for reading the shipped demo config. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A throwaway config folder: `config/authpipe.json` plus `pipes/*.json`. Start from the
 * shipped demo (`fromDemo`) or from scratch (`minimal`), then add or replace files.
 */
export class ConfigFixture {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A copy of the shipped config/ and pipes/ folders. */
  static fromDemo(): ConfigFixture {
    const fixture = new ConfigFixture(mkdtempSync(join(tmpdir(), 'authpipe-')));
    cpSync(join(ROOT, 'config'), join(fixture.dir, 'config'), { recursive: true });
    cpSync(join(ROOT, 'pipes'), join(fixture.dir, 'pipes'), { recursive: true });
    return fixture;
  }

  /** One listener, the given tenants, and the given pipes. */
  static minimal(
    tenants: { id: string; allowedOperation: string[] }[],
    pipes: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): ConfigFixture {
    const fixture = new ConfigFixture(mkdtempSync(join(tmpdir(), 'authpipe-')));
    mkdirSync(join(fixture.dir, 'config'));
    mkdirSync(join(fixture.dir, 'pipes'));
    fixture.writeMain({
      http_configuration: [{ id: 'http', host: '127.0.0.1', port: 0 }],
      modules: [
        { name: 'com.phenixidentity~phenix-api-authenticate', id: 'api', config: { http_configuration_ref: 'http', tenant: tenants } },
      ],
      pipes: '../pipes',
      store: { type: 'memory' },
      log: { level: 'silent' },
      ...extra,
    });
    for (const [id, pipe] of Object.entries(pipes)) fixture.writePipe(id, pipe);
    return fixture;
  }

  get mainFile(): string {
    return join(this.dir, 'config', 'authpipe.json');
  }

  writeMain(main: unknown): this {
    writeFileSync(this.mainFile, JSON.stringify(main, null, 2));
    return this;
  }

  writePipe(id: string, pipe: unknown): this {
    writeFileSync(
      join(this.dir, 'pipes', `${id}.json`),
      typeof pipe === 'string' ? pipe : JSON.stringify({ id, ...(pipe as object) }, null, 2),
    );
    return this;
  }

  /** Any file, relative to the fixture folder. */
  write(relative: string, content: string | object): this {
    const path = join(this.dir, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return this;
  }

  /**
   * Points the outbox sender of every otp-issue valve in the named pipes at `var/otp-outbox.jsonl`
   * inside the fixture (the demo's relative path resolves against the working folder, which is
   * the repository under test), and answers that file's path.
   */
  keepOutboxInside(...pipes: string[]): string {
    const outbox = join(this.dir, 'var', 'otp-outbox.jsonl');
    for (const id of pipes) {
      const pipe = this.readJson(`pipes/${id}.json`) as {
        valves: { name: string; config: { sender?: { type?: string; file?: string } } }[];
      };
      const senders = pipe.valves.filter((v) => v.name === 'otp-issue' && v.config.sender?.type === 'outbox');
      if (senders.length === 0) throw new Error(`pipe ${id} has no otp-issue valve with an outbox sender`);
      for (const valve of senders) (valve.config.sender as { file: string }).file = outbox;
      this.write(`pipes/${id}.json`, pipe);
    }
    return outbox;
  }

  /** A JSON file of the fixture, parsed (relative to the fixture folder). */
  readJson(relative: string): unknown {
    return JSON.parse(readFileSync(join(this.dir, relative), 'utf8'));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
