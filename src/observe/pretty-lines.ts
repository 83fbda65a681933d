/**
 * A readable log for a terminal (`LOG_FORMAT=pretty`): each JSON line pino writes becomes
 * `time LEVEL message key=value …`, with an error's stack on the lines below. Production
 * keeps JSON (the default): every line a log shipper reads must parse.
 */
import type pino from 'pino';

const SKIPPED = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'err']);

export function prettyDestination(inner: pino.DestinationStream): pino.DestinationStream {
  return {
    write(line: string) {
      inner.write(prettyLine(line));
    },
  };
}

export function prettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const level = String(entry.level ?? '')
    .toUpperCase()
    .padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key, value]) => !SKIPPED.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? quoted(value) : JSON.stringify(value)}`);
  const err = entry.err as { message?: string; stack?: string } | undefined;
  const stack = err ? `\n    ${(err.stack ?? err.message ?? '').split('\n').join('\n    ')}` : '';
  return `${time} ${level} ${String(entry.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}${stack}\n`;
}

function quoted(value: string): string {
  return /^[\w.:/@+-]*$/.test(value) && value !== '' ? value : JSON.stringify(value);
}
