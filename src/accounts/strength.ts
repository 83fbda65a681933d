/**
 * A new password's strength: the zxcvbn-ts estimate (English and common dictionaries, the
 * account's own names as user inputs) must reach a minimum score, and the password must not
 * be on the operator's blocked list (a file of one password per line: breached or banned
 * ones), compared after NFC and lower-casing. The list is read once per config load.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { zxcvbn, zxcvbnOptions } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import { refuse } from '../errors.js';

let configured = false;
function estimator(): typeof zxcvbn {
  if (!configured) {
    zxcvbnOptions.setOptions({ dictionary: { ...common.dictionary, ...en.dictionary }, graphs: common.adjacencyGraphs });
    configured = true;
  }
  return zxcvbn;
}

export const STRENGTH_PROPERTIES = {
  min_score: {
    type: 'integer',
    minimum: 0,
    maximum: 4,
    default: 3,
    description: 'Least zxcvbn-ts score (0 to 4) a new password needs; below it the call is refused with PASSWORD_WEAK.',
  },
  blocked_passwords: {
    type: 'string',
    minLength: 1,
    description:
      'A file of blocked passwords (breached or banned), one per line, relative to the main config file; a new password on it (ignoring case) is refused with PASSWORD_WEAK. Absent: no list.',
  },
  min_length: { type: 'integer', minimum: 1, maximum: 64, default: 8, description: 'Fewest characters a new password may have.' },
  max_length: { type: 'integer', minimum: 8, maximum: 1024, default: 128, description: 'Most characters a new password may have.' },
} as const;

export interface StrengthConfig {
  min_score: number;
  blocked_passwords?: string | undefined;
  min_length: number;
  max_length: number;
}

const form = (password: string) => password.normalize('NFC').toLowerCase();

/** Builds the check at load; `fail` reports an unreadable list at its pointer. */
export function strengthCheck(
  config: StrengthConfig,
  configDir: string,
  fail: (pointer: string, message: string) => never,
): (password: string, inputs: readonly string[], blamed: string) => void {
  let blocked: ReadonlySet<string> = new Set();
  if (config.blocked_passwords !== undefined) {
    try {
      const text = readFileSync(resolve(configDir, config.blocked_passwords), 'utf8');
      blocked = new Set(
        text
          .split(/\r?\n/)
          .map((line) => line.trim())
          .filter((line) => line !== '' && !line.startsWith('#'))
          .map(form),
      );
    } catch (err) {
      fail('/blocked_passwords', `cannot read the list: ${(err as Error).message}`);
    }
  }
  return (password, inputs, blamed) => {
    const weak = (detail: string) => refuse('PASSWORD_WEAK', { erroneousProperties: [blamed], detail });
    if ([...password].length < config.min_length) throw weak(`shorter than ${config.min_length} characters`);
    if ([...password].length > config.max_length)
      throw refuse('INVALID_REQUEST', { erroneousProperties: [blamed], detail: 'password too long' });
    if (blocked.has(form(password))) throw weak('on the blocked-password list');
    // Bounded input (max_length) keeps the estimate cheap.
    const score = estimator()(
      password,
      [...inputs].filter((s) => s !== ''),
    ).score;
    if (score < config.min_score) throw weak(`score ${score} below ${config.min_score}`);
  };
}
