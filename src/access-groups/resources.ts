/**
 * The resources access groups grant, and the built-in groups, defined once, in code. Resources are the
 * API surface the gateway protects: they change with releases of the software, not with a
 * tenant's wishes, so an admin cannot add one that no API serves, and "Admin: everything"
 * cannot drift from what everything is. The access-groups schema (schemas/) and the admin
 * API enumerate these names, so a permission on an unknown resource fails at load or 400s.
 */

export const APIS = ['data', 'config'] as const;
export type Api = (typeof APIS)[number];

/** Order matters: scope strings list entries in this order, so they are stable. */
export const RESOURCES: Readonly<Record<Api, readonly string[]>> = {
  /** Data API: what tills and apps do with a brand's members. */
  data: ['customer', 'transaction', 'points', 'coupon', 'card', 'product', 'request'],
  /** Config API: how the org is set up. */
  config: ['org', 'store', 'till', 'event', 'program', 'coupon_series'],
};

export const API_TITLES: Readonly<Record<Api, string>> = { data: 'Data API', config: 'Config API' };

export const LEVELS = ['none', 'read', 'write'] as const;
export type Level = (typeof LEVELS)[number];
/** none < read < write: write implies read. */
export const LEVEL_RANK: Readonly<Record<Level, number>> = { none: 0, read: 1, write: 2 };

/** As written in a group: per API, resource to level; a missing resource is none. */
export type Permissions = { [A in Api]?: Readonly<Record<string, Level>> };

export function isApi(value: string): value is Api {
  return value === 'data' || value === 'config';
}

export function isResource(api: Api, resource: string): boolean {
  return RESOURCES[api].includes(resource);
}

export interface BuiltInGroup {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly permissions: Permissions;
}

const everything = (level: Level): Permissions =>
  Object.fromEntries(APIS.map((api) => [api, Object.fromEntries(RESOURCES[api].map((r) => [r, level]))])) as Permissions;

/** Every tenant has these; they cannot be edited or deactivated. */
export const BUILT_IN_GROUPS: readonly BuiltInGroup[] = [
  {
    id: 'POS',
    name: 'POS',
    description: 'Point-of-sale tills: register customers, add transactions, issue and redeem points, read coupons.',
    permissions: { data: { customer: 'write', transaction: 'write', points: 'write', coupon: 'read' } },
  },
  {
    id: 'Instore',
    name: 'Instore',
    description: 'In-store devices that only register customers.',
    permissions: { data: { customer: 'write' } },
  },
  {
    id: 'Admin',
    name: 'Admin',
    description: 'Everything on the Data and Config APIs, and the access-groups admin API.',
    permissions: everything('write'),
  },
];

export const ADMIN_GROUP_ID = 'Admin';
