import type { Command } from './command.js';
import { run } from './run.js';
import { schemas } from './schemas.js';
import { serve } from './serve.js';
import { validate } from './validate.js';

export const commands: Record<string, Command> = { serve, validate, schemas, run };
