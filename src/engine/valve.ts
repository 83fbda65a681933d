import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Condition } from './condition.js';
import type { Props } from './props.js';
import type { Scope } from './scope.js';
import type { Template } from './template.js';
import type { Store } from '../store/store.js';
import type { Services } from './services.js';
import type { RunObserver } from './runner.js';
import type { ValveDataflow } from './dataflow.js';
import type { ConfigIssueCode } from '../errors.js';
import type { Resource } from './runtime.js';

/**
 * The valve contract. A valve is one file exporting a ValveDefinition: its type name,
 * its config's JSON Schema, and `create`, which compiles the validated config once at
 * load and returns the function run per call. The engine knows valves only through this.
 */

/** An item of a call: an id plus string properties. Most valves act on the single current item. */
export interface Item {
  id: string;
  props: Props;
}

export interface CallContext {
  readonly requestId: string;
  readonly tenant: { readonly id: string; readonly displayName: string };
  readonly operation: string;
  /** The flat body plus client_ip, tenant, operation and request_id set by the engine. */
  readonly request: Readonly<Props>;
  /** Request headers by lower-case name, every value kept (a doubled header has two); built on first use. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** The values of one request header (`name` in lower case), without building `headers`. */
  header(name: string): readonly string[] | undefined;
  items: Item[];
  session: Props;
  error: Scope['error'];
  /** The store, scoped to this call's tenant. */
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly services: Services;
  /** Watches each step (traces, metrics); absent on the plain hot path. */
  readonly observer: RunObserver | undefined;
  /**
   * The user pool a hosted-login step signs in to (set by the OpenID Connect door only, never
   * from a request): a credential valve refuses an account that is not in it as a wrong password.
   */
  readonly loginPool?: string | undefined;
  /**
   * The name a credential valve read from the caller (basic-auth: the user of the Basic header
   * or body pair), before it knows whether the credential is right: the subject of a refused
   * call's audit event. Never a secret.
   */
  claimed: string | undefined;
  /** Response headers a valve wants on a 200 (a refusal carries its own). */
  readonly responseHeaders: Record<string, string>;
  /**
   * What the call proved, for a login that spans pipes (the hosted login reads it): `amr` the
   * RFC 8176 methods passed, in order (a credential valve adds its own when it accepts:
   * basic-auth `pwd`, otp-verify and totp-verify `otp`; token-mint its configured `amr`), `acr`
   * the class token-mint rendered, and `handles` the item properties flow-save put a handle on.
   */
  readonly proved: { readonly amr: string[]; acr: string | undefined; readonly handles: string[] };
  /** The single current item. A fault when the flow holds none or several. */
  item(): Item;
  scope(): Scope;
}

export type ValveRun = (ctx: CallContext) => void | Promise<void>;

/** What a valve gets at compile time, besides its validated config. */
export interface CompileTools {
  /** Compile a `{{…}}` template found at `pointer` (relative to the valve's config). */
  template(source: string, pointer: string): Template;
  /** Compile a json-logic expression found at `pointer`. */
  condition(expr: unknown, pointer: string): Condition;
  /** Another pipe by id, resolved once every pipe is compiled. */
  pipe(id: string): { run(ctx: CallContext): Promise<void> };
  /** A load error at `pointer` (relative to the valve's config), with the code of its kind (src/errors.ts). */
  fail(pointer: string, message: string, code: ConfigIssueCode): never;
  /**
   * Hands a resource that must be released (a worker, a timer, a connection) to the config
   * being loaded, and returns it. Its `start` runs only once that config may serve (never for
   * `validate` or an admin change's check); its `close` runs when the config retires. Start
   * nothing in `create` itself: a read-only load compiles every valve too.
   */
  own<R extends Resource>(resource: R): R;
  readonly services: Services;
}

export interface ValveDefinition<C = unknown> {
  /** The type name pipes use in `valves[].name`. */
  readonly name: string;
  /** Names this valve had before: still accepted for one release, with a CONFIG_DEPRECATED warning at load. */
  readonly formerly?: readonly string[];
  /** One line for the docs and the generated schema. */
  readonly summary: string;
  /** JSON Schema (draft 2020-12) of `config`; validated with ajv before `create`. */
  readonly configSchema: Record<string, unknown>;
  /** Pipes this valve will call, so the loader can check they exist and form no cycle. */
  references?(config: C): { pipes?: readonly string[] };
  /** What it sets, reads by name, looks up, saves or restores, for the load-time pipe check. */
  dataflow?(config: C): ValveDataflow;
  create(config: C, tools: CompileTools): ValveRun;
}

/**
 * The type of a config once validated: derived from its JSON Schema (declared `as const`),
 * so the two cannot drift. The loader's Ajv applies every `default` before a valve or a
 * feature sees the config, so a property with a default is present here, not optional.
 */
export type ConfigOf<S> = S extends JSONSchema ? FromSchema<S> : never;

/**
 * Declares a valve. Its config type is derived from `configSchema`: write the schema inline
 * (or `as const`), give each option a `description` and a `default` when it has one, and
 * read `config.x` without repeating the default in code.
 */
export function defineValve<const S extends JSONSchema>(
  definition: ValveDefinition<ConfigOf<S>> & { readonly configSchema: S },
): ValveDefinition<ConfigOf<S>> {
  return definition;
}
