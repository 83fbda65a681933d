import type { ConfigServiceContext } from '../config/services.js';
import { resolveStoreSettings } from './settings.js';

/** Reports the store section's problems (and a bad REDIS_URL) as load issues with pointers. */
export function checkStoreConfig(ctx: ConfigServiceContext): void {
  const { problems } = resolveStoreSettings(ctx.main.store, ctx.env, ctx.dir);
  for (const p of problems) ctx.issues.push({ file: ctx.file, pointer: p.pointer, message: p.message });
}
