/**
 * Pipes, one file each in the pipes folder: read, create, replace, delete. The id is the
 * file name, so only ids the operation pattern allows ever reach a path (no "..", no "/",
 * no look-alike letters). A write is loaded with the whole config before it is made, so a
 * pipe with an unknown valve, a bad template or a pipe-call cycle is refused (422 with
 * file and pointer), and deleting a pipe a tenant allows or another pipe calls is refused
 * (409 PIPE_IN_USE, with the references as issues).
 */
import { resolve } from 'node:path';
import { AdminError } from '../access-groups/admin/admin-error.js';
import type { LoadedConfig } from '../config/load.js';
import { OPERATION_PATTERN } from '../config-kit/patterns.js';
import { applyChange, checkIfMatch, Disk, etagOf, type ChangeOptions } from './config-change.js';
import { formatJson } from './format-json.js';
import type { AdminCall, AdminRoute } from './routes.js';

const PIPE_ID = new RegExp(OPERATION_PATTERN);

function pipePath(config: LoadedConfig, id: string): string {
  if (!PIPE_ID.test(id)) throw new AdminError('NOT_FOUND', `pipe "${id}" does not exist (pipe ids are ${OPERATION_PATTERN})`);
  return resolve(config.dir, config.main.pipes, `${id}.json`);
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

function pipeBody(body: unknown): Record<string, unknown> {
  if (body === undefined) throw new AdminError('BAD_BODY', 'send the pipe as a JSON object');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AdminError('BAD_BODY', 'the pipe must be a JSON object');
  // Keep editor support in the file: the schema reference every shipped pipe carries.
  const { $schema, ...rest } = body as Record<string, unknown>;
  return { $schema: typeof $schema === 'string' ? $schema : '../schemas/pipe.schema.json', ...rest };
}

export function pipeRoutes(options: ChangeOptions): AdminRoute[] {
  const { holder } = options;

  const show = async (call: AdminCall, status: number, id: string, extra: Record<string, string> = {}) => {
    const text = await new Disk().text(pipePath(holder.current, id));
    if (text === null) throw new AdminError('NOT_FOUND', `pipe "${id}" does not exist`);
    call.send(status, JSON.parse(text), { etag: etagOf(text), ...extra });
  };

  const current = async (disk: Disk, call: AdminCall, id: string): Promise<string> => {
    const path = pipePath(holder.current, id);
    const text = await disk.text(path);
    if (text === null) throw new AdminError('NOT_FOUND', `pipe "${id}" does not exist`);
    checkIfMatch(call.req.headersDistinct['if-match'], etagOf(text));
    return path;
  };

  return [
    {
      method: 'GET',
      path: '/admin/pipes',
      async handle(call) {
        const config = holder.current;
        const disk = new Disk();
        const pipes = [];
        for (const pipe of config.pipes.values()) {
          const raw = ((await disk.text(pipePath(config, pipe.id))) ?? '{}') as string;
          const usedBy = config.listeners.flatMap((l) =>
            [...l.tenants.values()].filter((t) => t.allowedOperations.has(pipe.id)).map((t) => t.id),
          );
          pipes.push({
            id: pipe.id,
            description: pipe.description,
            valves: pipe.steps.length,
            usedBy,
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
        const pipe = pipeBody(await call.body());
        if (typeof pipe.id !== 'string' || !PIPE_ID.test(pipe.id))
          throw new AdminError('BAD_BODY', `the pipe needs an "id" matching ${OPERATION_PATTERN}`, ['/id']);
        const id = pipe.id;
        await applyChange(options, call.subject, async (disk) => {
          const path = pipePath(holder.current, id);
          if ((await disk.text(path)) !== null)
            throw new AdminError('ID_TAKEN', `pipe "${id}" already exists; replace it with PUT /admin/pipes/${id}`, ['/id']);
          return { files: new Map([[path, formatJson(pipe)]]), audit: { resource: 'pipe', action: 'create', id } };
        });
        await show(call, 201, id, { location: `/admin/pipes/${id}` });
      },
    },
    {
      method: 'PUT',
      path: '/admin/pipes/{id}',
      async handle(call) {
        const id = call.params.id as string;
        pipePath(holder.current, id);
        const pipe = pipeBody(await call.body());
        await applyChange(options, call.subject, async (disk) => {
          const path = await current(disk, call, id);
          return { files: new Map([[path, formatJson(pipe)]]), audit: { resource: 'pipe', action: 'replace', id } };
        });
        await show(call, 200, id);
      },
    },
    {
      // The editor's check as the admin types: the pipe loaded with the whole config, nothing written.
      method: 'POST',
      path: '/admin/pipes/{id}/validate',
      async handle(call) {
        const path = pipePath(holder.current, call.params.id as string);
        const pipe = pipeBody(await call.body());
        call.send(200, { issues: options.check(new Map([[path, formatJson(pipe)]])) });
      },
    },
    {
      method: 'DELETE',
      path: '/admin/pipes/{id}',
      async handle(call) {
        const id = call.params.id as string;
        await applyChange(options, call.subject, async (disk) => {
          const path = await current(disk, call, id);
          return { files: new Map([[path, null]]), audit: { resource: 'pipe', action: 'delete', id }, refusal: 'PIPE_IN_USE' };
        });
        call.res.statusCode = 204;
        call.res.end();
      },
    },
  ];
}
