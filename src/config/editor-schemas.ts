import { directorySchema } from '../directory/schema.js';
import { accessGroupsSchema } from '../access-groups/schema.js';
import { createRegistry } from '../valves/index.js';
import { mainSchema } from './main-schema.js';
import { pipeSchemaForEditors } from '../engine/pipe-schema.js';

/** The schema files shipped in schemas/, generated from the code so they cannot drift. */
export function editorSchemas(): Record<string, unknown> {
  return {
    'authpipe.schema.json': mainSchema,
    'pipe.schema.json': pipeSchemaForEditors(createRegistry()),
    'directory.schema.json': directorySchema,
    'access-groups.schema.json': accessGroupsSchema,
  };
}
