/**
 * The store feature: owns the main file's `store` section. The store itself outlives reloads
 * (the composition root builds it once, from the first load); on every load this only
 * reports the section's problems (and a bad REDIS_URL) as issues with pointers.
 */
import { defineFeature } from '../config/feature.js';
import { storeSchema, type StoreConfig } from './schema.js';
import { resolveStoreSettings } from './create.js';

declare module '../config/main-schema.js' {
  interface FeatureSections {
    store: StoreConfig;
  }
}

export const storeFeature = defineFeature({
  name: 'store',
  sections: { store: storeSchema },
  build(ctx) {
    const { problems } = resolveStoreSettings(ctx.main.store, ctx.env, ctx.dir);
    for (const p of problems) ctx.issues.push({ file: ctx.file, ...p });
    return undefined;
  },
});
