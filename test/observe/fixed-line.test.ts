/**
 * The call line written without pino's per-line work is the line pino writes: the same
 * members in the same order, for our logger and for one with pino's default numeric levels,
 * and nothing below the logger's level.
 */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { createLogger } from '../../src/logger.js';
import { fixedInfoLine } from '../../src/observe/fixed-line.js';

function capture(): { stream: pino.DestinationStream; lines: Record<string, unknown>[]; raw: string[] } {
  const raw: string[] = [];
  return { stream: { write: (line: string) => raw.push(line) }, raw, lines: [] };
}

const members = {
  requestId: 'r-1',
  door: 'put',
  tenant: 'demo',
  operation: undefined,
  outcome: 'refused',
  detail: 'a "quoted"\nvalue',
  ms: 0.25,
};

function withoutTime(line: string): string {
  return line.replace(/"time":\d+/, '"time":0');
}

describe('fixedInfoLine', () => {
  it('writes what pino writes, for our logger and for a default one', () => {
    for (const make of [(s: pino.DestinationStream) => createLogger({ destination: s }), (s: pino.DestinationStream) => pino({}, s)]) {
      const out = capture();
      const logger = make(out.stream).child({ component: 'x' });
      logger.info(members, 'call');
      fixedInfoLine(logger, 'call')(members);
      expect(out.raw).toHaveLength(2);
      expect(withoutTime(out.raw[1] as string)).toBe(withoutTime(out.raw[0] as string));
      expect(JSON.parse(out.raw[1] as string)).toEqual(expect.objectContaining({ detail: 'a "quoted"\nvalue', msg: 'call' }));
    }
  });

  it('writes nothing below the level, and follows a level changed later', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, level: 'warn' });
    const line = fixedInfoLine(logger, 'call');
    line(members);
    expect(out.raw).toEqual([]);
    logger.level = 'info';
    line(members);
    expect(out.raw).toHaveLength(1);
  });
});
