import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { editorSchemas } from '../../src/config/editor-schemas.js';
import { ROOT } from '../support/fixture.js';

/** schemas/ is generated from the code; this fails when someone forgot `authpipe schemas`. */
describe('schemas/', () => {
  it.each(Object.entries(editorSchemas()))('%s matches the code', (name, schema) => {
    const committed = JSON.parse(readFileSync(join(ROOT, 'schemas', name), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(schema)));
  });

  it('every shipped config and pipe file points at its schema', () => {
    const files = [join('config', 'authpipe.json'), ...readdirSync(join(ROOT, 'pipes')).map((f) => join('pipes', f))];
    for (const file of files) {
      const json = JSON.parse(readFileSync(join(ROOT, file), 'utf8'));
      expect(typeof json.$schema).toBe('string');
      expect(readFileSync(join(ROOT, file.split('/')[0] as string, json.$schema), 'utf8')).toContain('"$id"');
    }
  });
});
