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
import { AdminError } from '../../admin/admin-error.js';
import { authenticateAdmin, type AdminSubject } from '../../admin/auth.js';
import { checkBody } from './body.js';
import { readBody } from '../../admin/read-body.js';
import type { DiskDocuments } from './documents.js';
import {
  allocateStores,
  createGroup,
  editGroup,
  setDefault,
  setStatus,
  type Actor,
  type CreateBody,
  type EditBody,
  type Plan,
  type StoresBody,
} from './operations.js';
import { defaultEtag, detailOf, groupEtag, ifMatchHolds, summaryOf, type AdminState } from './views.js';
import { writeChange, type AdminApiOptions } from './write.js';

export type { AdminApiOptions } from './write.js';

const ADMIN_PATH = '/admin/access-groups';
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
    throw new AdminError(
      'PRECONDITION_REQUIRED',
      'send If-Match with the ETag of your last GET, so that you cannot overwrite a change you have not seen (* is not accepted)',
      ['if-match'],
    );
  }
  return value;
}

function checkEtag(ifMatch: string, current: string): void {
  if (!ifMatchHolds(ifMatch, current))
    throw new AdminError('PRECONDITION_FAILED', 'the group changed since you read it; GET it again and reapply your change', ['if-match']);
}

/** Mounts the API on `app`; returns what it serves ("METHOD /admin/access-groups/{id}"). */
export function mountAccessGroupsAdmin(app: Express, options: AdminApiOptions): readonly string[] {
  const { holder, listenerId, clock } = options;
  const api = new AccessGroupsApi(options);
  // Authenticate first: before that, every path and method answers alike, so nobody learns
  // which admin paths and methods exist. /default is matched before /:id.
  const router = new AdminRouter(ADMIN_PATH, (req) => authenticateAdmin(req, holder.current, listenerId, clock.now()));
  router.add('/', { GET: api.list, POST: api.create });
  router.add('/default', { GET: api.getDefault, PUT: api.putDefault });
  router.add('/:id', { GET: api.getGroup, PATCH: api.edit });
  router.add('/:id/deactivate', { POST: api.setStatus('inactive') });
  router.add('/:id/activate', { POST: api.setStatus('active') });
  router.add('/:id/stores', { POST: api.allocate });
  router.mount(app, options.logger);
  return router.served;
}

/** One handler per operation; reads answer from the active config, writes go through write.ts. */
class AccessGroupsApi {
  constructor(private readonly options: AdminApiOptions) {}

  readonly list: AdminHandler = async (req, res, { tenant }) => {
    const query = new URL(req.originalUrl, 'http://admin').searchParams;
    for (const key of query.keys())
      if (key !== 'name') throw new AdminError('BAD_QUERY', `unknown query parameter "${key}"; only name is accepted`, [key]);
    const names = query.getAll('name');
    if (names.length > 1) throw new AdminError('BAD_QUERY', 'give name at most once', ['name']);
    const part = (names[0] ?? '').toLowerCase();
    const state = activeState(this.options.holder.current);
    const groups = state.groups.groups(tenant).filter((g) => g.name.toLowerCase().includes(part));
    sendJson(res, 200, { groups: groups.map((g) => summaryOf(state, tenant, g)), default: state.groups.defaultGroup(tenant)?.id ?? null });
  };

  readonly create: AdminHandler = async (req, res, subject) => {
    const body = checkBody<CreateBody>('create', await readBody(req));
    let id = '';
    await this.write(req, subject, (docs, actor) => {
      const plan = createGroup(docs, subject.tenant, body, actor);
      id = plan.groupId;
      return plan;
    });
    this.showGroup(res, 201, subject.tenant, id, { location: `${ADMIN_PATH}/${encodeURIComponent(id)}` });
  };

  readonly getDefault: AdminHandler = async (_req, res, { tenant }) => this.showDefault(res, tenant);

  readonly putDefault: AdminHandler = async (req, res, subject) => {
    const { tenant } = subject;
    const ifMatch = requireIfMatch(req);
    const body = checkBody<{ group: string | null }>('default', await readBody(req));
    await this.write(req, subject, (docs) => {
      checkEtag(ifMatch, defaultEtag(docs.state, tenant));
      return setDefault(docs, tenant, body.group);
    });
    this.showDefault(res, tenant);
  };

  readonly getGroup: AdminHandler = async (req, res, { tenant }) => this.showGroup(res, 200, tenant, idOf(req));

  readonly edit: AdminHandler = async (req, res, subject) => {
    const { tenant } = subject;
    const id = idOf(req);
    const ifMatch = requireIfMatch(req);
    const body = checkBody<EditBody>('edit', await readBody(req));
    await this.write(req, subject, (docs, actor) => {
      onGroup(docs, tenant, id, ifMatch, true);
      return editGroup(docs, tenant, id, body, actor);
    });
    this.showGroup(res, 200, tenant, id);
  };

  setStatus(status: 'active' | 'inactive'): AdminHandler {
    return async (req, res, subject) => {
      const id = idOf(req);
      const ifMatch = requireIfMatch(req);
      await readBody(req); // nothing to read; drained so the connection can be reused
      await this.write(req, subject, (docs, actor) => {
        onGroup(docs, subject.tenant, id, ifMatch, true);
        return setStatus(docs, subject.tenant, id, status, actor);
      });
      this.showGroup(res, 200, subject.tenant, id);
    };
  }

  readonly allocate: AdminHandler = async (req, res, subject) => {
    const id = idOf(req);
    const ifMatch = requireIfMatch(req);
    const body = checkBody<StoresBody>('stores', await readBody(req));
    await this.write(req, subject, (docs) => {
      onGroup(docs, subject.tenant, id, ifMatch, false);
      return allocateStores(docs, subject.tenant, id, body, {
        allowAdminStores: this.options.holder.current.main.admin_api.allow_admin_stores,
      });
    });
    this.showGroup(res, 200, subject.tenant, id);
  };

  private write(req: Request, subject: AdminSubject, plan: (docs: DiskDocuments, actor: Actor) => Plan | null): Promise<void> {
    return writeChange(this.options, req, subject, plan);
  }

  private showGroup(res: Response, status: number, tenant: string, id: string, extra: Record<string, string> = {}): void {
    const state = activeState(this.options.holder.current);
    const detail = detailOf(state, tenant, found(state, tenant, id));
    sendJson(res, status, detail, { etag: groupEtag(detail), ...extra });
  }

  private showDefault(res: Response, tenant: string): void {
    const state = activeState(this.options.holder.current);
    sendJson(res, 200, { group: state.groups.defaultGroup(tenant)?.id ?? null }, { etag: defaultEtag(state, tenant) });
  }
}

/** The precondition of a write on group `id`, checked against the files on disk. */
function onGroup(docs: DiskDocuments, tenant: string, id: string, ifMatch: string, editsRecord: boolean): AccessGroup {
  const group = found(docs.state, tenant, id);
  if (editsRecord && group.builtIn)
    throw new AdminError(
      'BUILT_IN_READ_ONLY',
      `"${id}" is a built-in group; built-in groups cannot be edited, deactivated or activated (create a custom group instead)`,
    );
  checkEtag(ifMatch, groupEtag(detailOf(docs.state, tenant, group)));
  return group;
}

/** The group id of the path, percent-decoded by express. */
function idOf(req: Request): string {
  return req.params.id as string;
}
