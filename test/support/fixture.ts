import { hashSync as argon2HashSync } from '@node-rs/argon2';
import { hashSync as bcryptHashSync } from '@node-rs/bcrypt';
import { randomBytes, scryptSync } from 'node:crypto';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatScrypt } from '../../src/credentials/phc.js';

/** The repository root, for reading the shipped demo config. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The demo directory's passwords and client secrets, by username or client id (the docs use them too). */
export const DEMO_SECRETS: Readonly<Record<string, string>> = {
  'till-001': 'till-001-pass',
  'till-002': 'till-002-pass',
  'till-003': 'till-003-pass',
  'till-009': 'till-009-pass',
  'till-201': 'till-201-pass',
  'acme-till-1': 'acme-till-1-pass',
  alice: 'alice-pass-1',
  bob: 'bob-pass-1',
  'ops-admin': 'ops-admin-pass',
  'pos-server-1': 'pos-server-1-secret',
  'admin-console': 'admin-console-secret',
  'mobile-gateway': 'mobile-gateway-secret',
};

/** Every password or secret hash of a directory document, with the username or client id it belongs to. */
export function directoryHashes(directory: unknown): { name: string; phc: string }[] {
  type Entry = { username?: string; client_id?: string; password_hash?: string; secret_hash?: string };
  const out: { name: string; phc: string }[] = [];
  for (const tenant of Object.values((directory as { tenants: Record<string, Record<string, unknown>> }).tenants))
    for (const entries of Object.values(tenant))
      for (const entry of (Array.isArray(entries) ? entries : []) as Entry[]) {
        const phc = entry.password_hash ?? entry.secret_hash;
        if (phc !== undefined) out.push({ name: (entry.username ?? entry.client_id) as string, phc });
      }
  return out;
}

/** `password` hashed with the algorithm of `model` at about the lowest cost it allows. */
function cheapLike(model: string, password: string): string {
  if (model.startsWith('$argon2id$')) return argon2HashSync(password, { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 });
  if (model.startsWith('$2')) return bcryptHashSync(password, 4);
  const salt = randomBytes(16);
  return formatScrypt({ ln: 10, r: 8, p: 1, salt, digest: scryptSync(password, salt, 32, { N: 2 ** 10, r: 8, p: 1 }) });
}

/**
 * A throwaway config folder: `config/authpipe.json` plus `pipes/*.json`. Start from the
 * shipped demo (`fromDemo`) or from scratch (`minimal`), then add or replace files.
 */
export class ConfigFixture {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * A copy of the shipped config/ and pipes/ folders. Its directory's passwords and secrets
   * are re-hashed at a low cost (`cheapHashes`) unless `hashes: 'shipped'` asks for the
   * shipped ones, for a test about what the demo's costs do.
   */
  static fromDemo(options: { hashes?: 'cheap' | 'shipped' } = {}): ConfigFixture {
    const fixture = new ConfigFixture(mkdtempSync(join(tmpdir(), 'authpipe-')));
    cpSync(join(ROOT, 'config'), join(fixture.dir, 'config'), { recursive: true });
    cpSync(join(ROOT, 'pipes'), join(fixture.dir, 'pipes'), { recursive: true });
    return options.hashes === 'shipped' ? fixture : fixture.cheapHashes();
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

  /**
   * Re-hashes every password and client secret of the copied demo directory with the same
   * algorithm at a low cost. The failure floor follows the dearest hash the directory holds
   * (about 240 ms at the demo's cost), and every refusal waits it out; the start of each process
   * times every profile too. For a test that is not about the cost, this keeps a dozen
   * refusals from taking seconds.
   */
  private cheapHashes(): this {
    const file = join(this.dir, 'config', 'directory.json');
    let text = readFileSync(file, 'utf8');
    for (const { name, phc } of directoryHashes(JSON.parse(text))) {
      const secret = DEMO_SECRETS[name];
      if (secret === undefined) throw new Error(`no demo secret known for ${name}: add it to DEMO_SECRETS`);
      // In the text, so the file keeps its layout (tests of the admin API compare it line by line).
      text = text.replace(JSON.stringify(phc), JSON.stringify(cheapLike(phc, secret)));
    }
    writeFileSync(file, text);
    return this;
  }

  /** A JSON file of the fixture, parsed (relative to the fixture folder). */
  readJson(relative: string): unknown {
    return JSON.parse(readFileSync(join(this.dir, relative), 'utf8'));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
