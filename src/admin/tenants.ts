/**
 * Tenants in the main file: their display name and the operations they may call. An
 * operator sees and changes every tenant; a tenant admin only its own. The edit touches just the
 * members it changes (json-edit), so the hand-written layout of the main file stays.
 */
import { AdminError } from './admin-error.js';
import { appendItem, setMember } from './json-edit.js';
import type { MainConfig } from '../config/main-schema.js';
import { OPERATION_PATTERN, TENANT_PATTERN } from '../config-kit/patterns.js';
import { applyChange, checkIfMatch, Disk, etagOf, type ChangeOptions } from './config-change.js';
import { checkedBody } from './bodies.js';
import type { AdminCall, AdminRoute } from './routes.js';

const TENANT = new RegExp(TENANT_PATTERN);

interface TenantOnDisk {
  readonly path: (string | number)[];
  readonly record: { id: string; displayName?: string; allowedOperation: string[] };
}

function findTenant(main: MainConfig, id: string): TenantOnDisk | undefined {
  for (const [m, module] of (main.modules ?? []).entries()) {
    const t = (module.config?.tenant ?? []).findIndex((tenant) => tenant.id === id);
    if (t >= 0) return { path: ['modules', m, 'config', 'tenant', t], record: module.config.tenant[t] as TenantOnDisk['record'] };
  }
  return undefined;
}

function viewOf(record: TenantOnDisk['record']) {
  return { id: record.id, displayName: record.displayName ?? record.id, allowedOperation: record.allowedOperation };
}

async function onDisk(disk: Disk, file: string, id: string): Promise<TenantOnDisk> {
  const found = TENANT.test(id) ? findTenant((await disk.json(file)) as MainConfig, id) : undefined;
  if (!found) throw new AdminError('NOT_FOUND', `tenant "${id}" does not exist`);
  return found;
}

const EDIT = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    displayName: { type: 'string', minLength: 1, maxLength: 200 },
    allowedOperation: { type: 'array', uniqueItems: true, maxItems: 1000, items: { type: 'string', pattern: OPERATION_PATTERN } },
  },
} as const;

const CREATE = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: TENANT_PATTERN, maxLength: 64 }, ...EDIT.properties },
} as const;

/** The request bodies, for the OpenAPI document. */
export const TENANT_BODIES = { create: CREATE, edit: EDIT };

/** The issuer of the tenant's tokens: its OpenID door's, else the shared tokens.issuer. */
function issuerOf(options: ChangeOptions, id: string): string | undefined {
  const config = options.holder.current;
  return config.services.tokens?.settings.issuers?.get(id) ?? config.main.tokens?.issuer;
}

export function tenantRoutes(options: ChangeOptions): AdminRoute[] {
  const { holder } = options;
  const show = async (call: AdminCall, disk: Disk, id: string) => {
    const view = viewOf((await onDisk(disk, holder.current.file, id)).record);
    call.send(200, view, { etag: etagOf(view) });
  };
  return [
    {
      method: 'GET',
      path: '/admin/tenants',
      async handle(call) {
        // A tenant admin sees its own tenant only; an operator every tenant.
        const tenants = holder.current.main.modules
          .flatMap((m) => m.config.tenant.map(viewOf))
          .filter((t) => call.subject.role === 'operator' || t.id === call.subject.tenant);
        call.send(200, { tenants: tenants.map((t) => ({ ...t, own: t.id === call.subject.tenant, issuer: issuerOf(options, t.id) })) });
      },
    },
    {
      method: 'POST',
      path: '/admin/tenants',
      async handle(call) {
        if (call.subject.role !== 'operator') throw new AdminError('OPERATOR_ONLY', 'only an operator may create a tenant');
        const body = checkedBody<{ id: string; displayName?: string; allowedOperation?: string[] }>(CREATE, await call.body());
        const file = holder.current.file;
        const record = {
          id: body.id,
          ...(body.displayName ? { displayName: body.displayName } : {}),
          allowedOperation: body.allowedOperation ?? [],
        };
        await applyChange(options, call.subject, async (disk) => {
          const main = (await disk.json(file)) as MainConfig;
          if (findTenant(main, body.id)) throw new AdminError('ID_TAKEN', `tenant "${body.id}" already exists`, ['/id']);
          if ((main.modules ?? []).length === 0) throw new AdminError('NOT_CONFIGURED', 'the main file has no module to add a tenant to');
          let text = (await disk.text(file)) as string;
          text = appendItem(text, ['modules', 0, 'config', 'tenant'], record);
          // With an OpenID door, the tenant gets its own issuer at <public_url>/oidc/<tenant>.
          if (main.oidc?.tenants && !Object.hasOwn(main.oidc.tenants, body.id)) text = setMember(text, ['oidc', 'tenants'], body.id, {});
          return {
            files: new Map([[file, text]]),
            audit: { resource: 'tenant', action: 'create', id: body.id },
            tenants: [call.subject.tenant, body.id],
          };
        });
        const view = viewOf(record);
        call.send(201, { ...view, issuer: issuerOf(options, body.id) }, { etag: etagOf(view), location: `/admin/tenants/${body.id}` });
      },
    },
    {
      method: 'GET',
      path: '/admin/tenants/{id}',
      async handle(call) {
        const id = call.params.id as string;
        // Another tenant is answered as if it did not exist: a tenant admin learns no other tenant's name.
        if (id !== call.subject.tenant && call.subject.role !== 'operator')
          throw new AdminError('NOT_FOUND', `tenant "${id}" does not exist`);
        await show(call, new Disk(), id);
      },
    },
    {
      method: 'PATCH',
      path: '/admin/tenants/{id}',
      async handle(call) {
        const id = call.params.id as string;
        if (id !== call.subject.tenant && call.subject.role !== 'operator')
          throw new AdminError('OTHER_TENANT', `an admin of tenant "${call.subject.tenant}" may change only that tenant`);
        const body = checkedBody<{ displayName?: string; allowedOperation?: string[] }>(EDIT, await call.body());
        const file = holder.current.file;
        await applyChange(options, call.subject, async (disk) => {
          const found = await onDisk(disk, file, id);
          checkIfMatch(call.req.headersDistinct['if-match'], etagOf(viewOf(found.record)));
          let text = (await disk.text(file)) as string;
          for (const key of ['displayName', 'allowedOperation'] as const) {
            if (body[key] !== undefined) text = setMember(text, found.path, key, body[key]);
          }
          return { files: new Map([[file, text]]), audit: { resource: 'tenant', action: 'edit', id }, tenants: [id] };
        });
        await show(call, new Disk(), id);
      },
    },
  ];
}
