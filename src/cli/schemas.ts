import { existsSync, writeFileSync } from 'node:fs';
import { makeFolderSync } from '../config-kit/make-folder.js';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from './command.js';

/** `authpipe schemas [--out DIR] [--docs DIR]`: writes the JSON Schemas editors use through "$schema", and the reference docs. */
export const schemas: Command = {
  summary:
    'write schemas/*.schema.json and docs/reference/*.md from the code (main file, pipes with every valve, directory, access groups)',
  usage:
    'usage: authpipe schemas [--out DIR] [--docs DIR] [--web FILE]\n\nWrites the JSON Schemas editors use through "$schema", the reference docs, and the console\'s admin API types.\n  --out DIR    where to write the schemas (default schemas)\n  --docs DIR   where to write the reference docs (default docs/reference)\n  --web FILE   where to write the console\'s typed admin API (default web/src/admin-api.ts)\n',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        out: { type: 'string', default: 'schemas' },
        docs: { type: 'string', default: 'docs/reference' },
        web: { type: 'string', default: 'web/src/admin-api.ts' },
      },
    });
    // Every valve's schema loads only now: help and usage errors answer without them.
    const [{ editorSchemas }, { referenceDocs }, { consoleApiTypes }] = await Promise.all([
      import('../config/editor-schemas.js'),
      import('../config/reference-docs.js'),
      import('../admin/console-api-types.js'),
    ]);
    for (const [name, schema] of Object.entries(editorSchemas())) {
      writeFileSync(join(values.out as string, name), `${JSON.stringify(schema, null, 2)}\n`);
      process.stdout.write(`wrote ${join(values.out as string, name)}\n`);
    }
    makeFolderSync(values.docs as string);
    for (const [name, text] of Object.entries(referenceDocs())) {
      writeFileSync(join(values.docs as string, name), text);
      process.stdout.write(`wrote ${join(values.docs as string, name)}\n`);
    }
    // Only a checkout has the console's sources; an installed copy writes the rest.
    if (existsSync(dirname(values.web as string))) {
      writeFileSync(values.web as string, consoleApiTypes());
      process.stdout.write(`wrote ${values.web as string}\n`);
    }
    return 0;
  },
};
