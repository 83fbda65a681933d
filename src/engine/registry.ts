import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValveDefinition } from './valve.js';

/**
 * The valve registry: type name to definition, with each config schema compiled once.
 * Built from the list in valves/index.ts; the engine never names a valve itself.
 */
export interface RegisteredValve {
  readonly definition: ValveDefinition<unknown>;
  readonly validate: ValidateFunction;
  /** Set when the name asked for is a former name of this valve (ValveDefinition.formerly). */
  readonly formerName?: string;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/**
 * `useDefaults` for config files: every `default` in a schema is written into the data as it
 * is validated, once at load, so code reads `config.x` and never repeats a default. Ajv does
 * not apply defaults under `oneOf`/`anyOf`/`not` (strict mode refuses such a schema), and
 * applies those in an `if`/`then` branch only when the branch matches: that is how a default
 * that depends on another option is written (token-mint's ttl per kind). Off for request
 * bodies, which must be validated as sent.
 *
 * ajv's code optimiser is off: it makes a plain object per generated name (err506, _errs41,
 * data66...), and a few thousand of those fill V8's table of hidden-class transitions from `{}`
 * (1536 at most). Until a full collection empties it, every plain object given a new property
 * name gets a hidden class of its own, and calls served in that window leave the hot path's
 * inline caches megamorphic for the life of the process: the echo call ran 1.45x slower
 * (bench/ab.js; test/engine/object-shapes.test.ts guards it). The optimiser only drops unused
 * variables from generated validators.
 */
export function newAjv(options: { useDefaults?: boolean } = {}): Ajv2020 {
  return addFormats(
    new Ajv2020({
      code: { optimize: false },
      allErrors: true,
      strict: true,
      allowUnionTypes: true,
      useDefaults: options.useDefaults === true,
    }),
  );
}

export class ValveRegistry {
  private readonly valves = new Map<string, RegisteredValve>();
  private readonly ajv = newAjv({ useDefaults: true });

  constructor(definitions: readonly ValveDefinition<never>[]) {
    for (const def of definitions) this.register(def as unknown as ValveDefinition<unknown>);
  }

  private readonly former = new Map<string, RegisteredValve>();

  private register(definition: ValveDefinition<unknown>): void {
    for (const name of [definition.name, ...(definition.formerly ?? [])])
      if (this.valves.has(name) || this.former.has(name)) throw new Error(`valve "${name}" is registered twice`);
    const validate = this.ajv.compile(definition.configSchema);
    this.valves.set(definition.name, { definition, validate });
    for (const name of definition.formerly ?? []) this.former.set(name, { definition, validate, formerName: name });
  }

  /** The valve of this name, or of this former name (with `formerName` set). */
  get(name: string): RegisteredValve | undefined {
    return this.valves.get(name) ?? this.former.get(name);
  }

  names(): string[] {
    return [...this.valves.keys()].sort();
  }

  all(): RegisteredValve[] {
    return this.names().map((n) => this.valves.get(n) as RegisteredValve);
  }
}
