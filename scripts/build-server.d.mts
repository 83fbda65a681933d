/** Transpiles every .ts under `src` (this repository's src/ by default) into `outdir`, keeping the folder layout (see build-server.mjs). */
export function buildServer(outdir: string, src?: string): Promise<void>;
