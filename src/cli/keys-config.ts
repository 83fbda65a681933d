import { dirname } from 'node:path';
import { ajvIssues } from '../config-kit/ajv-issues.js';
import type { ConfigIssue } from '../config-kit/issues.js';
import { readJsonFile } from '../config-kit/json-file.js';
import { resolveSecrets } from '../config-kit/secrets.js';
import { mainSchema, type MainConfig } from '../config/main-schema.js';
import { newAjv } from '../engine/registry.js';

/**
 * The `tokens` section of the main file for `authpipe keys`, with its defaults, and the tenants
 * the file declares (each has a keys folder of its own), or null with the issues that stop it
 * (an unreadable or invalid file, no tokens section). Only the main file is read: the keys
 * command needs no pipe, directory or store.
 */
export function tokensSection(
  file: string,
  issues: ConfigIssue[],
): { tokens: NonNullable<MainConfig['tokens']>; tenants: string[] } | null {
  const read = readJsonFile(file, issues);
  if (!read) return null;
  const main = resolveSecrets(read.value, file, { env: process.env, baseDir: dirname(file) }, issues) as MainConfig;
  const validate = newAjv({ useDefaults: true }).compile(mainSchema);
  if (!validate(main)) {
    issues.push(...ajvIssues(file, '', validate.errors));
    return null;
  }
  if (!main.tokens) {
    issues.push({
      code: 'CONFIG_MISSING',
      file,
      pointer: '/tokens',
      message: 'no "tokens" section: add {"issuer", "audience", "keys_dir"} to use signing keys',
    });
    return null;
  }
  const tenants = [...new Set(main.modules.flatMap((m) => m.config.tenant.map((t) => t.id)))];
  return issues.length === 0 ? { tokens: main.tokens, tenants } : null;
}
