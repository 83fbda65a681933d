/**
 * The admin rules, as edits of the documents on disk: each returns the one file to write
 * (a change touches either access-groups.json or the directory, never both, so each change
 * is one atomic rename) or null when nothing changes. Built-ins are not in the file and
 * cannot be edited or deactivated; names are unique per tenant by skeleton (names.ts); a group with
 * stores allocated, or the tenant default, cannot be deactivated; only an active group can
 * receive stores or become the default.
 */
import type { Permissions } from '../resources.js';
import type { AccessGroup } from '../groups.js';
import { AdminError } from '../../admin/admin-error.js';
import { directoryTextWith, formatGroups, type DiskDocuments } from './documents.js';
import { allocatedTo } from './views.js';
import { nameSkeleton, normalizeGroupName } from '../names.js';
import { GROUP_NAME_PATTERN, type GroupRecord, type TenantGroupsRecord } from '../schema.js';
import { ADMIN_GROUP_ID } from '../resources.js';

const GROUP_NAME = new RegExp(GROUP_NAME_PATTERN, 'u');

export interface Plan {
  readonly file: 'groups' | 'directory';
  readonly text: string;
  readonly groupId: string;
}

export interface Actor {
  readonly sub: string;
  /** ISO 8601 time of the change. */
  readonly now: string;
}

/** Ids the API uses as path segments; a group may not take them. */
const RESERVED_IDS = new Set(['default']);

function tenantRecord(docs: DiskDocuments, tenant: string): TenantGroupsRecord {
  const record = (docs.groups.tenants[tenant] ??= {});
  record.groups ??= [];
  return record;
}

function customRecord(docs: DiskDocuments, tenant: string, id: string): GroupRecord {
  const record = docs.groups.tenants[tenant]?.groups?.find((g) => g.id === id);
  // The caller found the group in the state built from these same documents.
  if (!record) throw new AdminError('NOT_FOUND', `group "${id}" does not exist`);
  return record;
}

function nameHolder(docs: DiskDocuments, tenant: string, name: string, except?: string): AccessGroup | undefined {
  const wanted = nameSkeleton(name);
  return docs.state.groups.groups(tenant).find((g) => g.id !== except && nameSkeleton(g.name) === wanted);
}

function idTaken(docs: DiskDocuments, tenant: string, id: string): boolean {
  const wanted = id.toLowerCase();
  return RESERVED_IDS.has(wanted) || docs.state.groups.groups(tenant).some((g) => g.id.toLowerCase() === wanted);
}

/** A readable, stable id from the name: "WeChat bridge" -> wechat-bridge, then -2, -3… */
function idFromName(docs: DiskDocuments, tenant: string, name: string): string {
  const base =
    name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48) || 'group';
  if (!idTaken(docs, tenant, base)) return base;
  for (let n = 2; ; n++) if (!idTaken(docs, tenant, `${base}-${n}`)) return `${base}-${n}`;
}

function nameTaken(holder: AccessGroup, name: string): AdminError {
  return new AdminError(
    'NAME_TAKEN',
    `the name "${name}" is already used by ${holder.builtIn ? 'the built-in' : 'the'} group "${holder.id}" (names are compared ignoring case and look-alike letters)`,
    ['/name'],
  );
}

export interface CreateBody {
  id?: string;
  name: string;
  description?: string;
  permissions?: Permissions;
}

/** The name as stored (NFKC), refused when normalising made it break the name rules. */
function storedName(name: string): string {
  const stored = normalizeGroupName(name);
  if (!GROUP_NAME.test(stored))
    throw new AdminError('BAD_BODY', `the name "${stored}" (NFKC of what was sent) is not a valid group name`, ['/name']);
  return stored;
}

export function createGroup(docs: DiskDocuments, tenant: string, body: CreateBody, actor: Actor): Plan {
  const name = storedName(body.name);
  const holder = nameHolder(docs, tenant, name);
  if (holder) throw nameTaken(holder, name);
  if (body.id !== undefined && idTaken(docs, tenant, body.id))
    throw new AdminError('ID_TAKEN', `the id "${body.id}" is already used or reserved (ids are compared ignoring case)`, ['/id']);
  const id = body.id ?? idFromName(docs, tenant, name);
  const record: GroupRecord = {
    id,
    name,
    description: body.description ?? '',
    status: 'active',
    permissions: body.permissions ?? {},
    createdOn: actor.now,
    createdBy: actor.sub,
    lastUpdatedOn: actor.now,
    lastUpdatedBy: actor.sub,
  };
  tenantRecord(docs, tenant).groups?.push(record);
  return { file: 'groups', text: formatGroups(docs.groups), groupId: id };
}

export interface EditBody {
  name?: string;
  description?: string;
  /** Replaces the whole table: a resource left out becomes none. */
  permissions?: Permissions;
}

export function editGroup(docs: DiskDocuments, tenant: string, id: string, body: EditBody, actor: Actor): Plan {
  const record = customRecord(docs, tenant, id);
  if (body.name !== undefined) {
    const name = storedName(body.name);
    const holder = nameHolder(docs, tenant, name, id);
    if (holder) throw nameTaken(holder, name);
    record.name = name;
  }
  if (body.description !== undefined) record.description = body.description;
  if (body.permissions !== undefined) record.permissions = body.permissions;
  record.lastUpdatedOn = actor.now;
  record.lastUpdatedBy = actor.sub;
  return { file: 'groups', text: formatGroups(docs.groups), groupId: id };
}

