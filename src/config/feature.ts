/**
 * The feature contract. A feature owns one or more sections of the main file (their JSON
 * Schema is folded into the main schema) and builds, from them, a service that valves find
 * in `Services` by name. It is to the main file what a valve is to a pipe: the loader knows
 * features only through this contract and the list in src/features.ts.
 *
 * Adding a feature (say `oidc`) takes one file and one line:
 *
 * 1. `src/oidc/feature.ts`:
 *
 *      const oidcSchema = { type: 'object', ..., properties: { ... } } as const;
 *
 *      declare module '../config/main-schema.js' {
 *        interface FeatureSections { oidc?: ConfigOf<typeof oidcSchema> }
 *      }
 *      declare module '../engine/services.js' {
 *        interface FeatureServices { readonly oidc?: OidcService }
 *      }
 *
 *      export const oidcFeature = defineFeature({
 *        name: 'oidc',
 *        sections: { oidc: oidcSchema },
 *        service: 'oidc',
 *        build: (ctx) => (ctx.main.oidc ? new OidcService(ctx.main.oidc) : undefined),
 *        close: (service) => service.close(),
 *      });
 *
 * 2. one line in the list of src/features.ts (the list's order is the build order).
 *
 * A service that runs something (a worker, a timer) does not start it in `build`: it hands
 * it to `ctx.own` (a Resource with `start` and `close`), which starts it only once the load
 * succeeded and may serve, never for `validate` or an admin change's check, and closes it
 * when that config retires. `close` is for what `build` opened at once (LDAP connections).
 *
 * The section is validated with the main file, with its defaults applied (so `build` reads
 * `ctx.main.oidc.x` and never repeats a default); what a schema cannot say is reported
 * as issues on `ctx.issues` with the file and the JSON pointer.
 */
import type { FeatureServices, Services } from '../engine/services.js';
import type { ConfigIssue } from '../config-kit/issues.js';
import type { FileOverlay } from '../config-kit/json-file.js';
import type { SecretLedger } from '../config-kit/secrets.js';
import type { MainConfig } from './main-schema.js';
import type { Resource } from '../engine/runtime.js';

/** What a feature's `build` gets on each load. */
export interface FeatureContext {
  /** The main file, validated, secrets resolved and defaults applied. */
  main: MainConfig;
  /** The main file as shown in messages, and its folder for relative paths. */
  file: string;
  dir: string;
  env: Readonly<Record<string, string | undefined>>;
  issues: ConfigIssue[];
  /** Problems that do not stop the load but must be seen (a secret file others can read); logged at warn level. */
  warnings: ConfigIssue[];
  /** Records what each `${…}` reference resolved to, so messages can show the reference instead. */
  secrets: SecretLedger;
  /** Feed every data file's text into the config version hash. */
  hash(text: string): void;
  /** Record a data file so the reload watcher sees it. */
  watch(file: string): void;
  /** True for `authpipe validate`: check, but write nothing (no generated keys). */
  readOnly?: boolean;
  /** Texts to read instead of the files on disk (an admin change checked before it is written). */
  overlay?: FileOverlay;
  /** Hands a resource to this load's runtime (engine/runtime.ts): started if the load may serve, closed when it retires. */
  own<R extends Resource>(resource: R): R;
}

/** What a feature's `checkCompiled` gets: the load's result so far, every pipe compiled. */
export interface CompiledContext {
  main: MainConfig;
  file: string;
  /** Whether `tenant` has a pipe of this id that compiled (its own or a shared one). */
  hasPipe(tenant: string, id: string): boolean;
  services: Services;
  issues: ConfigIssue[];
}

export type FeatureServiceName = keyof FeatureServices;

export interface Feature<K extends FeatureServiceName = FeatureServiceName> {
  /** For messages. */
  readonly name: string;
  /** Main-file sections this feature owns: property name to JSON Schema (draft 2020-12). */
  readonly sections: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Where `build`'s result goes in Services; absent for a feature that only checks its sections. */
  readonly service?: K;
  /** Reads its sections, reports problems on `ctx.issues`, returns its service (or nothing). */
  build(ctx: FeatureContext): FeatureServices[K] | undefined;
  /**
   * Checks what needs the pipes compiled and every service built (a section naming pipes or
   * directory entries); reports on `ctx.issues`. Runs after every feature's `build`.
   */
  checkCompiled?(ctx: CompiledContext): void;
  /** Releases what the service holds open, once no call uses its config any more. */
  close?(service: NonNullable<FeatureServices[K]>): void | Promise<void>;
}

/** Declares a feature (the identity, for inference of K, as defineValve). */
export function defineFeature<K extends FeatureServiceName>(feature: Feature<K>): Feature<K> {
  return feature;
}
