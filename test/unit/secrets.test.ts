/** `${env:NAME}` and `${file:path}` in config strings resolve to the real value, or a coded issue. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { ConfigIssue } from '../../src/config-kit/issues.js';
import { resolveSecrets } from '../../src/config-kit/secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'authpipe-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveSecrets', () => {
  it('reads ${file:…} relative to the base folder, without the final newline, inside a longer string too', () => {
    const secret = randomBytes(12).toString('hex');
    writeFileSync(join(dir, 'secret.txt'), `${secret}\n`, { mode: 0o600 });
    const issues: ConfigIssue[] = [];
    const out = resolveSecrets({ a: '${file:secret.txt}', b: ['x-${file:secret.txt}-y'] }, 'main.json', { env: {}, baseDir: dir }, issues);
    expect(issues).toEqual([]);
    expect(out).toEqual({ a: secret, b: [`x-${secret}-y`] });
  });

  it('reads ${env:NAME}', () => {
    const value = randomBytes(8).toString('hex');
    expect(resolveSecrets('${env:AUTHPIPE_TEST_SECRET}', 'main.json', { env: { AUTHPIPE_TEST_SECRET: value }, baseDir: dir }, [])).toBe(
      value,
    );
  });

  it('a missing file or variable is a CONFIG_SECRET issue at the pointer of the string', () => {
    const issues: ConfigIssue[] = [];
    resolveSecrets({ store: { password: '${file:nope.txt}', user: '${env:NOPE}' } }, 'main.json', { env: {}, baseDir: dir }, issues);
    expect(issues.map((i) => [i.pointer, i.code])).toEqual([
      ['/store/password', 'CONFIG_SECRET'],
      ['/store/user', 'CONFIG_SECRET'],
    ]);
  });
});
