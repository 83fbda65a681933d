/**
 * What the admin API shows of a group, and its ETag. A view is computed the same way from
 * the active config (reads) and from the files on disk (writes, under the lock), so an
 * If-Match from a GET matches exactly when nothing the view shows has changed since.
 */
import { createHash } from 'node:crypto';
import type { AccessGroup, AccessGroups } from '../groups.js';

export interface StoreRef {
  readonly id: string;
  readonly name: string;
  readonly access_group?: string;
}

/** The groups and the stores (with their allocation) of one tenant. */
export interface AdminState {
  readonly groups: AccessGroups;
  stores(tenant: string): readonly StoreRef[];
}

export interface GroupSummary {
  id: string;
  name: string;
  status: string;
  description: string;
  builtIn: boolean;
  isDefault: boolean;
  createdOn: string | null;
  createdBy: string | null;
  lastUpdatedOn: string | null;
  lastUpdatedBy: string | null;
  allocatedStores: number;
}

export interface GroupDetail extends GroupSummary {
  permissions: AccessGroup['permissions'];
  scope: string;
  stores: { id: string; name: string }[];
}

export function allocatedTo(state: AdminState, tenant: string, groupId: string): StoreRef[] {
  return state.stores(tenant).filter((s) => s.access_group === groupId);
}

export function summaryOf(state: AdminState, tenant: string, group: AccessGroup): GroupSummary {
  return {
    id: group.id,
    name: group.name,
    status: group.status,
    description: group.description,
    builtIn: group.builtIn,
    isDefault: state.groups.defaultGroup(tenant)?.id === group.id,
    createdOn: group.createdOn,
    createdBy: group.createdBy,
    lastUpdatedOn: group.lastUpdatedOn,
    lastUpdatedBy: group.lastUpdatedBy,
    allocatedStores: allocatedTo(state, tenant, group.id).length,
  };
}

export function detailOf(state: AdminState, tenant: string, group: AccessGroup): GroupDetail {
  return {
    ...summaryOf(state, tenant, group),
    permissions: group.permissions,
    scope: group.scope,
    stores: allocatedTo(state, tenant, group.id).map((s) => ({ id: s.id, name: s.name })),
  };
}

function tag(value: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 22)}"`;
}

export function groupEtag(detail: GroupDetail): string {
  return tag(['group', detail]);
}

export function defaultEtag(state: AdminState, tenant: string): string {
  return tag(['default', state.groups.defaultGroup(tenant)?.id ?? null]);
}

/** If-Match (RFC 9110 13.1.1) with strong comparison; `*` is refused by the caller before this. */
export function ifMatchHolds(header: string, current: string): boolean {
  return header.split(',').some((t) => t.trim() === current);
}
