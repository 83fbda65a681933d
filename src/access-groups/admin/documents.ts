/**
 * The two files behind the admin API, read from disk under the lock: access-groups.json
 * (groups and the default) and the directory (which store is allocated to which group,
 * the one place allocation lives). Writes go back through writeFileAtomic; an allocation
 * edits only the one member it changes, so a hand-formatted directory keeps its layout.
 */
import { readFile } from 'node:fs/promises';
import type { ConfigIssue } from '../../config-kit/issues.js';
import { formatIssue } from '../../config-kit/issues.js';
import { AccessGroups } from '../groups.js';
import { checkAccessGroups } from '../load.js';
import type { AccessGroupsFile } from '../schema.js';
import { AdminError } from '../../admin/admin-error.js';
import { setMember } from '../../admin/json-edit.js';
import type { AdminState, StoreRef } from './views.js';

interface RawDirectory {
  tenants?: Record<string, { stores?: { id: string; name: string; access_group?: string }[] } & Record<string, unknown>>;
}

export interface AdminFiles {
  /** config/access-groups.json; null when the main file names none. */
  readonly groups: string | null;
  readonly directory: string | null;
}

export interface DiskDocuments {
  readonly groupsPath: string;
  /** The file as read, to put back if the config with the change does not load. */
  readonly groupsText: string;
  readonly groups: AccessGroupsFile;
  readonly directoryPath: string | null;
  readonly directoryText: string | null;
  readonly directory: RawDirectory;
  readonly state: AdminState;
}

async function readJson(path: string): Promise<{ text: string; value: unknown }> {
  const text = await readFile(path, 'utf8');
  try {
    return { text, value: JSON.parse(text) };
  } catch (err) {
    throw new AdminError('CONFIG_INVALID', `${path} on disk is not valid JSON (${(err as Error).message}); fix it by hand first`);
  }
}

/** The current files, checked as a load would check them. */
export async function readDocuments(files: AdminFiles, tenants: ReadonlySet<string>): Promise<DiskDocuments> {
  if (files.groups === null)
    throw new AdminError(
      'NOT_CONFIGURED',
      'the main config file names no access_groups file; add "access_groups": "access-groups.json" to it',
    );
  const groupsRead = await readJson(files.groups);
  const issues: ConfigIssue[] = [];
  const checked = checkAccessGroups(groupsRead.value, files.groups, tenants, issues);
  if (!checked)
    throw new AdminError(
      'CONFIG_INVALID',
      `the access groups file on disk is invalid; fix it by hand first: ${issues.map(formatIssue).join('; ')}`,
    );
  let directoryText: string | null = null;
  let directory: RawDirectory = {};
  if (files.directory !== null) {
    const read = await readJson(files.directory);
    directoryText = read.text;
    directory = read.value as RawDirectory;
  }
  const groups = new AccessGroups(checked);
  const state: AdminState = { groups, stores: (tenant) => (directory.tenants?.[tenant]?.stores ?? []) as StoreRef[] };
  return {
    groupsPath: files.groups,
    groupsText: groupsRead.text,
    groups: groupsRead.value as AccessGroupsFile,
    directoryPath: files.directory,
    directoryText,
    directory,
    state,
  };
}

export function formatGroups(doc: AccessGroupsFile): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * The directory text with the allocations of `changes` (store index to group id, or
 * undefined to remove), edited in place; a full rewrite if the in-place edit would not
 * parse back to exactly the intended document.
 */
export function directoryTextWith(docs: DiskDocuments, tenant: string, changes: ReadonlyMap<number, string | undefined>): string {
  const intended = structuredClone(docs.directory);
  const stores = intended.tenants?.[tenant]?.stores ?? [];
  for (const [index, group] of changes) {
    const store = stores[index];
    if (!store) continue;
    if (group === undefined) delete store.access_group;
    else store.access_group = group;
  }
  let text = docs.directoryText ?? '';
  try {
    for (const [index, group] of changes) text = setMember(text, ['tenants', tenant, 'stores', index], 'access_group', group);
    // Same members in the same order: the in-place edit appends where the object edit appends.
    if (JSON.stringify(JSON.parse(text)) === JSON.stringify(intended)) return text;
  } catch {
    /* fall through to a full rewrite */
  }
  return `${JSON.stringify(intended, null, 2)}\n`;
}
