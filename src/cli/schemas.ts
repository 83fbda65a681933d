import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { editorSchemas } from '../config/editor-schemas.js';
import type { Command } from './command.js';

/** `authpipe schemas [--out DIR]`: writes the JSON Schemas editors use through "$schema". */
export const schemas: Command = {
  summary: 'write schemas/*.schema.json from the code (main file, pipes with every valve)',
  usage: 'usage: authpipe schemas [--out DIR]\n\nWrites the JSON Schemas editors use through "$schema".\n  --out DIR   where to write them (default schemas)\n',
  run(args) {
    const { values } = parseArgs({ args, options: { out: { type: 'string', default: 'schemas' } } });
    for (const [name, schema] of Object.entries(editorSchemas())) {
      writeFileSync(join(values.out as string, name), `${JSON.stringify(schema, null, 2)}\n`);
      process.stdout.write(`wrote ${join(values.out as string, name)}\n`);
    }
    return 0;
  },
};
