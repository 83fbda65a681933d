/**
 * One admin change of the config files, made as a load would accept it or not at all:
 * under the admin lock (the one the access-groups API takes, so the two never interleave
 * on the directory), the plan reads the files on disk and checks the caller's If-Match
 * against them; the files it would write are loaded together with everything else, as an
 * overlay, exactly as a reload loads them; only a change that loads is written (temp file,
 * fsync, rename) and reloaded, so it is in effect when the answer leaves. A refused change
 * answers 422 with the issues `authpipe validate` would print, and no file is touched.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { makeFolder } from '../config-kit/make-folder.js';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { AdminError } from './admin-error.js';
import { LockBusy, withLock, writeFileAtomic } from './persist.js';
import { accessGroupFiles } from '../access-groups/load.js';
import type { ConfigHolder } from '../config/holder.js';
import { formatIssue, type ConfigIssue } from '../config-kit/issues.js';
import type { FileOverlay } from '../config-kit/json-file.js';
import type { AuditFields } from '../engine/audit.js';
import type { AdminSubject } from './auth.js';
import { changeDiff } from './change-diff.js';

/** A 422: the config with the change does not load; nothing was written. */
class ConfigRefused extends AdminError {
  constructor(
    readonly issues: readonly ConfigIssue[],
    reason: 'CONFIG_REFUSED' | 'PIPE_IN_USE' = 'CONFIG_REFUSED',
  ) {
    super(
      reason,
      `the change was not applied: the config with it does not load (${issues.length} issue${issues.length === 1 ? '' : 's'}): ${issues.slice(0, 3).map(formatIssue).join('; ')}`,
    );
  }

  override body(requestId: string): Record<string, unknown> {
    return { ...super.body(requestId), issues: this.issues.slice(0, 50) };
  }
}

type CheckConfig = (overlay: FileOverlay) => readonly ConfigIssue[];

export interface ChangeOptions {
  holder: ConfigHolder;
  logger: Logger;
  /** Loads the config with the overlay, as a reload would, writing nothing; the issues, or none. */
  check: CheckConfig;
  reload(trigger?: string): { ok: true; version: string } | { ok: false; issues: readonly ConfigIssue[] };
  /** Resolves once every worker and every engine on the store serves `version`; rejects saying who does not. */
  propagate(version: string): Promise<void>;
}

/** What a plan wants written: absolute path to new text, or null to delete the file. */
export interface Change {
  readonly files: ReadonlyMap<string, string | null>;
  /** What the audit event says changed. */
  readonly audit: AuditFields & { resource: string; action: string; id: string };
  /** The tenants whose audit feed shows the change (a shared pipe: every tenant that runs it); default the admin's. */
  readonly tenants?: readonly string[];
  /** A refused delete is a reference problem rather than a broken file. */
  readonly refusal?: 'PIPE_IN_USE';
}

/** The files on disk, read once per change under the lock. */
export class Disk {
  private readonly texts = new Map<string, string | null>();

  async text(path: string): Promise<string | null> {
    if (!this.texts.has(path)) {
      const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      this.texts.set(path, text);
    }
    return this.texts.get(path) as string | null;
  }

  async json(path: string): Promise<unknown> {
    const text = await this.text(path);
    if (text === null) throw new AdminError('NOT_CONFIGURED', `${path} does not exist`);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new AdminError('CONFIG_INVALID', `${path} on disk is not valid JSON (${(err as Error).message}); fix it by hand first`);
    }
  }
}

/** A strong ETag of a JSON value (or a file's text): what a GET showed, compared on write. */
export function etagOf(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `"${createHash('sha256').update(text).digest('base64url').slice(0, 22)}"`;
}

/** The If-Match of a write: required (428 when missing or *), compared with `current` (412). */
export function checkIfMatch(header: readonly string[] | undefined, current: string): void {
  const value = header?.join(', ').trim() ?? '';
  if (value === '' || value === '*') {
    throw new AdminError(
      'PRECONDITION_REQUIRED',
      'send If-Match with the ETag of your last GET, so that you cannot overwrite a change you have not seen (* is not accepted)',
      ['if-match'],
    );
  }
  const tags = value.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes(current))
    throw new AdminError('PRECONDITION_FAILED', 'it changed since you read it; GET it again and reapply your change', ['if-match']);
}

/** The lock every admin write of the config files holds (shared with the access-groups API). */
function adminLockPath(holder: ConfigHolder): string {
  const config = holder.current;
  return `${accessGroupFiles(config.main, config.dir).groups ?? config.file}.lock`;
}

/** Runs `plan` under the lock and applies its change; the version now serving, or null when nothing changed. */
export async function applyChange(
  options: ChangeOptions,
  subject: AdminSubject,
  plan: (disk: Disk) => Promise<Change | null>,
): Promise<string | null> {
  const { holder, logger } = options;
  try {
    return await withLock(adminLockPath(holder), async () => {
      const disk = new Disk();
      const change = await plan(disk);
      if (change === null || change.files.size === 0) return null;
      const issues = options.check(change.files);
      if (issues.length > 0) throw new ConfigRefused(issues, change.refusal);
      const previous = new Map<string, string | null>();
      for (const path of change.files.keys()) previous.set(path, await disk.text(path));
      await writeAll(change.files);
      const reloaded = options.reload('api');
      if (!reloaded.ok) {
        // Something else changed on disk meanwhile: put ours back, keep serving what was.
        await writeAll(previous);
        options.reload('api');
        throw new AdminError(
          'RELOAD_FAILED',
          `the change was not applied: the config with it does not load: ${reloaded.issues.map(formatIssue).join('; ')}`,
        );
      }
      logger.info(
        {
          tenant: subject.tenant,
          admin: subject.sub,
          role: subject.role,
          ...change.audit,
          tenants: change.tenants,
          version: reloaded.version,
        },
        'config changed by the admin API',
      );
      const diff = changeDiff(
        new Map([...change.files].map(([path, after]) => [path, { before: previous.get(path) ?? null, after }])),
        holder.current.dir,
      );
      for (const tenant of new Set(change.tenants ?? [subject.tenant])) {
        holder.current.services.audit?.event('admin.config_changed', {
          ...change.audit,
          subject: subject.sub,
          role: subject.role,
          tenant,
          version: reloaded.version,
          diff,
        });
      }
      await propagated(options.propagate, reloaded.version);
      return reloaded.version;
    });
  } catch (err) {
    if (err instanceof LockBusy)
      throw new AdminError('BUSY', 'another change is being written; retry in a moment', [], { 'retry-after': '1' });
    throw err;
  }
}

/** "In effect when the answer arrives" holds for every worker and engine, not only this one: else 503 NOT_PROPAGATED. */
export async function propagated(propagate: (version: string) => Promise<void>, version: string): Promise<void> {
  try {
    await propagate(version);
  } catch (err) {
    const error = new AdminError(
      'NOT_PROPAGATED',
      'the change is saved and in effect here, but not every worker or engine confirmed it in time; they pick it up from the files (check /readyz)',
      [],
      { 'retry-after': '1' },
    );
    error.detail = (err as Error).message;
    throw error;
  }
}

async function writeAll(files: ReadonlyMap<string, string | null>): Promise<void> {
  for (const [path, text] of files) {
    if (text === null) await rm(path, { force: true });
    else {
      // A tenant's first own pipe creates its folder.
      await makeFolder(dirname(path));
      await writeFileAtomic(path, text);
    }
  }
}
