import { describe, expect, it } from '@jest/globals';
import { accessGroupsSchema } from '../../src/access-groups/schema.js';
import { mainSchema } from '../../src/config/main-schema.js';
import { pipeSchema } from '../../src/engine/pipe-schema.js';
import { directorySchema } from '../../src/directory/schema.js';
import { createRegistry } from '../../src/valves/index.js';

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * JSON pointers of the properties (entries of a `properties` map) that have no description,
 * anywhere in the schema: nested objects, array items, maps, and the branches of
 * oneOf/anyOf/allOf and then/else. A branch that only refines a property its parent declares
 * (a default for one kind) needs no second description; `if` is a condition, not options.
 */
function undescribed(schema: Schema, pointer: string, out: string[], described: ReadonlySet<string> = new Set()): string[] {
  const props = isSchema(schema.properties) ? schema.properties : {};
  const here = new Set(described);
  for (const [name, sub] of Object.entries(props)) {
    const at = `${pointer}/properties/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (!isSchema(sub)) continue;
    if (typeof sub.description === 'string' && sub.description.trim() !== '') here.add(name);
    else if (!described.has(name)) out.push(at);
    undescribed(sub, at, out);
  }
  for (const key of ['items', 'additionalProperties', 'not'] as const) {
    if (isSchema(schema[key])) undescribed(schema[key], `${pointer}/${key}`, out);
  }
  for (const key of ['then', 'else'] as const) {
    if (isSchema(schema[key])) undescribed(schema[key], `${pointer}/${key}`, out, described);
  }
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) list.forEach((sub, i) => isSchema(sub) && undescribed(sub, `${pointer}/${key}/${i}`, out, here));
  }
  return out;
}

const schemas: [string, Schema][] = [
  ['main file (with every feature section)', mainSchema as unknown as Schema],
  ['pipe file', pipeSchema as unknown as Schema],
  ['directory', directorySchema as unknown as Schema],
  ['access groups', accessGroupsSchema as unknown as Schema],
  ...createRegistry()
    .all()
    .map(({ definition }): [string, Schema] => [`valve ${definition.name}`, definition.configSchema]),
];

describe('every config option has a description', () => {
  it.each(schemas)('%s', (_name, schema) => {
    expect(undescribed(schema, '', [])).toEqual([]);
  });

  it('the walk finds an undescribed property at any depth (so a pass means something)', () => {
    const probe = {
      properties: { a: { description: 'x', type: 'array', items: { properties: { b: { type: 'string' } } } } },
      oneOf: [{ properties: { c: {} } }],
      allOf: [{ if: { properties: { z: {} } }, then: { properties: { a: { default: 1 }, d: {} } } }],
    };
    expect(undescribed(probe, '', [])).toEqual(['/properties/a/items/properties/b', '/oneOf/0/properties/c', '/allOf/0/then/properties/d']);
  });
});
