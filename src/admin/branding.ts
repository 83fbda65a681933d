/**
 * A tenant's own branding (`oidc.tenants.<tenant>.branding` of the main file): the look of its
 * hosted login wherever a pool does not set its own (pools are branded through /admin/pools).
 * The tenant is the header's, or `?tenant=` for an operator acting on another; a tenant admin
 * naming another tenant is refused before anything is read. The body is checked against the
 * loader's own schema, then the whole config loads with it, so an off-site logo or stylesheet is
 * a 422 at its pointer and nothing is written.
 */
import { AdminError } from './admin-error.js';
import { operatorHome } from './auth.js';
import { checkedBody } from './bodies.js';
import { applyChange, checkIfMatch, Disk, etagOf, type ChangeOptions } from './config-change.js';
import { setMember } from './json-edit.js';
import { queryOf, type AdminCall, type AdminRoute } from './routes.js';
import type { MainConfig } from '../config/main-schema.js';
import { TENANT_PATTERN } from '../config-kit/patterns.js';
import { oidcSchema, type BrandingConfig } from '../oidc/schema.js';

/** The loader's schema of a tenant's branding: the API takes exactly what the file may hold. */
export const BRANDING = oidcSchema.properties.tenants.additionalProperties.properties.branding;
const TENANT = new RegExp(TENANT_PATTERN);

/** The tenant the call acts on: the header's, or ?tenant= (another one is an operator's). */
function tenantOf(call: AdminCall): string {
  const named = queryOf(call, ['tenant']).tenant ?? call.subject.tenant;
  if (named !== call.subject.tenant && call.subject.role !== 'operator')
    throw new AdminError('OTHER_TENANT', `an admin of tenant "${call.subject.tenant}" may see and change only that tenant's branding`, [
      'tenant',
    ]);
  if (!TENANT.test(named)) throw new AdminError('BAD_QUERY', `"${named}" is not a tenant id`, ['tenant']);
  return named;
}

export function brandingRoutes(options: ChangeOptions): AdminRoute[] {
  const { holder } = options;
  const file = () => holder.current.file;
  const read = async (disk: Disk, tenant: string): Promise<BrandingConfig> => {
    const main = (await disk.json(file())) as MainConfig;
    const door = main.oidc?.tenants[tenant];
    if (!door) throw new AdminError('NOT_CONFIGURED', `tenant "${tenant}" has no OpenID door (oidc.tenants.${tenant} of the main file)`);
    return door.branding ?? {};
  };
  const show = async (call: AdminCall, tenant: string) => {
    const branding = await read(new Disk(), tenant);
    call.send(200, branding, { etag: etagOf(branding) });
  };
  return [
    {
      method: 'GET',
      path: '/admin/branding',
      handle: (call) => show(call, tenantOf(call)),
    },
    {
      method: 'PUT',
      path: '/admin/branding',
      async handle(call) {
        const tenant = tenantOf(call);
        // The console signs in through the operator's home tenant: its look (a stylesheet can restyle the form) is the operator's.
        if (call.subject.role !== 'operator' && operatorHome(holder.current, tenant))
          throw new AdminError('OPERATOR_ONLY', `tenant "${tenant}" is an operator's home: only an operator may change its branding`);
        const branding = checkedBody<BrandingConfig>(BRANDING, await call.body());
        // {} resets the tenant to the default look: the member goes, rather than stay as an empty object.
        const empty = Object.keys(branding).length === 0;
        await applyChange(options, call.subject, async (disk) => {
          checkIfMatch(call.req.headersDistinct['if-match'], etagOf(await read(disk, tenant)));
          const text = setMember(
            (await disk.text(file())) as string,
            ['oidc', 'tenants', tenant],
            'branding',
            empty ? undefined : branding,
          );
          return { files: new Map([[file(), text]]), audit: { resource: 'branding', action: 'edit', id: tenant }, tenants: [tenant] };
        });
        await show(call, tenant);
      },
    },
  ];
}
