/**
 * Every code of the one catalogue is documented in docs/contract.md, in a table row of its own;
 * and every config issue code documented there is in the catalogue and set somewhere in src/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { ADMIN_REASONS, CONFIG_ISSUE_CODES, ERROR_CATALOGUE } from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/contract.md', import.meta.url), 'utf8');
const rows = new Set(
  doc
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .map((l) => l.split('|')[1]?.trim()),
);

/** The first column of the table under `### Config issue codes`. */
const documentedConfigCodes = (doc.split(/^### Config issue codes$/m)[1] ?? '')
  .split(/^#/m)[0]!
  .split('\n')
  .filter((l) => l.startsWith('| ') && !l.startsWith('| code '))
  .map((l) => l.split('|')[1]?.trim() ?? '');

const srcDir = fileURLToPath(new URL('../../src/', import.meta.url));
const catalogueFile = join(srcDir, 'errors.ts');
/** Every source file but the catalogue itself, where each code is listed once by definition. */
const sources = (readdirSync(srcDir, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(srcDir, f))
  .filter((f) => f !== catalogueFile)
  .map((f) => readFileSync(f, 'utf8'));

describe('docs/contract.md', () => {
  it.each([
    ['error', Object.keys(ERROR_CATALOGUE)],
    ['admin reason', Object.keys(ADMIN_REASONS)],
    ['config issue', Object.keys(CONFIG_ISSUE_CODES)],
  ])('documents every %s code', (_kind, codes) => {
    expect(codes.filter((code) => !rows.has(code))).toEqual([]);
  });

  it('lists config issue codes the catalogue has, each set by some place in src/', () => {
    expect(documentedConfigCodes.length).toBeGreaterThan(0);
    expect(documentedConfigCodes.filter((code) => !Object.hasOwn(CONFIG_ISSUE_CODES, code))).toEqual([]);
    expect(documentedConfigCodes.filter((code) => !sources.some((text) => text.includes(`'${code}'`)))).toEqual([]);
  });

  it('documents each status as the catalogue has it', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(doc).toMatch(new RegExp(`^\\| ${code} \\| ${entry.status} \\|`, 'm'));
    }
    for (const [reason, entry] of Object.entries(ADMIN_REASONS)) {
      expect(doc).toMatch(new RegExp(`^\\| ${reason} \\| ${entry.status} \\| ${entry.code} \\|`, 'm'));
    }
  });
});
