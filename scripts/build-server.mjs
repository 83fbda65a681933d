// Compiles src/ into dist/ for `npm start`, `npm run bench` and the built-CLI tests: esbuild
// transpiles file by file (under a second), since every source is written for isolatedModules
// and `npm run typecheck` checks the types. The files a module reads beside itself (the hosted
// login's templates, stylesheet, page script and messages) are copied as they are. dist/console (the console bundle, web/build.mjs)
// is left alone; every other file there is replaced, so a deleted source leaves nothing behind.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Transpiles every .ts under `src` (this repository's src/ by default) into `outdir`, keeping the folder layout. */
export async function buildServer(outdir, src = join(root, 'src')) {
  const sources = readdirSync(src, { recursive: true })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(src, f));
  mkdirSync(outdir, { recursive: true });
  for (const entry of readdirSync(outdir, { withFileTypes: true, encoding: 'utf8' }).filter((e) => e.name !== 'console'))
    rmSync(join(outdir, entry.name), { recursive: true, force: true });
  await build({
    entryPoints: sources,
    outdir,
    outbase: src,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const file of readdirSync(src, { recursive: true }).filter((f) => /\.(html|css|json|js)$/.test(f))) {
    mkdirSync(dirname(join(outdir, file)), { recursive: true });
    copyFileSync(join(src, file), join(outdir, file));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildServer(join(root, 'dist'));
