import { describe, expect, it } from '@jest/globals';
import { prettyLine } from '../../src/observe/pretty-lines.js';

/** LOG_FORMAT=pretty: a JSON line becomes `time LEVEL message key=value …`. */
describe('pretty log lines', () => {
  it('puts the time, level and message first, then the fields, quoting values with spaces', () => {
    const time = Date.UTC(2026, 11, 6, 9, 30, 15, 123);
    const line = JSON.stringify({
      level: 'info',
      time,
      service: 'authpipe',
      msg: 'call',
      door: 'put',
      tenant: 'demo',
      detail: 'two words',
      ms: 0.5,
    });
    expect(prettyLine(`${line}\n`)).toBe('09:30:15.123 INFO  call door=put tenant=demo detail="two words" ms=0.5\n');
  });

  it("prints an error's stack on the lines below, indented", () => {
    const line = JSON.stringify({ level: 'error', time: 0, msg: 'fault', err: { message: 'boom', stack: 'Error: boom\n    at x' } });
    expect(prettyLine(line)).toBe('00:00:00.000 ERROR fault\n    Error: boom\n        at x\n');
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(prettyLine('plain text\n')).toBe('plain text\n');
  });
});
