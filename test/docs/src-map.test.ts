import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** docs/valves.md's map of src/ names every folder there is, and no folder that is gone. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe("docs/valves.md's map of src/", () => {
  it('lists exactly the folders of src/', () => {
    const doc = readFileSync(join(ROOT, 'docs/valves.md'), 'utf8');
    const mapped = new Set([...doc.matchAll(/^(?:src\/[\w.]+, )?src\/([\w-]+)\/ /gm)].map((m) => m[1]));
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect([...mapped].sort()).toEqual(folders.sort());
  });
});
