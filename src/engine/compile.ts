import { compileCondition, conditionVars, constantTruth, ConditionSyntaxError, type Condition } from './condition.js';
import { UNDECLARED, type Place, type ValveDataflow } from './dataflow.js';
import type { CompiledPipe, CompiledStep } from './pipe.js';
import type { ValveRegistry } from './registry.js';
import { runSteps } from './runner.js';
import type { Services } from './services.js';
import { compileTemplate, TemplateSyntaxError } from './template.js';
import type { CallContext, CompileTools } from './valve.js';
import { ajvIssues } from '../config-kit/ajv-issues.js';
import { pointer, type ConfigIssue } from '../config-kit/issues.js';
import type { PipeConfig } from './pipe-schema.js';
import type { ConfigIssueCode } from '../errors.js';

/**
 * Compiles validated pipe files into CompiledPipes: each valve's config is checked against
 * its own schema, then `create` turns it into the per-call function. Templates and
 * conditions are compiled here, once. Problems are collected as issues, never thrown.
 */

class CompileFailure extends Error {
  constructor(
    readonly pointer: string,
    message: string,
    readonly code: ConfigIssueCode,
  ) {
    super(message);
  }
}

type PipeLookup = (id: string) => CompiledPipe | undefined;

export interface PipeSource {
  file: string;
  config: PipeConfig;
}

export interface CompileResult {
  pipes: Map<string, CompiledPipe>;
  /** Pipe id to the pipes its valves call, for the cycle check. */
  calls: Map<string, { target: string; pointer: string }[]>;
  /** What each pipe's steps read and declare, for the pipe check (config/pipe-check.ts). */
  facts: Map<string, PipeFacts>;
}

/** One reference a template or condition makes, with where it is written. */
export interface ReadFact {
  /** Absolute pointer in the pipe file. */
  readonly pointer: string;
  readonly root: string;
  readonly key: string | null;
  /** A template the valve supplies by default (not written in the file), or a `var` with a default. */
  readonly optional: boolean;
  readonly condition: boolean;
  /** The whole template (or the var path), for messages. */
  readonly source: string;
  /** True when the template is exactly this one reference. */
  readonly sole: boolean;
}

export interface StepFacts {
  readonly index: number;
  readonly pointer: string;
  readonly valve: string;
  /** The step label (its `id`, else `<index>:<valve>`): what `error.valve` holds. */
  readonly label: string;
  /** Which condition makes the step conditional, if any. */
  readonly conditional: 'exec_if' | 'skip_if' | null;
  /** The step's exec_if/skip_if as one string, to tell steps under the same condition. */
  readonly conditionKey: string | null;
  /** The label L when the step runs exactly when step L refused (`exec_if` error.valve == L). */
  readonly onFailureOf: string | null;
  /** Why the step can never run, when its condition is a constant that says so. */
  readonly never: string | null;
  readonly proceedOnError: boolean;
  readonly reads: readonly ReadFact[];
  readonly dataflow: ValveDataflow;
  /** Properties the pipe's author declared this step sets (`sets` on the step). */
  readonly declared: readonly { readonly place: Place; readonly name: string; readonly pointer: string }[];
}

export interface PipeFacts {
  readonly id: string;
  readonly file: string;
  readonly steps: readonly StepFacts[];
  readonly response: readonly string[];
}

/**
 * `inherited` are pipes compiled before, which these may call but not replace the meaning of:
 * a tenant's own pipes are compiled over the shared ones, and a call from them resolves to
 * the tenant's pipe of that id first.
 */