export function setStatus(docs: DiskDocuments, tenant: string, id: string, status: 'active' | 'inactive', actor: Actor): Plan | null {
  const record = customRecord(docs, tenant, id);
  if (record.status === status) return null;
  if (status === 'inactive') {
    const stores = allocatedTo(docs.state, tenant, id);
    if (stores.length > 0) {
      const shown =
        stores
          .slice(0, 10)
          .map((s) => s.id)
          .join(', ') + (stores.length > 10 ? ', …' : '');
      throw new AdminError(
        'STORES_ALLOCATED',
        `group "${id}" still has ${stores.length} store(s) allocated (${shown}); remove them from the group before deactivating it`,
      );
    }
    if (docs.state.groups.defaultGroup(tenant)?.id === id) {
      throw new AdminError(
        'DEFAULT_GROUP',
        `group "${id}" is the default group of tenant "${tenant}"; make another group the default before deactivating it`,
      );
    }
  }
  record.status = status;
  record.lastUpdatedOn = actor.now;
  record.lastUpdatedBy = actor.sub;
  return { file: 'groups', text: formatGroups(docs.groups), groupId: id };
}

export function setDefault(docs: DiskDocuments, tenant: string, group: string | null): Plan | null {
  const current = docs.state.groups.defaultGroup(tenant)?.id ?? null;
  if (current === group) return null;
  const record = tenantRecord(docs, tenant);
  if (group === null) {
    delete record.default;
  } else {
    const target = docs.state.groups.group(tenant, group);
    if (!target) throw new AdminError('UNKNOWN_GROUP', `group "${group}" does not exist`, ['/group']);
    if (target.status !== 'active')
      throw new AdminError('GROUP_INACTIVE', `group "${group}" is inactive; only an active group can be the default`, ['/group']);
    record.default = group;
  }
  return { file: 'groups', text: formatGroups(docs.groups), groupId: group ?? '' };
}

/** A store to allocate: its id alone when it has no group now, else with the group it is in. */
type StoreMove = string | { store: string; from: string | null };

export interface StoresBody {
  add?: StoreMove[];
  remove?: string[];
}

/**
 * Allocates `add` to the group and returns `remove` to the default. Each move is conditional
 * on the store's current group: a plain id means "it has no group", `{store, from}` names the
 * group it is taken from. When the store is elsewhere by now (another admin moved it), the
 * change is refused with 409 STORE_MOVED instead of silently undoing theirs.
 */
export function allocateStores(
  docs: DiskDocuments,
  tenant: string,
  id: string,
  body: StoresBody,
  options: { allowAdminStores: boolean },
): Plan | null {
  const group = docs.state.groups.group(tenant, id) as AccessGroup;
  const moves = body.add ?? [];
  const add = moves.map((m) => (typeof m === 'string' ? m : m.store));
  const remove = body.remove ?? [];
  const twice = add.filter((s, i) => add.indexOf(s) !== i);
  if (twice.length > 0) throw new AdminError('BAD_BODY', `store(s) added twice: ${twice.join(', ')}`, ['/add']);
  if (add.length > 0 && id === ADMIN_GROUP_ID && !options.allowAdminStores) {
    throw new AdminError(
      'ADMIN_STORES_REFUSED',
      'stores cannot be allocated to the built-in Admin group: every till of the store would become an admin (set admin_api.allow_admin_stores in the main file to allow it)',
      ['/add'],
    );
  }
  const both = add.filter((s) => remove.includes(s));
  if (both.length > 0) throw new AdminError('BAD_BODY', `store(s) both added and removed: ${both.join(', ')}`, ['/add', '/remove']);
  if (docs.directoryPath === null)
    throw new AdminError('NOT_CONFIGURED', 'the main config file names no directory file, so there are no stores to allocate');
  const stores = docs.state.stores(tenant);
  const indexOf = new Map(stores.map((s, i) => [s.id, i]));
  const unknown = [...add, ...remove].filter((s) => !indexOf.has(s));
  if (unknown.length > 0)
    throw new AdminError(
      'UNKNOWN_STORE',
      `no such store in tenant "${tenant}": ${unknown.join(', ')}`,
      unknown.map((s) => (add.includes(s) ? `/add/${add.indexOf(s)}` : `/remove/${remove.indexOf(s)}`)),
    );
  if (add.length > 0 && group.status !== 'active')
    throw new AdminError('GROUP_INACTIVE', `group "${id}" is inactive; activate it before allocating stores to it`);
  const notHere = remove.filter((s) => stores[indexOf.get(s) as number]?.access_group !== id);
  if (notHere.length > 0)
    throw new AdminError(
      'STORE_NOT_IN_GROUP',
      `store(s) not allocated to group "${id}": ${notHere.join(', ')}`,
      notHere.map((s) => `/remove/${remove.indexOf(s)}`),
    );
  const moved = moves.flatMap((m, i) => {
    const expected = typeof m === 'string' ? null : m.from;
    const current = stores[indexOf.get(add[i] as string) as number]?.access_group ?? null;
    return current === expected || current === id ? [] : [{ at: `/add/${i}`, store: add[i], current }];
  });
  if (moved.length > 0) {
    throw new AdminError(
      'STORE_MOVED',
      moved
        .map(
          (m) =>
            `store ${m.store} is in ${m.current === null ? 'no group' : `group "${m.current}"`}; name it as {"store": "${m.store}", "from": ${JSON.stringify(m.current)}} to move it`,
        )
        .join('; '),
      moved.map((m) => m.at),
    );
  }
  const changes = new Map<number, string | undefined>();
  for (const s of add) if (stores[indexOf.get(s) as number]?.access_group !== id) changes.set(indexOf.get(s) as number, id);
  for (const s of remove) changes.set(indexOf.get(s) as number, undefined);
  if (changes.size === 0) return null;
  return { file: 'directory', text: directoryTextWith(docs, tenant, changes), groupId: id };
}
