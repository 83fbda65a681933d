/**
 * Pipes, one file each: shared pipes in the pipes folder are the operator's; a tenant's own
 * pipes in pipes/<tenant>/ are its admins', and its calls run its own pipe of an id before
 * a shared one. Every route acts in the tenant of the `tenant` header: it lists and shows
 * what that tenant runs, and writes where a save belongs (a tenant admin's writes to a
 * shared pipe are 403 OPERATOR_ONLY; creating its own pipe of that id overrides it for the
 * tenant alone). The id is the file name, so only ids the operation pattern allows ever
 * reach a path (no "..", no "/"). A write is loaded with the whole config before it is
 * made, so a pipe with an unknown valve, a bad template or a pipe-call cycle is refused
 * (422 with file and pointer), and deleting a pipe a tenant allows or another pipe calls is
 * refused (409 PIPE_IN_USE). A change to a shared pipe is audited in every tenant that runs it.
 */
import { resolve } from 'node:path';
import { AdminError } from './admin-error.js';
import type { LoadedConfig } from '../config/load.js';
import { OPERATION_PATTERN } from '../config-kit/patterns.js';
import { applyChange, checkIfMatch, Disk, etagOf, type ChangeOptions } from './config-change.js';
import { formatJson as formatPipe } from './format-json.js';
import { operatorHome, type AdminSubject } from './auth.js';
import type { CompiledPipe } from '../engine/pipe.js';
import { queryOf, type AdminCall, type AdminRoute } from './routes.js';

const PIPE_ID = new RegExp(OPERATION_PATTERN);

/** Who a pipe file belongs to: the operator (shared, pipes/) or one tenant (pipes/<tenant>/). */
type Owner = { shared: true } | { shared: false; tenant: string };

function pipePath(config: LoadedConfig, owner: Owner, id: string): string {
  if (!PIPE_ID.test(id)) throw new AdminError('NOT_FOUND', `pipe "${id}" does not exist (pipe ids are ${OPERATION_PATTERN})`);
  const dir = resolve(config.dir, config.main.pipes);
  return owner.shared ? resolve(dir, `${id}.json`) : resolve(dir, owner.tenant, `${id}.json`);
}

const ownerName = (owner: Owner) => (owner.shared ? 'shared' : owner.tenant);

/** The pipe the tenant's calls run under this id: its own, else the shared one, else none. */
async function effective(disk: Disk, config: LoadedConfig, tenant: string, id: string): Promise<{ owner: Owner; path: string } | null> {
  for (const owner of [{ shared: false, tenant }, { shared: true }] as Owner[]) {
    const path = pipePath(config, owner, id);
    if ((await disk.text(path)) !== null) return { owner, path };
  }
  return null;
}

/** Shared pipes are the operator's: a tenant admin gets a coded 403 that names no other tenant. */
function mayWrite(config: LoadedConfig, subject: AdminSubject, owner: Owner): void {
  if (subject.role === 'operator') return;
  if (owner.shared)
    throw new AdminError(
      'OPERATOR_ONLY',
      'this pipe is shared by every tenant and only an operator may change it; create your own pipe of this id (POST /admin/pipes) to change it for your tenant',
    );
  if (operatorHome(config, subject.tenant))
    throw new AdminError('OPERATOR_ONLY', "an operator signs in through this tenant, so only an operator may change this tenant's pipes");
}

/** The tenants whose calls run the shared pipe `id` (those without their own of that id). */
function tenantsRunning(config: LoadedConfig, id: string): string[] {
  const tenants = new Set<string>();
  for (const listener of config.listeners)
    for (const t of listener.tenants.values()) if (t.allowedOperations.has(id) && !config.tenantPipes.get(t.id)?.has(id)) tenants.add(t.id);
  for (const [tenant, section] of Object.entries(config.main.oidc?.tenants ?? {}))
    for (const pool of Object.values(section.pools ?? {}))
      for (const step of pool.steps)
        if ((step.operation === id || step.start === id) && !config.tenantPipes.get(tenant)?.has(id)) tenants.add(tenant);
  return [...tenants].sort();
}

