/**
 * The access-groups admin API, under /admin/access-groups, for subjects of the built-in
 * Admin group (auth.ts). Reads show the active config. Writes hold the lock, re-read the
 * files on disk, check If-Match against the ETag of what is on disk (412 on mismatch, 428
 * when absent: a blind write could undo another admin's change), apply the rule
 * (operations.ts), write one file atomically, and reload the config so the change is in
 * effect before the answer, on every worker and every engine sharing the store
 * (`propagate`); if the config with the change does not load, the file is put back and the
 * answer is 500.
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
import type { Logger } from 'pino';
import type { ConfigHolder } from '../../config/holder.js';
import { formatIssue, type ConfigIssue } from '../../config-kit/issues.js';
import type { LoadedConfig } from '../../config/load.js';
import type { Clock } from '../../engine/clock.js';
import { clientAllowed } from '../../http/client-access.js';
import { sendJson } from '../../http/respond.js';
import type { AccessGroup } from '../groups.js';
import { accessGroupFiles, configuredTenants } from '../load.js';
import { GROUP_ID_PATTERN } from '../schema.js';
import { AdminError } from './admin-error.js';
import { propagated } from '../../admin/config-change.js';
import { authenticateAdmin, type AdminSubject } from './auth.js';
import { checkBody, readBody } from './body.js';
import { readDocuments, type DiskDocuments } from './documents.js';
import { allocateStores, createGroup, editGroup, setDefault, setStatus, type Actor, type CreateBody, type EditBody, type Plan, type StoresBody } from './operations.js';
import { LockBusy, withLock, writeFileAtomic } from './persist.js';
import { defaultEtag, detailOf, groupEtag, ifMatchHolds, summaryOf, type AdminState } from './views.js';

export const ADMIN_PATH = '/admin/access-groups';
const GROUP_ID = new RegExp(GROUP_ID_PATTERN);

export interface AdminApiOptions {
  holder: ConfigHolder;
  listenerId: string;
  logger: Logger;
  clock: Clock;
  reload(): { ok: true; version: string } | { ok: false; issues: readonly ConfigIssue[] };
  /** Resolves once every worker and every engine on the store serves `version`; rejects saying who does not. */
  propagate(version: string): Promise<void>;
}

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

type Route = { methods: string; handle: (req: Request, res: Response, subject: AdminSubject) => Promise<void> };