export function compilePipes(
  sources: readonly PipeSource[],
  registry: ValveRegistry,
  services: Services,
  issues: ConfigIssue[],
  warnings: ConfigIssue[],
  inherited?: ReadonlyMap<string, CompiledPipe>,
): CompileResult {
  const pipes = new Map<string, CompiledPipe>();
  const lookup = (id: string) => pipes.get(id) ?? inherited?.get(id);
  const calls = new Map<string, { target: string; pointer: string }[]>();
  const facts = new Map<string, PipeFacts>();
  for (const source of sources) {
    const pipeCalls: { target: string; pointer: string }[] = [];
    const stepFacts: StepFacts[] = [];
    const steps = compileSteps(source, registry, services, issues, warnings, lookup, pipeCalls, stepFacts);
    calls.set(source.config.id, pipeCalls);
    facts.set(source.config.id, { id: source.config.id, file: source.file, steps: stepFacts, response: source.config.response });
    pipes.set(source.config.id, {
      id: source.config.id,
      description: source.config.description ?? '',
      file: source.file,
      steps,
      response: source.config.response,
    });
  }
  return { pipes, calls, facts };
}

function compileSteps(
  source: PipeSource,
  registry: ValveRegistry,
  services: Services,
  issues: ConfigIssue[],
  warnings: ConfigIssue[],
  pipes: PipeLookup,
  pipeCalls: { target: string; pointer: string }[],
  stepFacts: StepFacts[],
): CompiledStep[] {
  const { file, config } = source;
  const steps: CompiledStep[] = [];
  config.valves.forEach((valve, index) => {
    const at = pointer('valves', index);
    const registered = registry.get(valve.name);
    if (!registered) {
      issues.push({
        file,
        pointer: `${at}/name`,
        code: 'CONFIG_REFERENCE',
        message: `unknown valve "${valve.name}"; registered valves: ${registry.names().join(', ')}`,
      });
      return;
    }
    if (registered.formerName !== undefined)
      warnings.push({
        file,
        pointer: `${at}/name`,
        code: 'CONFIG_DEPRECATED',
        message: `valve "${registered.formerName}" is now called "${registered.definition.name}"; the old name works for this release only`,
      });
    const valveConfig = valve.config ?? {};
    // As written, before validation can fill in defaults: a template the file does not hold is the valve's own default.
    const written = structuredClone(valveConfig);
    if (!registered.validate(valveConfig)) {
      issues.push(...ajvIssues(file, `${at}/config`, registered.validate.errors));
      return;
    }
    const { definition } = registered;
    for (const target of definition.references?.(valveConfig)?.pipes ?? []) pipeCalls.push({ target, pointer: `${at}/config` });
    if (!valve.enabled) return;
    const reads: ReadFact[] = [];
    try {
      const execIf = optionalCondition(valve.exec_if, `${at}/exec_if`);
      const skipIf = optionalCondition(valve.skip_if, `${at}/skip_if`);
      if (valve.exec_if !== undefined) reads.push(...conditionReads(valve.exec_if, `${at}/exec_if`));
      if (valve.skip_if !== undefined) reads.push(...conditionReads(valve.skip_if, `${at}/skip_if`));
      const run = definition.create(valveConfig, tools(`${at}/config`, services, pipes, written, reads));
      steps.push({
        index,
        valve: valve.name,
        label: valve.id ?? `${index}:${valve.name}`,
        run,
        execIf,
        skipIf,
        proceedOnError: valve.proceed_on_error,
        conditionSource: { exec_if: valve.exec_if, skip_if: valve.skip_if },
      });
      const execTruth = valve.exec_if === undefined ? undefined : constantTruth(valve.exec_if);
      const skipTruth = valve.skip_if === undefined ? undefined : constantTruth(valve.skip_if);
      stepFacts.push({
        index,
        pointer: at,
        valve: valve.name,
        label: valve.id ?? `${index}:${valve.name}`,
        conditionKey:
          valve.exec_if === undefined && valve.skip_if === undefined
            ? null
            : JSON.stringify([valve.exec_if ?? null, valve.skip_if ?? null]),
        onFailureOf: valve.skip_if === undefined ? failureOf(valve.exec_if) : null,
        conditional: valve.exec_if !== undefined ? 'exec_if' : valve.skip_if !== undefined ? 'skip_if' : null,
        never: execTruth === false ? 'its exec_if is always false' : skipTruth === true ? 'its skip_if is always true' : null,
        proceedOnError: valve.proceed_on_error === true,
        reads,
        dataflow: definition.dataflow?.(valveConfig) ?? UNDECLARED,
        declared: (valve.sets ?? []).map((entry, i) => {
          const [place, name] = entry.split('.', 2) as [Place, string];
          return { place, name, pointer: `${at}/sets/${i}` };
        }),
      });
    } catch (err) {
      if (err instanceof CompileFailure) issues.push({ file, pointer: err.pointer, message: err.message, code: err.code });
      else
        issues.push({
          file,
          pointer: `${at}/config`,
          message: `valve "${valve.name}" could not be built: ${(err as Error).message}`,
          code: 'CONFIG_INVALID',
        });
    }
  });
  return steps;
}

