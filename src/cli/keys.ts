import { resolve, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { ajvIssues } from '../config/ajv-issues.js';
import { formatIssue, type ConfigIssue } from '../config/issues.js';
import { readJsonFile } from '../config/json-file.js';
import { mainSchema, type MainConfig } from '../config/main-schema.js';
import { resolveSecrets } from '../config/secrets.js';
import { newAjv } from '../engine/registry.js';
import { ALGORITHMS, isAlgorithm } from '../tokens/algorithms.js';
import { loadKeySet, writeNewKey } from '../tokens/key-store.js';
import { DEFAULT_CONFIG, type Command } from './command.js';

/**
 * `authpipe keys rotate|list [--config FILE] [--algorithm ALG]`. rotate writes a new key
 * (mode 0600) into the configured folder; the running server signs with it after a reload
 * (SIGHUP), and keeps publishing and accepting the older keys until their files are removed.
 */
export const keys: Command = {
  summary: 'signing keys: "rotate" adds a new signing key, "list" shows them (newest signs)',
  usage:
    'usage: authpipe keys rotate|list [--config FILE] [--algorithm ES256|EdDSA|RS256|PS256]\n\n' +
    '  rotate            write a new signing key (mode 0600); the server signs with it after a reload\n' +
    '  list              show the keys (the newest signs)\n' +
    '  --config FILE     the main config file (default config/authpipe.json)\n' +
    '  --algorithm ALG   of the new key (default tokens.algorithm, else ES256)\n',
  run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { config: { type: 'string', default: DEFAULT_CONFIG }, algorithm: { type: 'string' } },
    });
    const action = positionals[0];
    if (action !== 'rotate' && action !== 'list') {
      process.stderr.write('usage: authpipe keys rotate|list [--config FILE] [--algorithm ES256|EdDSA|RS256|PS256]\n');
      return 2;
    }
    const file = resolve(values.config as string);
    const issues: ConfigIssue[] = [];
    const tokens = tokensSection(file, issues);
    if (!tokens) {
      for (const issue of issues) process.stdout.write(`${formatIssue(issue)}\n`);
      return 1;
    }
    const dir = resolve(dirname(file), tokens.keys_dir);
    const algorithm = values.algorithm ?? tokens.algorithm;
    if (!isAlgorithm(algorithm)) {
      process.stderr.write(`--algorithm ${algorithm}: expected one of ${ALGORITHMS.join(', ')}\n`);
      return 2;
    }
    if (action === 'rotate') {
      const key = writeNewKey(dir, algorithm, Date.now());
      process.stdout.write(`${key.file}: new ${key.alg} signing key ${key.kid}; reload the server (SIGHUP) to sign with it\n`);
      return 0;
    }
    const set = loadKeySet({ dir, algorithm, onEmpty: 'nothing', now: Date.now(), configFile: file, pointer: '/tokens/keys_dir' }, issues);
    for (const issue of issues) process.stdout.write(`${formatIssue(issue)}\n`);
    if (!set) {
      if (issues.length === 0) process.stdout.write(`${dir}: no keys yet; the server generates one at first start\n`);
      return issues.length === 0 ? 0 : 1;
    }
    for (const key of set.keys) {
      process.stdout.write(`${key.kid}  ${key.alg.padEnd(5)}  ${new Date(key.created).toISOString()}  ${key === set.signing ? 'signs' : 'published'}  ${key.file}\n`);
    }
    return issues.length === 0 ? 0 : 1;
  },
};

function tokensSection(file: string, issues: ConfigIssue[]): NonNullable<MainConfig['tokens']> | null {
  const read = readJsonFile(file, issues);
  if (!read) return null;
  const main = resolveSecrets(read.value, file, { env: process.env, baseDir: dirname(file) }, issues) as MainConfig;
  const validate = newAjv({ useDefaults: true }).compile(mainSchema);
  if (!validate(main)) {
    issues.push(...ajvIssues(file, '', validate.errors));
    return null;
  }
  if (!main.tokens) {
    issues.push({ file, pointer: '/tokens', message: 'no "tokens" section: add {"issuer", "audience", "keys_dir"} to use signing keys' });
    return null;
  }
  return issues.length === 0 ? main.tokens : null;
}