export function mountAccessGroupsAdmin(app: Express, options: AdminApiOptions): void {
  const { holder, listenerId, logger, clock } = options;

  const send = (res: Response, status: number, body: unknown, headers?: Record<string, string>) => sendJson(res, status, body, headers);

  /** Lock, read from disk, plan, write, reload; the answer is built from the config now active. */
  const write = async (req: Request, subject: AdminSubject, plan: (docs: DiskDocuments, actor: Actor) => Plan | null): Promise<void> => {
    const config = holder.current;
    const files = accessGroupFiles(config.main, config.dir);
    if (files.groups === null) throw new AdminError('NOT_CONFIGURED', 'the main config file names no access_groups file; add "access_groups": "access-groups.json" to it');
    try {
      await withLock(`${files.groups}.lock`, async () => {
        const docs = await readDocuments(files, configuredTenants(config.main));
        const step = plan(docs, { sub: subject.sub, now: new Date(clock.now()).toISOString() });
        if (step === null) return;
        const path = step.file === 'groups' ? docs.groupsPath : (docs.directoryPath as string);
        const previous = step.file === 'groups' ? docs.groupsText : (docs.directoryText as string);
        await writeFileAtomic(path, step.text);
        const reloaded = options.reload();
        if (!reloaded.ok) {
          await writeFileAtomic(path, previous);
          options.reload();
          // The issues name other files, pointers and env names: only readyz.clients see them (as on /readyz).
          const config = holder.current;
          const detailed = clientAllowed(req, config, listenerId, 'readyz', config.main.readyz.clients);
          const why = detailed ? reloaded.issues.map(formatIssue).join('; ') : `${reloaded.issues.length} problem(s), in the server log`;
          const error = new AdminError('RELOAD_FAILED', `the change was not applied: the config with it does not load: ${why}`);
          error.detail = reloaded.issues.map(formatIssue).join('; ');
          throw error;
        }
        logger.info({ tenant: subject.tenant, admin: subject.sub, file: path, group: step.groupId, version: reloaded.version }, 'access groups changed');
        holder.current.services.audit?.event('admin.access_groups_changed', { subject: subject.sub, tenant: subject.tenant, group: step.groupId, version: reloaded.version });
        await propagated(options.propagate, reloaded.version);
      });
    } catch (err) {
      if (err instanceof LockBusy) throw new AdminError('BUSY', 'another change is being written; retry in a moment', [], { 'retry-after': '1' });
      throw err;
    }
  };

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

  const collection: Route = {
    methods: 'GET, POST',
    async handle(req, res, subject) {
      const { tenant } = subject;
      if (req.method === 'GET') {
        const query = new URL(req.originalUrl, 'http://admin').searchParams;
        for (const key of query.keys()) if (key !== 'name') throw new AdminError('BAD_QUERY', `unknown query parameter "${key}"; only name is accepted`, [key]);
        const names = query.getAll('name');
        if (names.length > 1) throw new AdminError('BAD_QUERY', 'give name at most once', ['name']);
        const part = (names[0] ?? '').toLowerCase();
        const state = activeState(holder.current);
        const groups = state.groups.groups(tenant).filter((g) => g.name.toLowerCase().includes(part));
        send(res, 200, { groups: groups.map((g) => summaryOf(state, tenant, g)), default: state.groups.defaultGroup(tenant)?.id ?? null });
        return;
      }
      const body = checkBody<CreateBody>('create', await readBody(req));
      let id = '';
      await write(req, subject, (docs, actor) => {
        const plan = createGroup(docs, tenant, body, actor);
        id = plan.groupId;
        return plan;
      });
      showGroup(res, 201, tenant, id, { location: `${ADMIN_PATH}/${encodeURIComponent(id)}` });
    },
  };

  const defaultRoute: Route = {
    methods: 'GET, PUT',
    async handle(req, res, subject) {
      const { tenant } = subject;
      if (req.method === 'PUT') {
        const ifMatch = requireIfMatch(req);
        const body = checkBody<{ group: string | null }>('default', await readBody(req));
        await write(req, subject, (docs) => {
          checkEtag(ifMatch, defaultEtag(docs.state, tenant));
          return setDefault(docs, tenant, body.group);
        });
      }
      showDefault(res, tenant);
    },
  };

  const groupRoute = (id: string): Route => ({
    methods: 'GET, PATCH',
    async handle(req, res, subject) {
      const { tenant } = subject;
      if (req.method === 'PATCH') {
        const ifMatch = requireIfMatch(req);
        const body = checkBody<EditBody>('edit', await readBody(req));
        await write(req, subject, (docs, actor) => {
          onGroup(docs, tenant, id, ifMatch, true);
          return editGroup(docs, tenant, id, body, actor);
        });
      }
      showGroup(res, 200, tenant, id);
    },
  });

  const statusRoute = (id: string, status: 'active' | 'inactive'): Route => ({
    methods: 'POST',
    async handle(req, res, subject) {
      const ifMatch = requireIfMatch(req);
      await readBody(req); // nothing to read; drained so the connection can be reused
      await write(req, subject, (docs, actor) => {
        onGroup(docs, subject.tenant, id, ifMatch, true);
        return setStatus(docs, subject.tenant, id, status, actor);
      });
      showGroup(res, 200, subject.tenant, id);
    },
  });

  const storesRoute = (id: string): Route => ({
    methods: 'POST',
    async handle(req, res, subject) {
      const ifMatch = requireIfMatch(req);
      const body = checkBody<StoresBody>('stores', await readBody(req));
      await write(req, subject, (docs) => {
        onGroup(docs, subject.tenant, id, ifMatch, false);
        return allocateStores(docs, subject.tenant, id, body, { allowAdminStores: holder.current.main.admin_api.allow_admin_stores });
      });
      showGroup(res, 200, subject.tenant, id);
    },
  });

  const routeOf = (segments: string[]): Route | null => {
    const [first, second, ...rest] = segments;
    if (first === undefined) return collection;
    if (rest.length > 0) return null;
    if (first === 'default' && second === undefined) return defaultRoute;
    if (second === undefined) return groupRoute(first);
    if (second === 'deactivate') return statusRoute(first, 'inactive');
    if (second === 'activate') return statusRoute(first, 'active');
    if (second === 'stores') return storesRoute(first);
    return null;
  };

  app.use(ADMIN_PATH, (req: Request, res: Response) => {
    const requestId = res.locals.requestId as string;
    const fail = (err: AdminError) => {
      logger.info({ requestId, method: req.method, path: req.originalUrl.split('?')[0], status: err.status, reason: err.reason, detail: err.detail ?? err.message }, 'admin refused');
      send(res, err.status, err.body(requestId), err.headers as Record<string, string>);
    };
    void (async () => {
      try {
        // Authenticate first: before that, every path and method answers alike, so nobody
        // learns which admin paths and methods exist.
        const subject = await authenticateAdmin(req, holder.current, listenerId, clock.now());
        let segments: string[];
        try {
          segments = req.path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
        } catch {
          throw new AdminError('NOT_FOUND', 'no such admin path');
        }
        const route = routeOf(segments);
        if (!route) throw new AdminError('NOT_FOUND', 'no such admin path');
        if (!route.methods.split(', ').includes(req.method)) throw new AdminError('METHOD_NOT_ALLOWED', `use ${route.methods} here`, [], { allow: route.methods });
        await route.handle(req, res, subject);
      } catch (err) {
        if (err instanceof AdminError) return fail(err);
        logger.error({ requestId, err, path: req.originalUrl.split('?')[0] }, 'admin API fault');
        if (!res.headersSent) send(res, 500, { status: 'Failure', errorTranslationKeys: ['INTERNAL_ERROR'], requestId });
      }
    })();
  });
}
