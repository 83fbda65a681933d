import { readFileSync } from 'node:fs';
import type { ConfigIssue } from './issues.js';
import { locateJsonError } from './json-locate.js';

/**
 * Files as they would be after an admin change: absolute path to text, or null for a file
 * that would be deleted. A load with an overlay checks a change before it is written.
 */
export type FileOverlay = ReadonlyMap<string, string | null>;

/** Reads a JSON file (or its overlaid text); a syntax error becomes an issue with its line and column. */
export function readJsonFile(file: string, issues: ConfigIssue[], overlay?: FileOverlay): { value: unknown; text: string } | null {
  let text: string;
  try {
    const overlaid = overlay?.get(file);
    if (overlaid === null) throw Object.assign(new Error('deleted'), { code: 'ENOENT' });
    text = overlaid ?? readFileSync(file, 'utf8');
  } catch (err) {
    issues.push({
      file,
      pointer: '',
      code: 'CONFIG_READ',
      message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    });
    return null;
  }
  try {
    return { value: JSON.parse(text), text };
  } catch (err) {
    const message = (err as Error).message;
    const position = locateJsonError(text);
    issues.push({
      file,
      pointer: '',
      code: 'CONFIG_PARSE',
      message: `invalid JSON at ${lineAndColumn(text, position)}: ${message.split('\n')[0]}`,
    });
    return null;
  }
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length} column ${(before[before.length - 1]?.length ?? 0) + 1}`;
}
