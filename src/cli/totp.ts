import { parseArgs } from 'node:util';
import { TOTP_ALGORITHMS, type TotpAlgorithm } from '../otp/hotp.js';
import { enrol } from '../otp/otpauth.js';
import type { Command } from './command.js';

/**
 * `authpipe totp enroll --account NAME [--issuer authpipe] [--algorithm SHA1] [--digits 6]
 * [--period 30]`: prints a new secret and its otpauth:// URI. The secret goes into the
 * user's `totp_secret` (through ${env:…} or ${file:…}); the URI goes to the user's app.
 * The settings must match the totp-verify valve's config.
 */
const USAGE = 'usage: authpipe totp enroll --account NAME [--issuer NAME] [--algorithm SHA1|SHA256|SHA512] [--digits 6|7|8] [--period SECONDS]\n';

export const totp: Command = {
  summary: 'totp enroll: print a new TOTP secret and its otpauth:// URI',
  run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'enroll') {
      process.stderr.write(USAGE);
      return 2;
    }
    const { values } = parseArgs({
      args: rest,
      options: {
        account: { type: 'string' },
        issuer: { type: 'string', default: 'authpipe' },
        algorithm: { type: 'string', default: 'SHA1' },
        digits: { type: 'string', default: '6' },
        period: { type: 'string', default: '30' },
      },
    });
    const algorithm = String(values.algorithm).toUpperCase() as TotpAlgorithm;
    const digits = Number(values.digits);
    const period = Number(values.period);
    const problems: string[] = [];
    if (!values.account) problems.push('--account is required (the user name the app shows)');
    if (!TOTP_ALGORITHMS.includes(algorithm)) problems.push(`--algorithm must be one of ${TOTP_ALGORITHMS.join(', ')}`);
    if (!Number.isInteger(digits) || digits < 6 || digits > 8) problems.push('--digits must be 6, 7 or 8');
    if (!Number.isInteger(period) || period < 15 || period > 120) problems.push('--period must be 15..120 seconds');
    if (problems.length > 0) {
      process.stderr.write(`${problems.join('\n')}\n${USAGE}`);
      return 2;
    }
    const { secret, uri } = enrol({ account: values.account as string, issuer: values.issuer as string, algorithm, digits, period });
    process.stdout.write(`secret: ${secret}\nuri: ${uri}\n`);
    return 0;
  },
};
