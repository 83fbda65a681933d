/** The hosted login's template language: values escaped, sections, and a template that does not parse refused. */
import { describe, expect, it } from '@jest/globals';
import { compileTemplate, TemplateSyntaxError } from '../../src/oidc/render.js';

describe('compileTemplate', () => {
  it('escapes values, leaves {{{raw}}} alone, and walks lists and conditions', () => {
    const render = compileTemplate(
      '<p title="{{t}}">{{{html}}}</p>{{#items}}<i>{{name}}{{#on}}!{{/on}}</i>{{/items}}{{^items}}none{{/items}}{{a.b}}',
    );
    expect(
      render({
        t: '"><script>',
        html: '<b>x</b>',
        items: [
          { name: 'a&b', on: true },
          { name: 'c', on: false },
        ],
        a: { b: "it's" },
      }),
    ).toBe('<p title="&quot;&gt;&lt;script&gt;"><b>x</b></p><i>a&amp;b!</i><i>c</i>it&#39;s');
    expect(render({ t: '', html: '', items: [] })).toBe('<p title=""></p>none');
  });

  it('refuses an unclosed section, a stray close and a stray brace', () => {
    for (const text of ['{{#a}}x', 'x{{/a}}', '{{#a}}{{/b}}', 'a {{ b', '{{#a}}}}{{/a}}'])
      expect(() => compileTemplate(text)).toThrow(TemplateSyntaxError);
  });
});
