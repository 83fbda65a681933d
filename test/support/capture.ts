import pino, { type DestinationStream, type Logger } from 'pino';
import { REDACT_PATHS } from '../../src/logger.js';

/** A pino destination that keeps every line, parsed, for tests to assert on. */
export class CapturedLines implements DestinationStream {
  readonly lines: Record<string, any>[] = [];
  readonly raw: string[] = [];

  write(line: string): void {
    this.raw.push(line);
    this.lines.push(JSON.parse(line) as Record<string, any>);
  }

  /** Every line whose `msg` (log) or `event` (audit) is `name`. */
  named(name: string): Record<string, any>[] {
    return this.lines.filter((l) => l.msg === name || l.event === name);
  }

  get text(): string {
    return this.raw.join('');
  }
}

/** A logger like the real one (same redaction), writing into `lines`. */
export function capturingLogger(lines: CapturedLines, level = 'info'): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, lines);
}
