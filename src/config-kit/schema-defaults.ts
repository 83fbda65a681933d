/** The defaults of a schema's `properties`, typed by the defaults themselves (`as const` schemas). */
export type DefaultsOf<P> = {
  -readonly [K in keyof P as P[K] extends { default: unknown } ? K : never]: P[K] extends { default: infer D } ? D : never;
};

/**
 * Every property's schema default, as the loader fills them into `{}`: for a section a valve
 * switches on itself (an option whose default depends on another, so the schema cannot carry
 * it), built from the schema rather than from literals written a second time.
 */
export function defaultsOf<P extends Readonly<Record<string, object>>>(properties: P): DefaultsOf<P> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(properties)) if ('default' in schema) out[name] = structuredClone(schema.default);
  return out as DefaultsOf<P>;
}
