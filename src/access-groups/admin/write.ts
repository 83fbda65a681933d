/**
 * One admin write of the access groups: under the lock, re-read the files on disk, plan the
 * change (operations.ts), write one file atomically and reload, so the change is in effect
 * before the answer, on every worker and every engine sharing the store. If the config with
 * the change does not load, the file is put back and the answer is 500 RELOAD_FAILED.
 */
import type { Request } from 'express';
import type { Logger } from 'pino';
import { propagated } from '../../admin/config-change.js';
import type { ConfigHolder } from '../../config/holder.js';
import { formatIssue, type ConfigIssue } from '../../config-kit/issues.js';
import type { Clock } from '../../engine/clock.js';
import { clientAllowed } from '../../http/client-access.js';
import { accessGroupFiles, configuredTenants } from '../load.js';
import { AdminError } from '../../admin/admin-error.js';
import type { AdminSubject } from '../../admin/auth.js';
import { readDocuments, type DiskDocuments } from './documents.js';
import type { Actor, Plan } from './operations.js';
import { LockBusy, withLock, writeFileAtomic } from '../../admin/persist.js';

export interface AdminApiOptions {
  holder: ConfigHolder;
  listenerId: string;
  logger: Logger;
  clock: Clock;
  reload(): { ok: true; version: string } | { ok: false; issues: readonly ConfigIssue[] };
  /** Resolves once every worker and every engine on the store serves `version`; rejects saying who does not. */
  propagate(version: string): Promise<void>;
}

/** Lock, read from disk, plan, write, reload; a plan of null writes nothing. */
export async function writeChange(
  options: AdminApiOptions,
  req: Request,
  subject: AdminSubject,
  plan: (docs: DiskDocuments, actor: Actor) => Plan | null,
): Promise<void> {
  const { holder, logger } = options;
  const config = holder.current;
  const files = accessGroupFiles(config.main, config.dir);
  if (files.groups === null)
    throw new AdminError(
      'NOT_CONFIGURED',
      'the main config file names no access_groups file; add "access_groups": "access-groups.json" to it',
    );
  try {
    await withLock(`${files.groups}.lock`, async () => {
      const docs = await readDocuments(files, configuredTenants(config.main));
      const step = plan(docs, { sub: subject.sub, now: new Date(options.clock.now()).toISOString() });
      if (step === null) return;
      const path = step.file === 'groups' ? docs.groupsPath : (docs.directoryPath as string);
      const previous = step.file === 'groups' ? docs.groupsText : (docs.directoryText as string);
      await writeFileAtomic(path, step.text);
      const reloaded = options.reload();
      if (!reloaded.ok) {
        await writeFileAtomic(path, previous);
        options.reload();
        throw reloadFailed(options, req, reloaded.issues);
      }
      logger.info(
        { tenant: subject.tenant, admin: subject.sub, file: path, group: step.groupId, version: reloaded.version },
        'access groups changed',
      );
      holder.current.services.audit?.event('admin.access_groups_changed', {
        subject: subject.sub,
        tenant: subject.tenant,
        group: step.groupId,
        version: reloaded.version,
      });
      await propagated(options.propagate, reloaded.version);
    });
  } catch (err) {
    if (err instanceof LockBusy)
      throw new AdminError('BUSY', 'another change is being written; retry in a moment', [], { 'retry-after': '1' });
    throw err;
  }
}

/** The issues name other files, pointers and env names: only readyz.clients see them (as on /readyz); the log always has them. */
function reloadFailed(options: AdminApiOptions, req: Request, issues: readonly ConfigIssue[]): AdminError {
  const config = options.holder.current;
  const detailed = clientAllowed(req, config, options.listenerId, 'readyz', config.main.readyz.clients);
  const why = detailed ? issues.map(formatIssue).join('; ') : `${issues.length} problem(s), in the server log`;
  const error = new AdminError('RELOAD_FAILED', `the change was not applied: the config with it does not load: ${why}`);
  error.detail = issues.map(formatIssue).join('; ');
  return error;
}