interface RawPipe {
  id?: unknown;
  description?: unknown;
  valves?: { name?: unknown; config?: { pipe?: unknown } }[];
}

function callsOf(pipe: RawPipe): string[] {
  return (Array.isArray(pipe.valves) ? pipe.valves : [])
    .filter((v) => v?.name === 'pipe-call' && typeof v.config?.pipe === 'string')
    .map((v) => v.config?.pipe as string);
}

/** The pipe file's text, with the schema reference its folder needs for editor support. */
function formatJson(pipe: Record<string, unknown>, owner: Owner): string {
  const schema = owner.shared ? '../schemas/pipe.schema.json' : '../../schemas/pipe.schema.json';
  return formatPipe({ ...pipe, $schema: pipe.$schema === SHARED_SCHEMA || pipe.$schema === TENANT_SCHEMA ? schema : pipe.$schema });
}

const SHARED_SCHEMA = '../schemas/pipe.schema.json';
const TENANT_SCHEMA = '../../schemas/pipe.schema.json';

function pipeBody(body: unknown): Record<string, unknown> {
  if (body === undefined) throw new AdminError('BAD_BODY', 'send the pipe as a JSON object');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AdminError('BAD_BODY', 'the pipe must be a JSON object');
  // Keep editor support in the file: the schema reference every shipped pipe carries.
  const { $schema, ...rest } = body as Record<string, unknown>;
  return { $schema: typeof $schema === 'string' ? $schema : SHARED_SCHEMA, ...rest };
}

