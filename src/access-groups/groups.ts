/**
 * The access groups of one loaded config, per tenant: built-ins from resources.ts, custom
 * groups and the default from config/access-groups.json. Everything a call needs is
 * computed here once per load (the scope string, a rank per resource), so resolving and
 * checking on the hot path are a few Map reads. Allocation is read from the directory.
 */
import type { Directory, UserKey } from '../directory/directory.js';
import { APIS, BUILT_IN_GROUPS, LEVEL_RANK, RESOURCES, type Api, type Level, type Permissions } from './resources.js';
import type { GroupRecord, GroupStatus } from './schema.js';

export interface AccessGroup {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly status: GroupStatus;
  readonly builtIn: boolean;
  /** Every resource of every API with its level (none included), as shown by the admin API. */
  readonly permissions: Readonly<Record<Api, Readonly<Record<string, Level>>>>;
  /** `data:customer:write data:customer:read …`; empty when the group is inactive. */
  readonly scope: string;
  readonly createdOn: string | null;
  readonly createdBy: string | null;
  readonly lastUpdatedOn: string | null;
  readonly lastUpdatedBy: string | null;
  /** 0 none, 1 read, 2 write; always 0 when inactive (an inactive group grants nothing). */
  rank(api: Api, resource: string): number;
}

export interface Subject {
  readonly kind: string;
  readonly sub: string;
}

/** How a subject got its group, for the refusal detail in logs. */
type Via = 'store' | 'own' | 'default';

export type Resolution =
  { readonly ok: true; readonly group: AccessGroup; readonly via: Via } | { readonly ok: false; readonly reason: string };

interface TenantGroups {
  readonly list: readonly AccessGroup[];
  readonly byId: ReadonlyMap<string, AccessGroup>;
  readonly defaultGroup: AccessGroup | undefined;
}

/** The full permission table of a record: unknown resources were refused by the schema. */
function normalizePermissions(permissions: Permissions): Record<Api, Record<string, Level>> {
  const out = {} as Record<Api, Record<string, Level>>;
  for (const api of APIS) {
    out[api] = {};
    for (const resource of RESOURCES[api]) out[api][resource] = permissions[api]?.[resource] ?? 'none';
  }
  return out;
}

/** Scope entries in the order resources.ts lists them; write also lists read, so a read check needs one entry. */
function scopeOf(permissions: Record<Api, Record<string, Level>>): string {
  const entries: string[] = [];
  for (const api of APIS) {
    for (const resource of RESOURCES[api]) {
      const level = permissions[api][resource];
      if (level === 'write') entries.push(`${api}:${resource}:write`, `${api}:${resource}:read`);
      else if (level === 'read') entries.push(`${api}:${resource}:read`);
    }
  }
  return entries.join(' ');
}

function compileGroup(record: GroupRecord, builtIn: boolean): AccessGroup {
  const permissions = normalizePermissions(record.permissions);
  const active = record.status === 'active';
  const ranks = new Map<string, number>();
  if (active) for (const api of APIS) for (const r of RESOURCES[api]) ranks.set(`${api}:${r}`, LEVEL_RANK[permissions[api][r] as Level]);
  const freeze = <T extends object>(o: T): Readonly<T> => Object.freeze(o);
  return freeze({
    id: record.id,
    name: record.name,
    description: record.description ?? '',
    status: record.status,
    builtIn,
    permissions: freeze({ data: freeze(permissions.data), config: freeze(permissions.config) }),
    scope: active ? scopeOf(permissions) : '',
    createdOn: record.createdOn ?? null,
    createdBy: record.createdBy ?? null,
    lastUpdatedOn: record.lastUpdatedOn ?? null,
    lastUpdatedBy: record.lastUpdatedBy ?? null,
    rank: (api: Api, resource: string) => ranks.get(`${api}:${resource}`) ?? 0,
  });
}

const BUILT_INS: readonly AccessGroup[] = BUILT_IN_GROUPS.map((g) =>
  compileGroup({ id: g.id, name: g.name, description: g.description, status: 'active', permissions: g.permissions }, true),
);

export class AccessGroups {
  private readonly tenants = new Map<string, TenantGroups>();

  /** `custom` per tenant: records already validated (unique ids and names, default exists). */
  constructor(custom: ReadonlyMap<string, { groups: readonly GroupRecord[]; default?: string | undefined }>) {
    for (const [tenant, data] of custom) {
      const list = [...BUILT_INS, ...data.groups.map((g) => compileGroup(g, false))];
      const byId = new Map(list.map((g) => [g.id, g]));
      this.tenants.set(tenant, { list, byId, defaultGroup: data.default === undefined ? undefined : byId.get(data.default) });
    }
  }

  private of(tenant: string): TenantGroups {
    return this.tenants.get(tenant) ?? EMPTY_TENANT;
  }

  /** Built-ins first, then custom groups in file order. */
  groups(tenant: string): readonly AccessGroup[] {
    return this.of(tenant).list;
  }

  group(tenant: string, id: string): AccessGroup | undefined {
    return this.of(tenant).byId.get(id);
  }

  defaultGroup(tenant: string): AccessGroup | undefined {
    return this.of(tenant).defaultGroup;
  }

  /**
   * The subject's group: a till's comes from its store, a client's or user's is its own;
   * either falls back to the tenant default. A till or client the directory does not know
   * resolves to nothing; a user may come from an external identity provider, so an unknown
   * user gets the default.
   */
  resolve(directory: Directory, tenant: string, subject: Subject, userKey: UserKey = 'id'): Resolution {
    let named: string | undefined;
    let via: Via;
    switch (subject.kind) {
      case 'till': {
        const till = directory.till(tenant, subject.sub);
        if (!till) return { ok: false, reason: `till "${subject.sub}" is not in the directory` };
        const store = directory.store(tenant, till.store);
        if (!store) return { ok: false, reason: `store "${till.store}" of till "${subject.sub}" is not in the directory` };
        named = store.access_group;
        via = 'store';
        break;
      }
      case 'client': {
        const client = directory.client(tenant, subject.sub);
        if (!client) return { ok: false, reason: `client "${subject.sub}" is not in the directory` };
        named = client.access_group;
        via = 'own';
        break;
      }
      case 'user':
        named = directory.user(tenant, userKey, subject.sub)?.access_group;
        via = 'own';
        break;
      default:
        return { ok: false, reason: `subject kind "${subject.kind}" is not till, client or user` };
    }
    const groups = this.of(tenant);
    if (named !== undefined) {
      const group = groups.byId.get(named);
      // The load refuses a directory naming an unknown group; this guards a directory swapped apart from us.
      return group ? { ok: true, group, via } : { ok: false, reason: `group "${named}" does not exist in tenant "${tenant}"` };
    }
    if (groups.defaultGroup) return { ok: true, group: groups.defaultGroup, via: 'default' };
    return { ok: false, reason: `no group for ${subject.kind} "${subject.sub}" and tenant "${tenant}" has no default group` };
  }
}

const EMPTY_TENANT: TenantGroups = { list: BUILT_INS, byId: new Map(BUILT_INS.map((g) => [g.id, g])), defaultGroup: undefined };

export function emptyAccessGroups(): AccessGroups {
  return new AccessGroups(new Map());
}
