import { afterEach, describe, expect, it } from '@jest/globals';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';
import { CapturedLines, capturingLogger } from '../support/capture.js';
import { ConfigFixture } from '../support/fixture.js';

/**
 * The directory (password hashes, TOTP secrets) and `${file:…}` secrets are warned about at
 * every load while every user of the machine can read them; the demo keeps its TOTP secret
 * outside the directory file.
 */
const fixtures: ConfigFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

function demo(directoryMode: number, secretMode: number): ConfigFixture {
  const fixture = ConfigFixture.fromDemo();
  fixtures.push(fixture);
  chmodSync(join(fixture.dir, 'config', 'directory.json'), directoryMode);
  chmodSync(join(fixture.dir, 'config', 'secrets', 'alice.totp'), secretMode);
  // The demo's other secret file (its upstream client secret) is not what these tests vary.
  chmodSync(join(fixture.dir, 'config', 'secrets', 'upstream-client.secret'), 0o600);
  return fixture;
}

function warningsOf(fixture: ConfigFixture) {
  const store = new MemoryStore(systemClock);
  try {
    return loadConfig(fixture.mainFile, {
      registry: createRegistry(),
      runtime: () => ({ store, clock: systemClock, logger: silentLogger() }),
      readOnly: true,
    }).warnings;
  } finally {
    void store.close();
  }
}

describe('secret files every user can read', () => {
  it('none when only the owner can read them', () => {
    expect(warningsOf(demo(0o600, 0o600))).toEqual([]);
  });

  it('a world-readable directory is a warning naming the file and the fix', () => {
    const warnings = warningsOf(demo(0o644, 0o600));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.file).toMatch(/config\/directory\.json$/);
    expect(warnings[0]?.message).toMatch(
      /^mode 644 lets every user of this machine read its password hashes and TOTP secrets; .*chmod 600 /,
    );
  });

  it('a world-readable ${file:…} secret is a warning at the pointer that uses it', () => {
    const warnings = warningsOf(demo(0o640, 0o604));
    expect(warnings.map((w) => w.pointer)).toEqual(['/tenants/demo/users/0/totp_secret']);
    expect(warnings[0]?.message).toMatch(/chmod 600 .*alice\.totp/);
  });

  it('the server logs them at warn level on start, and still serves', async () => {
    const fixture = demo(0o644, 0o644);
    const lines = new CapturedLines();
    const app = createApp({ configFile: fixture.mainFile, logger: capturingLogger(lines), auditStream: { write() {} } });
    try {
      const warned = lines.lines.filter((l) => l.level === 40 && String(l.msg).startsWith('config warning: '));
      expect(warned.map((l) => l.pointer).sort()).toEqual(['', '/tenants/demo/users/0/totp_secret']);
      expect(app.holder.current.pipes.has('totp-login')).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe('the shipped demo', () => {
  it('keeps TOTP secrets out of the directory file: every totp_secret is a ${file:…} or ${env:…} reference', () => {
    const demo = ConfigFixture.fromDemo();
    const directory = demo.readJson('config/directory.json') as { tenants: unknown };
    demo.cleanup();
    const secrets = Object.values(directory.tenants as Record<string, { users?: { totp_secret?: string }[] }>).flatMap((t) =>
      (t.users ?? []).map((u) => u.totp_secret).filter((s) => s !== undefined),
    );
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(secret).toMatch(/^\$\{(file|env):[^}]+\}$/);
  });
});