export function pipeRoutes(options: ChangeOptions): AdminRoute[] {
  const { holder } = options;

  const show = async (call: AdminCall, status: number, id: string, extra: Record<string, string> = {}) => {
    const disk = new Disk();
    const found = await effective(disk, holder.current, call.subject.tenant, id);
    if (!found) throw new AdminError('NOT_FOUND', `pipe "${id}" does not exist`);
    const text = (await disk.text(found.path)) as string;
    const editable = call.subject.role === 'operator' || (!found.owner.shared && !operatorHome(holder.current, call.subject.tenant));
    call.send(status, JSON.parse(text), {
      etag: etagOf(text),
      'x-pipe-owner': ownerName(found.owner),
      'x-pipe-editable': String(editable),
      ...extra,
    });
  };

  /** The pipe a write of `id` changes, checked against If-Match and the caller's role. */
  const current = async (disk: Disk, call: AdminCall, id: string): Promise<{ owner: Owner; path: string }> => {
    const found = await effective(disk, holder.current, call.subject.tenant, id);
    if (!found) throw new AdminError('NOT_FOUND', `pipe "${id}" does not exist`);
    mayWrite(holder.current, call.subject, found.owner);
    checkIfMatch(call.req.headersDistinct['if-match'], etagOf((await disk.text(found.path)) as string));
    return found;
  };

  const audited = (owner: Owner, action: string, id: string) => ({
    audit: { resource: 'pipe', action, id, owner: ownerName(owner) },
    ...(owner.shared ? { tenants: tenantsRunning(holder.current, id) } : {}),
  });

  return [
    {
      method: 'GET',
      path: '/admin/pipes',
      async handle(call) {
        const config = holder.current;
        const tenant = call.subject.tenant;
        const own = config.tenantPipes.get(tenant) ?? new Map();
        const disk = new Disk();
        const pipes = [];
        for (const [owner, pipe] of [
          ...[...own.values()].map((p) => [{ shared: false, tenant }, p] as const),
          ...[...config.pipes.values()].filter((p) => !own.has(p.id)).map((p) => [{ shared: true }, p] as const),
        ] as [Owner, CompiledPipe][]) {
          const raw = ((await disk.text(pipePath(config, owner, pipe.id))) ?? '{}') as string;
          const allowed = config.listeners.some((l) => l.tenants.get(tenant)?.allowedOperations.has(pipe.id));
          pipes.push({
            id: pipe.id,
            description: pipe.description,
            valves: pipe.steps.length,
            owner: ownerName(owner),
            editable: call.subject.role === 'operator' || (!owner.shared && !operatorHome(config, tenant)),
            // A tenant admin sees whether its own tenant runs the pipe; an operator, every tenant that does.
            usedBy: call.subject.role === 'operator' && owner.shared ? tenantsRunning(config, pipe.id) : allowed ? [tenant] : [],
            calls: callsOf(JSON.parse(raw) as RawPipe),
          });
        }
        call.send(200, { pipes: pipes.sort((a, b) => a.id.localeCompare(b.id)) });
      },
    },
    { method: 'GET', path: '/admin/pipes/{id}', handle: (call) => show(call, 200, call.params.id as string) },
    {
      method: 'POST',
      path: '/admin/pipes',
      async handle(call) {
        const { owner: wanted } = queryOf(call, ['owner']);
        if (wanted !== undefined && wanted !== 'shared' && wanted !== 'tenant')
          throw new AdminError('BAD_QUERY', 'owner is "tenant" (your tenant\'s own pipe) or "shared" (operators only)', ['owner']);
        const shared = wanted === undefined ? call.subject.role === 'operator' : wanted === 'shared';
        const owner: Owner = shared ? { shared: true } : { shared: false, tenant: call.subject.tenant };
        mayWrite(holder.current, call.subject, owner);
        const pipe = pipeBody(await call.body());
        if (typeof pipe.id !== 'string' || !PIPE_ID.test(pipe.id))
          throw new AdminError('BAD_BODY', `the pipe needs an "id" matching ${OPERATION_PATTERN}`, ['/id']);
        const id = pipe.id;
        await applyChange(options, call.subject, async (disk) => {
          const path = pipePath(holder.current, owner, id);
          if ((await disk.text(path)) !== null)
            throw new AdminError('ID_TAKEN', `pipe "${id}" already exists; replace it with PUT /admin/pipes/${id}`, ['/id']);
          return { files: new Map([[path, formatJson(pipe, owner)]]), ...audited(owner, 'create', id) };
        });
        await show(call, 201, id, { location: `/admin/pipes/${id}` });
      },
    },
    {
      method: 'PUT',
      path: '/admin/pipes/{id}',
      async handle(call) {
        const id = call.params.id as string;
        pipePath(holder.current, { shared: true }, id);
        const pipe = pipeBody(await call.body());
        await applyChange(options, call.subject, async (disk) => {
          const { owner, path } = await current(disk, call, id);
          return { files: new Map([[path, formatJson(pipe, owner)]]), ...audited(owner, 'replace', id) };
        });
        await show(call, 200, id);
      },
    },
    {
      // The editor's check as the admin types: the pipe loaded with the whole config, nothing written.
      method: 'POST',
      path: '/admin/pipes/{id}/validate',
      async handle(call) {
        const id = call.params.id as string;
        pipePath(holder.current, { shared: true }, id);
        const found = await effective(new Disk(), holder.current, call.subject.tenant, id);
        // Where a save would write: the pipe itself, or for a tenant admin over a shared pipe, its own new one.
        const owner: Owner =
          found && (!found.owner.shared || call.subject.role === 'operator') ? found.owner : { shared: false, tenant: call.subject.tenant };
        const pipe = pipeBody(await call.body());
        call.send(200, { issues: options.check(new Map([[pipePath(holder.current, owner, id), formatJson(pipe, owner)]])) });
      },
    },
    {
      method: 'DELETE',
      path: '/admin/pipes/{id}',
      async handle(call) {
        const id = call.params.id as string;
        await applyChange(options, call.subject, async (disk) => {
          const { owner, path } = await current(disk, call, id);
          return { files: new Map([[path, null]]), ...audited(owner, 'delete', id), refusal: 'PIPE_IN_USE' };
        });
        call.res.statusCode = 204;
        call.res.end();
      },
    },
  ];
}
