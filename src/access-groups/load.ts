/**
 * Builds the AccessGroups service from config/access-groups.json, once per config load, and
 * cross-checks it: tenants exist in the main file, ids and names are unique in a tenant
 * (ignoring case and look-alike letters, names.ts; built-ins included), the default names an active group, and every
 * access_group the directory names (stores, clients, users) exists. Each problem is an
 * issue naming the file and JSON pointer; a load with issues is never swapped in.
 */
import { nameSkeleton, normalizeGroupName } from './names.js';
import { resolve } from 'node:path';
import { ajvIssues } from '../config-kit/ajv-issues.js';
import { pointer, type ConfigIssue } from '../config-kit/issues.js';
import { readDataFile } from '../config/data-file.js';
import type { MainConfig } from '../config/main-schema.js';
import type { FeatureContext } from '../config/feature.js';
import { newAjv } from '../engine/registry.js';
import { BUILT_IN_GROUPS } from './resources.js';
import { AccessGroups, emptyAccessGroups } from './groups.js';
import { accessGroupsSchema, type AccessGroupsFile, type GroupRecord } from './schema.js';

const validateFile = newAjv().compile(accessGroupsSchema);

/** As config/load.ts names files in messages (not imported: load.ts imports this module). */

export function configuredTenants(main: MainConfig): Set<string> {
  return new Set(main.modules.flatMap((m) => m.config.tenant.map((t) => t.id)));
}

/** Checks a parsed file; problems go to `issues` under `file`. Returns the per-tenant data. */
export function checkAccessGroups(
  value: unknown,
  file: string,
  tenants: ReadonlySet<string>,
  issues: ConfigIssue[],
): Map<string, { groups: GroupRecord[]; default?: string }> | null {
  if (!validateFile(value)) {
    issues.push(...ajvIssues(file, '', validateFile.errors));
    return null;
  }
  const data = value as AccessGroupsFile;
  const out = new Map<string, { groups: GroupRecord[]; default?: string }>();
  const before = issues.length;
  for (const [tenant, source] of Object.entries(data.tenants)) {
    const at = (...tokens: (string | number)[]) => pointer('tenants', tenant, ...tokens);
    if (!tenants.has(tenant))
      issues.push({
        code: 'CONFIG_REFERENCE',
        file,
        pointer: at(),
        message: `tenant "${tenant}" is not configured in the main file; expected one of: ${[...tenants].join(', ')}`,
      });
    const ids = new Map<string, string>(BUILT_IN_GROUPS.map((g) => [g.id.toLowerCase(), `built-in group ${g.id}`]));
    const names = new Map<string, string>(BUILT_IN_GROUPS.map((g) => [nameSkeleton(g.name), `built-in group ${g.id}`]));
    const groups = source.groups ?? [];
    groups.forEach((g, i) => {
      const seenId = ids.get(g.id.toLowerCase());
      if (seenId)
        issues.push({
          code: 'CONFIG_INVALID',
          file,
          pointer: at('groups', i, 'id'),
          message: `group id "${g.id}" is already used by ${seenId} (ids are compared ignoring case)`,
        });
      else ids.set(g.id.toLowerCase(), `group ${g.id}`);
      const seenName = names.get(nameSkeleton(g.name));
      if (seenName)
        issues.push({
          code: 'CONFIG_INVALID',
          file,
          pointer: at('groups', i, 'name'),
          message: `group name "${g.name}" is already used by ${seenName} (names are compared ignoring case and look-alike letters)`,
        });
      else names.set(nameSkeleton(g.name), `group ${g.id}`);
      if (g.name !== normalizeGroupName(g.name))
        issues.push({
          code: 'CONFIG_INVALID',
          file,
          pointer: at('groups', i, 'name'),
          message: `group name "${g.name}" is not NFKC-normalised; write it as "${normalizeGroupName(g.name)}"`,
        });
    });
    if (source.default !== undefined) {
      const builtIn = BUILT_IN_GROUPS.some((g) => g.id === source.default);
      const custom = groups.find((g) => g.id === source.default);
      if (!builtIn && !custom) {
        issues.push({
          code: 'CONFIG_REFERENCE',
          file,
          pointer: at('default'),
          message: `default group "${source.default}" does not exist; expected one of: ${[...BUILT_IN_GROUPS.map((g) => g.id), ...groups.map((g) => g.id)].join(', ')}`,
        });
      } else if (custom && custom.status !== 'active') {
        issues.push({
          code: 'CONFIG_INVALID',
          file,
          pointer: at('default'),
          message: `default group "${source.default}" is inactive; the default must be an active group`,
        });
      }
    }
    out.set(tenant, { groups, ...(source.default !== undefined ? { default: source.default } : {}) });
  }
  return issues.length === before ? out : null;
}

/** The shape of the directory file this check reads: only the access_group references. */
interface DirectoryReferences {
  tenants?: Record<
    string,
    { stores?: { access_group?: unknown }[]; clients?: { access_group?: unknown }[]; users?: { access_group?: unknown }[] }
  >;
}

/** Every access_group the directory names must exist in its tenant. */
function checkDirectoryReferences(directory: unknown, file: string, groups: AccessGroups, issues: ConfigIssue[]): void {
  const tenants = (directory as DirectoryReferences | null)?.tenants;
  if (!tenants || typeof tenants !== 'object') return;
  for (const [tenant, data] of Object.entries(tenants)) {
    for (const list of ['stores', 'clients', 'users'] as const) {
      const entries = data?.[list];
      if (!Array.isArray(entries)) continue;
      entries.forEach((entry, i) => {
        const named = entry?.access_group;
        if (typeof named !== 'string' || groups.group(tenant, named)) return;
        const known = groups.groups(tenant).map((g) => g.id);
        issues.push({
          code: 'CONFIG_REFERENCE',
          file,
          pointer: pointer('tenants', tenant, list, i, 'access_group'),
          message: `access group "${named}" does not exist in tenant "${tenant}"; expected one of: ${known.join(', ')}`,
        });
      });
    }
  }
}

/** Where the two files of access control live, resolved against the main file's folder. */
export function accessGroupFiles(main: MainConfig, dir: string): { groups: string | null; directory: string | null } {
  return {
    groups: main.access_groups === undefined ? null : resolve(dir, main.access_groups),
    directory: main.directory === undefined ? null : resolve(dir, main.directory),
  };
}

/** Reads the file the main config names (`access_groups`); absent: built-ins only, no default. */
export function loadAccessGroups(ctx: FeatureContext): AccessGroups {
  const files = accessGroupFiles(ctx.main, ctx.dir);
  let groups = emptyAccessGroups();
  if (files.groups !== null) {
    const file = readDataFile(ctx, files.groups);
    const checked = file.ok ? checkAccessGroups(file.value, file.shown, configuredTenants(ctx.main), file.issues) : null;
    if (checked) groups = new AccessGroups(checked);
    ctx.issues.push(...file.issues);
    if (file.issues.length > 0) return groups;
  }
  // The directory loader already reported a file it could not read or parse: only references here.
  if (files.directory !== null) {
    const directory = readDataFile(ctx, files.directory);
    if (directory.value !== undefined) checkDirectoryReferences(directory.value, directory.shown, groups, ctx.issues);
  }
  return groups;
}
