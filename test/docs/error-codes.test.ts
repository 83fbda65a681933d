/** Every code of the one catalogue is documented in docs/contract.md, in a table row of its own. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ADMIN_REASONS, CONFIG_ISSUE_CODES, ERROR_CATALOGUE } from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/contract.md', import.meta.url), 'utf8');
const rows = new Set(
  doc
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .map((l) => l.split('|')[1]?.trim()),
);

describe('docs/contract.md', () => {
  it.each([
    ['error', Object.keys(ERROR_CATALOGUE)],
    ['admin reason', Object.keys(ADMIN_REASONS)],
    ['config issue', Object.keys(CONFIG_ISSUE_CODES)],
  ])('documents every %s code', (_kind, codes) => {
    expect(codes.filter((code) => !rows.has(code))).toEqual([]);
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
