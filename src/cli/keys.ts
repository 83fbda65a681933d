import { resolve, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { formatIssue, type ConfigIssue } from '../config-kit/issues.js';
import { ALGORITHMS, isAlgorithm } from '../tokens/algorithms.js';
import { DEFAULT_CONFIG, type Command } from './command.js';

const USAGE_LINE =
  'usage: authpipe keys rotate|activate <kid> [--force]|list [--config FILE] [--tenant TENANT] [--algorithm ES256|EdDSA|RS256|PS256]\n';

/**
 * `authpipe keys rotate|activate|list [--config FILE] [--tenant TENANT] [--algorithm ALG]`.
 * Each tenant has its own keys (`keys_dir/<tenant>/`, tokens/tenant-keys.ts). rotate writes a
 * new key of one algorithm (mode 0600) for each tenant (or the one named) that activates after
 * `tokens.activation_delay_seconds`: the running server publishes it at the next reload (SIGHUP,
 * or the folder watch) and signs with it from then on by itself, so every relying party's cached
 * JWKS has it first. `activate <kid>` makes a published key sign now, but not sooner than the
 * JWKS cache lifetime after the key was written (relying parties would refuse its tokens until
 * they refetch) unless `--force`. Older keys stay published and accepted until their files are removed.
 */
const OPTION_NAMES = new Set(['--config', '--algorithm', '--tenant', '--force']);

export const keys: Command = {
  summary:
    'signing keys: "rotate" publishes a new key that signs after the activation delay, "activate <kid>" makes it sign now, "list" shows them',
  usage:
    USAGE_LINE +
    '\n' +
    '  rotate            write a new key (mode 0600) for every tenant: published at the next reload, signing after tokens.activation_delay_seconds\n' +
    '  activate <kid>    let a published key sign now (then reload); refused within the JWKS cache lifetime (300 s) of the key being written\n' +
    '  --force           activate anyway: relying parties holding an older JWKS refuse its tokens until they refetch\n' +
    "  list              show each tenant's keys and which one signs each algorithm\n" +
    '  --config FILE     the main config file (default config/authpipe.json)\n' +
    "  --tenant TENANT   only this tenant's keys (default: every tenant of the config)\n" +
    '  --algorithm ALG   of the new key (default tokens.algorithm; RS256 rotates the id_token key)\n',
  async run(args) {
    // A kid is a base64url thumbprint and may begin with '-', which parseArgs would read as an
    // option: the word after "activate" is the kid whatever it looks like.
    const kidFirst = args[0] === 'activate' && args[1] !== undefined && !OPTION_NAMES.has(args[1].split('=')[0] as string);
    const parsed = parseArgs({
      args: kidFirst ? [args[0] as string, ...args.slice(2)] : args,
      allowPositionals: true,
      options: {
        config: { type: 'string', default: DEFAULT_CONFIG },
        algorithm: { type: 'string' },
        tenant: { type: 'string' },
        force: { type: 'boolean', default: false },
      },
    });
    const { values } = parsed;
    const positionals = kidFirst ? [args[0] as string, args[1] as string, ...parsed.positionals.slice(1)] : parsed.positionals;
    const action = positionals[0];
    if (action !== 'rotate' && action !== 'list' && action !== 'activate') {
      process.stderr.write(USAGE_LINE);
      return 2;
    }
    // The config schema and the key store load only now: help and usage errors answer without them.
    const [{ tokensSection }, { setActivation, writeNewKey, JWKS_MAX_AGE_SECONDS }, { loadTenantKeys, tenantKeysDir }] = await Promise.all([
      import('./keys-config.js'),
      import('../tokens/key-store.js'),
      import('../tokens/tenant-keys.js'),
    ]);
    const file = resolve(values.config as string);
    const issues: ConfigIssue[] = [];
    const section = tokensSection(file, issues);
    if (!section) {
      for (const issue of issues) process.stdout.write(`${formatIssue(issue)}\n`);
      return 1;
    }
    const { tokens } = section;
    if (values.tenant !== undefined && !section.tenants.includes(values.tenant)) {
      process.stderr.write(`--tenant ${values.tenant}: not a tenant of ${file} (${section.tenants.join(', ')})\n`);
      return 2;
    }
    const tenants = values.tenant !== undefined ? [values.tenant] : section.tenants;
    const dir = resolve(dirname(file), tokens.keys_dir);
    const algorithm = values.algorithm ?? tokens.algorithm;
    if (!isAlgorithm(algorithm)) {
      process.stderr.write(`--algorithm ${algorithm}: expected one of ${ALGORITHMS.join(', ')}\n`);
      return 2;
    }
    const now = Date.now();
    if (action === 'rotate') {
      const delay = tokens.activation_delay_seconds * 1000;
      for (const tenant of tenants) {
        const key = writeNewKey(tenantKeysDir(dir, tenant), algorithm, now, now + delay);
        process.stdout.write(
          `${key.file}: new ${key.alg} key ${key.kid} of tenant ${tenant}, published at the next reload (SIGHUP), signing from ${new Date(key.activeFrom).toISOString()} (or run: authpipe keys activate ${key.kid})\n`,
        );
      }
      return 0;
    }
    const sets = loadTenantKeys(
      { dir, tenants, algorithms: [tokens.algorithm], onEmpty: 'nothing', now, configFile: file, pointer: '/tokens/keys_dir' },
      issues,
    );
    if (action === 'activate') {
      const kid = positionals[1] ?? '';
      // A shared key (of an older install) is in every tenant's set; only a tenant's own is activated.
      const key = [...(sets?.values() ?? [])].flatMap((set) => set.keys).find((k) => k.kid === kid && dirname(k.file) !== dir);
      if (!key) {
        process.stderr.write(`no key "${kid}" in the tenants' folders under ${dir}; see: authpipe keys list\n`);
        return 1;
      }
      // The key's file was written at `created`; it is published at the reload after, so relying
      // parties may hold a JWKS without it for at least the cache lifetime from then.
      const safeFrom = key.created + JWKS_MAX_AGE_SECONDS * 1000;
      if (now < safeFrom && values.force !== true) {
        process.stderr.write(
          `${key.kid} was written ${Math.floor((now - key.created) / 1000)} s ago; relying parties cache the JWKS for ${JWKS_MAX_AGE_SECONDS} s, ` +
            `so some would refuse its tokens. Activate from ${new Date(safeFrom).toISOString()}, or pass --force\n`,
        );
        return 1;
      }
      setActivation(key.file, now);
      process.stdout.write(`${key.kid} signs from now on; reload the server (SIGHUP) if it does not watch its config\n`);
      return 0;
    }
    for (const issue of issues) process.stdout.write(`${formatIssue(issue)}\n`);
    if (!sets || sets.size === 0) {
      if (issues.length === 0) process.stdout.write(`${dir}: no keys yet; the server generates them at first start\n`);
      return issues.length === 0 ? 0 : 1;
    }
    for (const [tenant, set] of sets) {
      for (const key of set.keys) {
        const state =
          set.signers.get(key.alg) === key
            ? 'signs'
            : key.activeFrom > now
              ? `published, signs from ${new Date(key.activeFrom).toISOString()}`
              : 'published';
        const shared = dirname(key.file) === dir ? '  (shared by every tenant: remove once its tokens have expired)' : '';
        process.stdout.write(
          `${tenant}  ${key.kid}  ${key.alg.padEnd(5)}  ${new Date(key.created).toISOString()}  ${state}  ${key.file}${shared}\n`,
        );
      }
    }
    return issues.length === 0 ? 0 : 1;
  },
};
