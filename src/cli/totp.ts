import { parseArgs } from 'node:util';
import { base32Decode, TOTP_ALGORITHMS, totp as totpCode, type TotpAlgorithm } from '../otp/hotp.js';
import { enrol } from '../otp/otpauth.js';
import type { Command } from './command.js';

/**
 * `authpipe totp enroll --account NAME [--issuer authpipe]` prints a new secret and its
 * otpauth:// URI: the secret goes into the user's `totp_secret` (through ${env:…} or
 * ${file:…}), the URI to the user's app. `authpipe totp code --secret BASE32` prints the
 * current code, as an app would (demos, smoke tests). Algorithm, digits and period must
 * match the totp-verify valve's config.
 */
const USAGE =
  'usage: authpipe totp enroll --account NAME [--issuer NAME] [--algorithm SHA1|SHA256|SHA512] [--digits 6|7|8] [--period SECONDS]\n' +
  '       authpipe totp code --secret BASE32 [--algorithm …] [--digits …] [--period …]\n';

const OPTIONS = {
  account: { type: 'string' },
  issuer: { type: 'string', default: 'authpipe' },
  secret: { type: 'string' },
  algorithm: { type: 'string', default: 'SHA1' },
  digits: { type: 'string', default: '6' },
  period: { type: 'string', default: '30' },
} as const;

function usage(problems: string[]): number {
  process.stderr.write(`${problems.map((p) => `${p}\n`).join('')}${USAGE}`);
  return 2;
}

export const totp: Command = {
  summary: 'totp enroll: print a new TOTP secret and its otpauth:// URI; totp code: the current code',
  usage: USAGE,
  run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'enroll' && sub !== 'code') return usage([]);
    let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];
    try {
      ({ values } = parseArgs({ args: rest, options: OPTIONS }));
    } catch (err) {
      return usage([(err as Error).message]);
    }
    const algorithm = values.algorithm.toUpperCase() as TotpAlgorithm;
    const digits = Number(values.digits);
    const period = Number(values.period);
    const problems: string[] = [];
    if (!TOTP_ALGORITHMS.includes(algorithm)) problems.push(`--algorithm must be one of ${TOTP_ALGORITHMS.join(', ')}`);
    if (!Number.isInteger(digits) || digits < 6 || digits > 8) problems.push('--digits must be 6, 7 or 8');
    if (!Number.isInteger(period) || period < 15 || period > 120) problems.push('--period must be 15..120 seconds');

    if (sub === 'code') {
      const secret = values.secret === undefined ? null : base32Decode(values.secret);
      if (secret === null || secret.length === 0) problems.push('--secret must be a base32 secret');
      if (problems.length > 0) return usage(problems);
      process.stdout.write(`${totpCode(secret as Buffer, Date.now(), { algorithm, digits, period })}\n`);
      return 0;
    }
    if (!values.account) problems.push('--account is required (the user name the app shows)');
    if (problems.length > 0) return usage(problems);
    const { secret, uri } = enrol({ account: values.account as string, issuer: values.issuer, algorithm, digits, period });
    process.stdout.write(`secret: ${secret}\nuri: ${uri}\n`);
    return 0;
  },
};