function optionalCondition(expr: unknown, at: string): Condition | null {
  if (expr === undefined) return null;
  try {
    return compileCondition(expr);
  } catch (err) {
    if (err instanceof ConditionSyntaxError) throw new CompileFailure(at, err.message, 'CONFIG_INVALID');
    throw err;
  }
}

/** `{"==": [{"var": "error.valve"}, "L"]}` (either order, or ===): the label L, else null. */
function failureOf(expr: unknown): string | null {
  if (expr === null || typeof expr !== 'object' || Array.isArray(expr)) return null;
  const entries = Object.entries(expr);
  if (entries.length !== 1) return null;
  const [op, args] = entries[0] as [string, unknown];
  if ((op !== '==' && op !== '===') || !Array.isArray(args) || args.length !== 2) return null;
  const isVar = (v: unknown) => v !== null && typeof v === 'object' && (v as { var?: unknown }).var === 'error.valve';
  if (isVar(args[0]) && typeof args[1] === 'string') return args[1];
  if (isVar(args[1]) && typeof args[0] === 'string') return args[0];
  return null;
}

function conditionReads(expr: unknown, at: string): ReadFact[] {
  return conditionVars(expr).map((v) => {
    const [root, ...rest] = v.path.split('.');
    return {
      pointer: at,
      root: root as string,
      key: rest.length > 0 ? rest.join('.') : null,
      optional: v.hasDefault,
      condition: true,
      source: v.path,
      sole: true,
    };
  });
}

/** Whether the valve config as written holds a value at `at` (a JSON pointer). */
function written(config: unknown, at: string): boolean {
  let node: unknown = config;
  for (const token of at.split('/').slice(1)) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

function tools(base: string, services: Services, pipes: PipeLookup, raw: unknown, reads: ReadFact[]): CompileTools {
  return {
    services,
    template(source, at) {
      try {
        const template = compileTemplate(source);
        const optional = !written(raw, at);
        for (const [root, key] of template.refs) {
          reads.push({
            pointer: base + at,
            root,
            key,
            optional,
            condition: false,
            source,
            sole: template.refs.length === 1 && source.trim().startsWith('{{') && source.trim().endsWith('}}'),
          });
        }
        return template;
      } catch (err) {
        if (err instanceof TemplateSyntaxError) throw new CompileFailure(base + at, err.message, 'CONFIG_INVALID');
        throw err;
      }
    },
    condition(expr, at) {
      try {
        const condition = compileCondition(expr);
        reads.push(...conditionReads(expr, base + at));
        return condition;
      } catch (err) {
        if (err instanceof ConditionSyntaxError) throw new CompileFailure(base + at, err.message, 'CONFIG_INVALID');
        throw err;
      }
    },
    pipe(id) {
      // Resolved at call time: the target may be compiled after the caller.
      return {
        run(ctx: CallContext) {
          const target = pipes(id);
          if (!target) throw new Error(`pipe "${id}" is not loaded`);
          return runSteps(target, ctx);
        },
      };
    },
    fail(at, message, code): never {
      throw new CompileFailure(base + at, message, code);
    },
    own(resource) {
      // Hand-built Services (a test's) carry no runtime: nothing could ever close the resource.
      if (!services.runtime)
        throw new CompileFailure(base, 'this valve holds a resource, and these services own none (no runtime)', 'CONFIG_INVALID');
      return services.runtime.own(resource);
    },
  };
}
