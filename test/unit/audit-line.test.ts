import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createAuditLog } from '../../src/observe/audit-log.js';

describe('audit stream lines', () => {
  const audit = createAuditLog({ write: () => true } as never);

  it('write any string value so that it parses back to itself (cut at 256 characters)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 40 }), (subject, requestId) => {
        const line = audit.line('auth.success', { subject, requestId, tenant: 'demo' });
        expect(line?.endsWith('}\n')).toBe(true);
        const parsed = JSON.parse(line as string) as Record<string, unknown>;
        expect([parsed.subject, parsed.requestId, parsed.tenant, parsed.event]).toEqual([
          subject.slice(0, 256),
          requestId,
          'demo',
          'auth.success',
        ]);
      }),
    );
  });

  it('escapes quotes, backslashes and control characters, and keeps numbers and booleans as they are', () => {
    const line = audit.line('auth.failure', { subject: 'a"b\\c\nd\u0001', code: 'INVALID_CREDENTIALS', count: 3, flag: true }) as string;
    expect(line).toContain('"subject":"a\\"b\\\\c\\nd\\u0001"');
    expect(line).toContain('"count":3,"flag":true');
    expect(JSON.parse(line)).toMatchObject({ subject: 'a"b\\c\nd\u0001', count: 3, flag: true });
  });
});
