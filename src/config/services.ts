import type { FeatureServices, Services } from '../engine/services.js';
import { features } from '../features.js';
import type { CompiledContext, FeatureContext } from './feature.js';

/**
 * Builds the services of every feature in src/features.ts from a validated main file, in
 * the list's order, on every load. Each reports its problems as issues; the loader swaps
 * nothing in while any is reported.
 */
export function buildConfigServices(ctx: FeatureContext): FeatureServices {
  const built: Record<string, unknown> = {};
  for (const feature of features) {
    const service = feature.build(ctx);
    if (feature.service !== undefined && service !== undefined) built[feature.service] = service;
  }
  // Every required member of FeatureServices comes from a feature that always builds one.
  return built as unknown as FeatureServices;
}

/** Each feature's checks that need the pipes compiled (see Feature.checkCompiled). */
export function checkCompiledFeatures(ctx: CompiledContext): void {
  for (const feature of features) feature.checkCompiled?.(ctx);
}

/**
 * Releases what a loaded config holds open, once no call uses it: first what its runtime owns
 * (delivery workers, timers: engine/runtime.ts), then each feature's service (LDAP connections).
 */
export async function closeConfigServices(services: Services): Promise<void> {
  try {
    await services.runtime?.close();
  } finally {
    const held = services as unknown as Record<string, unknown>;
    for (const feature of features) {
      const service = feature.service === undefined ? undefined : held[feature.service];
      if (service !== undefined && feature.close) await (feature.close as (s: unknown) => void | Promise<void>)(service);
    }
  }
}
