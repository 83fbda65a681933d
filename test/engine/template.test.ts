import { describe, expect, it } from '@jest/globals';
import { compileTemplate, TemplateSyntaxError } from '../../src/engine/template.js';
import { emptyProps, propsFrom } from '../../src/engine/props.js';
import type { Scope } from '../../src/engine/scope.js';

const scope: Scope = {
  request: propsFrom({ username: 'till-001', 'x-y': 'dash' }),
  item: propsFrom({ sub: 'u-1' }),
  session: emptyProps(),
  tenant: { id: 'demo', displayName: 'Demo' },
  operation: 'echo',
  error: { code: 'INVALID_CREDENTIALS', valve: '0:basic-auth' },
};

describe('templates', () => {
  it.each([
    ['plain text', 'plain text'],
    ['{{request.username}}', 'till-001'],
    ['{{ request.username }}', 'till-001'],
    ['{{tenant.id}}:{{request.username}}', 'demo:till-001'],
    ['{{operation}}/{{item.sub}}/{{error.code}}', 'echo/u-1/INVALID_CREDENTIALS'],
    ['{{request.x-y}}', 'dash'],
    ['[{{request.missing}}]', '[]'],
    ['{{session.none}}', ''],
    ['{{request.constructor}}{{tenant.toString}}', ''],
  ])('%s renders as %s', (source, expected) => {
    expect(compileTemplate(source).render(scope)).toBe(expected);
  });

  it('knows a static template', () => {
    expect(compileTemplate('abc').isStatic).toBe(true);
    expect(compileTemplate('{{request.a}}').isStatic).toBe(false);
  });

  it.each(['{{env.HOME}}', '{{request}}x{{', '{{}}', '{{request.a.b}}', 'a }} b', '{{request..a}}'])(
    'refuses %s at compile time',
    (source) => {
      expect(() => compileTemplate(source)).toThrow(TemplateSyntaxError);
    },
  );
});
