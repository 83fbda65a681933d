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
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/**
 * `useDefaults` for config files: every `default` in a schema is written into the data as it
 * is validated, once at load, so code reads `config.x` and never repeats a default. Ajv does
 * not apply defaults under `oneOf`/`anyOf`/`not` (strict mode refuses such a schema), and
 * applies those in an `if`/`then` branch only when the branch matches: that is how a default
 * that depends on another option is written (token-mint's ttl per kind). Off for request
 * bodies, which must be validated as sent.
 */
export function newAjv(options: { useDefaults?: boolean } = {}): Ajv2020 {
  return addFormats(new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: options.useDefaults === true }));
}

export class ValveRegistry {
  private readonly valves = new Map<string, RegisteredValve>();
  private readonly ajv = newAjv({ useDefaults: true });

  constructor(definitions: readonly ValveDefinition<never>[]) {
    for (const def of definitions) this.register(def as unknown as ValveDefinition<unknown>);
  }

  private register(definition: ValveDefinition<unknown>): void {
    if (this.valves.has(definition.name)) throw new Error(`valve "${definition.name}" is registered twice`);
    const validate = this.ajv.compile(definition.configSchema);
    this.valves.set(definition.name, { definition, validate });
  }

  get(name: string): RegisteredValve | undefined {
    return this.valves.get(name);
  }

  names(): string[] {
    return [...this.valves.keys()].sort();
  }

  all(): RegisteredValve[] {
    return this.names().map((n) => this.valves.get(n) as RegisteredValve);
  }
}
