/**
 * The user pools of the admin's tenant (`oidc.tenants.<tenant>.pools` of the main file): list,
 * create, and replace one, its steps an ordered list of pipes. The body is checked against the
 * pool's own schema (the one the loader uses), then the whole config loads with the change
 * before it is written, so a step naming a pipe the tenant may not call is a 422 at its
 * pointer. Only the pool's member of the main file is rewritten; the rest keeps its layout.
 */
import { AdminError } from './admin-error.js';
import { checkedBody } from './bodies.js';
import { applyChange, checkIfMatch, Disk, etagOf, type ChangeOptions } from './config-change.js';
import { setMember } from './json-edit.js';
import { operatorHome } from './auth.js';
import type { AdminCall, AdminRoute } from './routes.js';
import type { MainConfig } from '../config/main-schema.js';
import { POOL_PATTERN } from '../directory/schema.js';
import { oidcSchema, type OidcPoolConfig } from '../oidc/schema.js';

/** A pool as the main file has it: the loader's own schema, so the API accepts exactly what a file may hold. */
const POOL = oidcSchema.properties.tenants.additionalProperties.properties.pools.additionalProperties;
const CREATE = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'steps'],
  properties: { id: { type: 'string', pattern: POOL_PATTERN }, ...POOL.properties },
} as const;
const POOL_ID = new RegExp(POOL_PATTERN);
/** The request bodies, for the OpenAPI document. */
export const POOL_BODIES = { create: CREATE, pool: POOL };

type Pools = Record<string, OidcPoolConfig>;

function poolsOf(main: MainConfig, tenant: string): Pools | undefined {
  const door = main.oidc?.tenants[tenant];
  return door ? ((door.pools ?? {}) as Pools) : undefined;
}

export function poolRoutes(options: ChangeOptions): AdminRoute[] {
  const { holder } = options;
  const file = () => holder.current.file;
  const read = async (disk: Disk, tenant: string): Promise<{ main: MainConfig; pools: Pools }> => {
    const main = (await disk.json(file())) as MainConfig;
    const pools = poolsOf(main, tenant);
    if (!pools) throw new AdminError('NOT_CONFIGURED', `tenant "${tenant}" has no OpenID door (oidc.tenants.${tenant} of the main file)`);
    return { main, pools };
  };
  const find = async (disk: Disk, tenant: string, id: string) => {
    const { main, pools } = await read(disk, tenant);
    const pool = POOL_ID.test(id) && Object.hasOwn(pools, id) ? pools[id] : undefined;
    if (!pool) throw new AdminError('NOT_FOUND', `no pool "${id}" in tenant "${tenant}"`);
    return { main, pools, pool };
  };
  const show = async (call: AdminCall, id: string, status: number) => {
    const { pool } = await find(new Disk(), call.subject.tenant, id);
    call.send(status, { id, ...pool }, { etag: etagOf(pool), ...(status === 201 ? { location: `/admin/pools/${id}` } : {}) });
  };
  /**
   * Writes pool `id` of the admin's tenant (creating the door's pools member when there is none
   * yet). In an operator's home tenant the pools are the operator's: the console signs in
   * through one, so a tenant admin who could change its steps could sign in as an operator.
   */
  const write = (call: AdminCall, id: string, action: string, plan: (disk: Disk) => Promise<{ main: MainConfig; pool: object }>) => {
    if (call.subject.role !== 'operator' && operatorHome(holder.current, call.subject.tenant))
      throw new AdminError('OPERATOR_ONLY', `tenant "${call.subject.tenant}" is an operator's home: only an operator may change its pools`);
    return applyChange(options, call.subject, async (disk) => {
      const { main, pool } = await plan(disk);
      const tenant = call.subject.tenant;
      let text = (await disk.text(file())) as string;
      text = main.oidc?.tenants[tenant]?.pools
        ? setMember(text, ['oidc', 'tenants', tenant, 'pools'], id, pool)
        : setMember(text, ['oidc', 'tenants', tenant], 'pools', { [id]: pool });
      return { files: new Map([[file(), text]]), audit: { resource: 'pool', action, id } };
    });
  };
  return [
    {
      method: 'GET',
      path: '/admin/pools',
      async handle(call) {
        const { pools } = await read(new Disk(), call.subject.tenant);
        const etags = Object.fromEntries(Object.entries(pools).map(([id, pool]) => [id, etagOf(pool)]));
        call.send(200, { pools: Object.entries(pools).map(([id, pool]) => ({ id, ...pool })), etags });
      },
    },
    { method: 'GET', path: '/admin/pools/{id}', handle: (call) => show(call, call.params.id as string, 200) },
    {
      method: 'POST',
      path: '/admin/pools',
      async handle(call) {
        const { id, ...pool } = checkedBody<{ id: string } & OidcPoolConfig>(CREATE, await call.body());
        await write(call, id, 'create', async (disk) => {
          const { main, pools } = await read(disk, call.subject.tenant);
          if (Object.hasOwn(pools, id)) throw new AdminError('ID_TAKEN', `pool "${id}" already exists`, ['/id']);
          return { main, pool };
        });
        await show(call, id, 201);
      },
    },
    {
      method: 'PUT',
      path: '/admin/pools/{id}',
      async handle(call) {
        const id = call.params.id as string;
        const pool = checkedBody<OidcPoolConfig>(POOL, await call.body());
        await write(call, id, 'edit', async (disk) => {
          const found = await find(disk, call.subject.tenant, id);
          checkIfMatch(call.req.headersDistinct['if-match'], etagOf(found.pool));
          return { main: found.main, pool };
        });
        await show(call, id, 200);
      },
    },
  ];
}
