import type { Command } from './command.js';
import { hashPasswordCommand } from './hash-password.js';
import { keys } from './keys.js';
import { schemas } from './schemas.js';
import { serve } from './serve.js';
import { totp } from './totp.js';
import { validate } from './validate.js';

export const commands: Record<string, Command> = { serve, validate, schemas, 'hash-password': hashPasswordCommand, keys, totp };
