import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A caller's x-request-id is kept when it is one sane token; anything else is replaced. */
const SANE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE.test(given) ? given : randomUUID();
}
