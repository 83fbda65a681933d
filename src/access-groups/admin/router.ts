/**
 * The access-groups admin API, under /admin/access-groups, for subjects of the built-in
 * Admin group (auth.ts), on an express.Router (admin/express-routes.ts). Reads show the
 * active config. Writes check If-Match against the ETag of what is on disk (412 on
 * mismatch, 428 when absent: a blind write could undo another admin's change) and go
 * through write.ts (lock, re-read, apply the rule of operations.ts, write, reload).
 *
 *   GET    /admin/access-groups[?name=part]       list, or search by name (ignoring case)
 *   POST   /admin/access-groups                   create a custom group        -> 201
 *   GET    /admin/access-groups/default           the tenant's default group
 *   PUT    /admin/access-groups/default           {"group": id | null}         If-Match
 *   GET    /admin/access-groups/:id               one group, with its stores and ETag
 *   PATCH  /admin/access-groups/:id               name, description, permissions  If-Match
 *   POST   /admin/access-groups/:id/deactivate    refused while stores are allocated  If-Match
 *   POST   /admin/access-groups/:id/activate                                   If-Match
 *   POST   /admin/access-groups/:id/stores        {"add": [...], "remove": [...]}  If-Match
 */
import type { Express, Request, Response } from 'express';
import { AdminRouter, type AdminHandler } from '../../admin/express-routes.js';
import type { LoadedConfig } from '../../config/load.js';
import { sendJson } from '../../http/respond.js';
import type { AccessGroup } from '../groups.js';
import { GROUP_ID_PATTERN } from '../schema.js';
import { AdminError } from './admin-error.js';
import { authenticateAdmin, type AdminSubject } from './auth.js';
import { checkBody, readBody } from './body.js';
import type { DiskDocuments } from './documents.js';
import { allocateStores, createGroup, editGroup, setDefault, setStatus, type Actor, type CreateBody, type EditBody, type Plan, type StoresBody } from './operations.js';
import { defaultEtag, detailOf, groupEtag, ifMatchHolds, summaryOf, type AdminState } from './views.js';
import { writeChange, type AdminApiOptions } from './write.js';

export type { AdminApiOptions } from './write.js';

export const ADMIN_PATH = '/admin/access-groups';
const GROUP_ID = new RegExp(GROUP_ID_PATTERN);

function activeState(config: LoadedConfig): AdminState {
  const { accessGroups, directory } = config.services;
  if (!accessGroups) throw new AdminError('NOT_CONFIGURED', 'access groups are not loaded');
  return { groups: accessGroups, stores: (tenant) => directory.stores(tenant) };
}

function found(state: AdminState, tenant: string, id: string): AccessGroup {
  const group = GROUP_ID.test(id) ? state.groups.group(tenant, id) : undefined;
  if (!group) throw new AdminError('NOT_FOUND', `group "${id}" does not exist in tenant "${tenant}"`);
  return group;
}

function requireIfMatch(req: Request): string {
  const values = req.headersDistinct['if-match'];
  const value = values?.join(', ').trim() ?? '';
  if (value === '' || value === '*') {
    throw new AdminError('PRECONDITION_REQUIRED', 'send If-Match with the ETag of your last GET, so that you cannot overwrite a change you have not seen (* is not accepted)', ['if-match']);
  }
  return value;
}

function checkEtag(ifMatch: string, current: string): void {
  if (!ifMatchHolds(ifMatch, current)) throw new AdminError('PRECONDITION_FAILED', 'the group changed since you read it; GET it again and reapply your change', ['if-match']);
}

