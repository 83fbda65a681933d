import { dirname, relative } from 'node:path';
import type { ConfigIssue } from '../config-kit/issues.js';
import { readJsonFile } from '../config-kit/json-file.js';
import { resolveSecrets } from '../config-kit/secrets.js';
import type { FeatureContext } from './feature.js';

/** Paths in messages are relative to the working folder when that is shorter. */
export function display(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

export interface DataFile {
  /** The parsed content with ${env:}/${file:} resolved; meaningful only when `ok`. */
  value: unknown;
  ok: boolean;
  /** The path as admins see it in messages. */
  shown: string;
  issues: ConfigIssue[];
}

/**
 * Reads a data file the main config names (directory, access groups, …): watched for
 * reload, fed into the config version, secrets resolved against its own folder. The caller
 * validates the value and reports `issues` (already named by the shown path); the first
 * reader of a file reports them, later readers in the same load look only at `value`.
 */
const readInLoad = new WeakMap<FeatureContext, Map<string, DataFile>>();

export function readDataFile(ctx: FeatureContext, path: string): DataFile {
  // One read per file per load: a second reader (access groups checking the directory's
  // references) gets the same result, without reading, hashing or watching it again.
  let files = readInLoad.get(ctx);
  if (!files) readInLoad.set(ctx, (files = new Map()));
  const known = files.get(path);
  if (known) return known;
  const file = readOnce(ctx, path);
  files.set(path, file);
  return file;
}

function readOnce(ctx: FeatureContext, path: string): DataFile {
  const shown = display(path);
  ctx.watch(path);
  const issues: ConfigIssue[] = [];
  const read = readJsonFile(path, issues, ctx.overlay);
  let value: unknown;
  if (read) {
    ctx.hash(read.text);
    value = resolveSecrets(
      read.value,
      shown,
      { env: ctx.env, baseDir: dirname(path), warnings: ctx.warnings, ledger: ctx.secrets },
      issues,
    );
  }
  // readJsonFile names the file by its absolute path; say it the way the other issues do.
  const named = issues.map((i) => (i.file === path ? { ...i, file: shown } : i));
  return { value, ok: read !== null && issues.length === 0, shown, issues: named };
}
