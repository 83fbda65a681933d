import type { DestinationStream } from 'pino';
import { createLogger } from '../../src/logger.js';

/** `Authorization: Basic` for a user id and password, encoded as RFC 7617 says (UTF-8). */
export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** A real pino logger whose JSON lines are kept for assertions. */
export function capturingLogger(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination: DestinationStream = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  return { logger: createLogger({ level, destination }), lines };
}

/** The `detail` of each request's `call` log line, in the order of the ids given. */
export function refusalDetails(lines: readonly Record<string, unknown>[], requestIds: readonly string[]): string[] {
  const byId = new Map(lines.filter((l) => l.msg === 'call').map((l) => [l.requestId as string, String(l.detail)]));
  return requestIds.flatMap((id) => (byId.has(id) ? [byId.get(id) as string] : []));
}