/** Mounts the API on `app`; returns what it serves ("METHOD /admin/access-groups/{id}"). */
export function mountAccessGroupsAdmin(app: Express, options: AdminApiOptions): readonly string[] {
  const { holder, listenerId, logger, clock } = options;
  const send = (res: Response, status: number, body: unknown, headers?: Record<string, string>) => sendJson(res, status, body, headers);

  /** Lock, read from disk, plan, write, reload; the answer is built from the config now active. */
  const write = (req: Request, subject: AdminSubject, plan: (docs: DiskDocuments, actor: Actor) => Plan | null): Promise<void> => writeChange(options, req, subject, plan);

  const showGroup = (res: Response, status: number, tenant: string, id: string, extra: Record<string, string> = {}) => {
    const state = activeState(holder.current);
    const detail = detailOf(state, tenant, found(state, tenant, id));
    send(res, status, detail, { etag: groupEtag(detail), ...extra });
  };

  const showDefault = (res: Response, tenant: string) => {
    const state = activeState(holder.current);
    send(res, 200, { group: state.groups.defaultGroup(tenant)?.id ?? null }, { etag: defaultEtag(state, tenant) });
  };

  /** The precondition of a write on group `id`, checked against the files on disk. */
  const onGroup = (docs: DiskDocuments, tenant: string, id: string, ifMatch: string, editsRecord: boolean): AccessGroup => {
    const group = found(docs.state, tenant, id);
    if (editsRecord && group.builtIn) throw new AdminError('BUILT_IN_READ_ONLY', `"${id}" is a built-in group; built-in groups cannot be edited, deactivated or activated (create a custom group instead)`);
    checkEtag(ifMatch, groupEtag(detailOf(docs.state, tenant, group)));
    return group;
  };

  const list: AdminHandler = async (req, res, { tenant }) => {
    const query = new URL(req.originalUrl, 'http://admin').searchParams;
    for (const key of query.keys()) if (key !== 'name') throw new AdminError('BAD_QUERY', `unknown query parameter "${key}"; only name is accepted`, [key]);
    const names = query.getAll('name');
    if (names.length > 1) throw new AdminError('BAD_QUERY', 'give name at most once', ['name']);
    const part = (names[0] ?? '').toLowerCase();
    const state = activeState(holder.current);
    const groups = state.groups.groups(tenant).filter((g) => g.name.toLowerCase().includes(part));
    send(res, 200, { groups: groups.map((g) => summaryOf(state, tenant, g)), default: state.groups.defaultGroup(tenant)?.id ?? null });
  };

  const create: AdminHandler = async (req, res, subject) => {
    const body = checkBody<CreateBody>('create', await readBody(req));
    let id = '';
    await write(req, subject, (docs, actor) => {
      const plan = createGroup(docs, subject.tenant, body, actor);
      id = plan.groupId;
      return plan;
    });
    showGroup(res, 201, subject.tenant, id, { location: `${ADMIN_PATH}/${encodeURIComponent(id)}` });
  };

  const getDefault: AdminHandler = async (_req, res, { tenant }) => showDefault(res, tenant);

  const putDefault: AdminHandler = async (req, res, subject) => {
    const { tenant } = subject;
    const ifMatch = requireIfMatch(req);
    const body = checkBody<{ group: string | null }>('default', await readBody(req));
    await write(req, subject, (docs) => {
      checkEtag(ifMatch, defaultEtag(docs.state, tenant));
      return setDefault(docs, tenant, body.group);
    });
    showDefault(res, tenant);
  };

  const getGroup: AdminHandler = async (req, res, { tenant }) => showGroup(res, 200, tenant, idOf(req));

  const editOne: AdminHandler = async (req, res, subject) => {
    const { tenant } = subject;
    const id = idOf(req);
    const ifMatch = requireIfMatch(req);
    const body = checkBody<EditBody>('edit', await readBody(req));
    await write(req, subject, (docs, actor) => {
      onGroup(docs, tenant, id, ifMatch, true);
      return editGroup(docs, tenant, id, body, actor);
    });
    showGroup(res, 200, tenant, id);
  };

  const setStatusTo =
    (status: 'active' | 'inactive'): AdminHandler =>
    async (req, res, subject) => {
      const id = idOf(req);
      const ifMatch = requireIfMatch(req);
      await readBody(req); // nothing to read; drained so the connection can be reused
      await write(req, subject, (docs, actor) => {
        onGroup(docs, subject.tenant, id, ifMatch, true);
        return setStatus(docs, subject.tenant, id, status, actor);
      });
      showGroup(res, 200, subject.tenant, id);
    };

  const allocate: AdminHandler = async (req, res, subject) => {
    const id = idOf(req);
    const ifMatch = requireIfMatch(req);
    const body = checkBody<StoresBody>('stores', await readBody(req));
    await write(req, subject, (docs) => {
      onGroup(docs, subject.tenant, id, ifMatch, false);
      return allocateStores(docs, subject.tenant, id, body, { allowAdminStores: holder.current.main.admin_api.allow_admin_stores });
    });
    showGroup(res, 200, subject.tenant, id);
  };

  // Authenticate first: before that, every path and method answers alike, so nobody learns
  // which admin paths and methods exist. /default is matched before /:id.
  const router = new AdminRouter(ADMIN_PATH, (req) => authenticateAdmin(req, holder.current, listenerId, clock.now()));
  router.add('/', { GET: list, POST: create });
  router.add('/default', { GET: getDefault, PUT: putDefault });
  router.add('/:id', { GET: getGroup, PATCH: editOne });
  router.add('/:id/deactivate', { POST: setStatusTo('inactive') });
  router.add('/:id/activate', { POST: setStatusTo('active') });
  router.add('/:id/stores', { POST: allocate });
  router.mount(app, logger);
  return router.served;
}

/** The group id of the path, percent-decoded by express. */
function idOf(req: Request): string {
  return req.params.id as string;
}
