/**
 * The layering rules of .dependency-cruiser.cjs hold on src/, and they can fail: a copy of
 * src/ with one deliberate breach is refused, naming the rule. Runs dependency-cruiser in
 * process (no child process), on a temp copy, so the real tree is never touched.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { ROOT } from '../support/fixture.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'authpipe-deps-'));
  cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  for (const file of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) cpSync(join(ROOT, file), join(dir, file));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function violations(): Promise<{ rule: string; from: string; to: string }[]> {
  const options = await extractDepcruiseOptions(join(dir, '.dependency-cruiser.cjs'));
  const tsConfig = extractTSConfig(join(dir, 'tsconfig.json'));
  const result = await cruise(['src'], { ...options, baseDir: dir }, {}, { tsConfig });
  const summary = (result.output as ICruiseResult).summary;
  return summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe('dependency rules', () => {
  it('pass on src/ as it is', async () => {
    expect(await violations()).toEqual([]);
  }, 60_000);

  it('fail, naming the rule, when the engine imports a feature', async () => {
    appendFileSync(join(dir, 'src/engine/clock.ts'), "\nimport '../oidc/feature.js';\n");
    expect(await violations()).toContainEqual({ rule: 'core-imports-no-feature', from: 'src/engine/clock.ts', to: 'src/oidc/feature.ts' });
  }, 60_000);

  it('fail when a leaf config helper imports the loader', async () => {
    appendFileSync(
      join(dir, 'src/config-kit/patterns.ts'),
      "\nimport type { LoadedConfig } from '../config/load.js';\nexport type Loaded = LoadedConfig;\n",
    );
    expect(await violations()).toContainEqual({
      rule: 'config-kit-imports-no-loader',
      from: 'src/config-kit/patterns.ts',
      to: 'src/config/load.ts',
    });
  }, 60_000);
});
