import type { Command } from './command.js';
import { run } from './run.js';
import { hashPasswordCommand } from './hash-password.js';
import { keys } from './keys.js';
import { schemas } from './schemas.js';
import { serve } from './serve.js';
import { totp } from './totp.js';
import { validate } from './validate.js';
import { reload } from './reload.js';

export const commands: Record<string, Command> = {
  serve,
  reload,
  validate,
  run,
  schemas,
  'hash-password': hashPasswordCommand,
  keys,
  totp,
};
