import { compileCondition, ConditionSyntaxError, type Condition } from './condition.js';
import type { CompiledPipe, CompiledStep } from './pipe.js';
import type { ValveRegistry } from './registry.js';
import { runSteps } from './runner.js';
import type { Services } from './services.js';
import { compileTemplate, TemplateSyntaxError } from './template.js';
import type { CallContext, CompileTools } from './valve.js';
import { ajvIssues } from '../config/ajv-issues.js';
import { pointer, type ConfigIssue } from '../config/issues.js';
import type { PipeConfig } from '../config/pipe-schema.js';

/**
 * Compiles validated pipe files into CompiledPipes: each valve's config is checked against
 * its own schema, then `create` turns it into the per-call function. Templates and
 * conditions are compiled here, once. Problems are collected as issues, never thrown.
 */

class CompileFailure extends Error {
  constructor(readonly pointer: string, message: string) {
    super(message);
  }
}

export interface PipeSource {
  file: string;
  config: PipeConfig;
}

export interface CompileResult {
  pipes: Map<string, CompiledPipe>;
  /** Pipe id to the pipes its valves call, for the cycle check. */
  calls: Map<string, { target: string; pointer: string }[]>;
}

export function compilePipes(sources: readonly PipeSource[], registry: ValveRegistry, services: Services, issues: ConfigIssue[]): CompileResult {
  const pipes = new Map<string, CompiledPipe>();
  const calls = new Map<string, { target: string; pointer: string }[]>();
  for (const source of sources) {
    const pipeCalls: { target: string; pointer: string }[] = [];
    const steps = compileSteps(source, registry, services, issues, pipes, pipeCalls);
    calls.set(source.config.id, pipeCalls);
    pipes.set(source.config.id, {
      id: source.config.id,
      description: source.config.description ?? '',
      file: source.file,
      steps,
      response: source.config.response,
    });
  }
  return { pipes, calls };
}

function compileSteps(
  source: PipeSource,
  registry: ValveRegistry,
  services: Services,
  issues: ConfigIssue[],
  pipes: ReadonlyMap<string, CompiledPipe>,
  pipeCalls: { target: string; pointer: string }[],
): CompiledStep[] {
  const { file, config } = source;
  const steps: CompiledStep[] = [];
  config.valves.forEach((valve, index) => {
    const at = pointer('valves', index);
    const registered = registry.get(valve.name);
    if (!registered) {
      issues.push({ file, pointer: `${at}/name`, code: 'CONFIG_REFERENCE', message: `unknown valve "${valve.name}"; registered valves: ${registry.names().join(', ')}` });
      return;
    }
    const valveConfig = valve.config ?? {};
    if (!registered.validate(valveConfig)) {
      issues.push(...ajvIssues(file, `${at}/config`, registered.validate.errors));
      return;
    }
    const { definition } = registered;
    for (const target of definition.references?.(valveConfig)?.pipes ?? []) pipeCalls.push({ target, pointer: `${at}/config` });
    if (!valve.enabled) return;
    try {
      const execIf = optionalCondition(valve.exec_if, `${at}/exec_if`);
      const skipIf = optionalCondition(valve.skip_if, `${at}/skip_if`);
      const run = definition.create(valveConfig, tools(`${at}/config`, services, pipes));
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
    } catch (err) {
      if (err instanceof CompileFailure) issues.push({ file, pointer: err.pointer, message: err.message });
      else issues.push({ file, pointer: `${at}/config`, message: `valve "${valve.name}" could not be built: ${(err as Error).message}` });
    }
  });
  return steps;
}

function optionalCondition(expr: unknown, at: string): Condition | null {
  if (expr === undefined) return null;
  try {
    return compileCondition(expr);
  } catch (err) {
    if (err instanceof ConditionSyntaxError) throw new CompileFailure(at, err.message);
    throw err;
  }
}

function tools(base: string, services: Services, pipes: ReadonlyMap<string, CompiledPipe>): CompileTools {
  return {
    services,
    template(source, at) {
      try {
        return compileTemplate(source);
      } catch (err) {
        if (err instanceof TemplateSyntaxError) throw new CompileFailure(base + at, err.message);
        throw err;
      }
    },
    condition(expr, at) {
      try {
        return compileCondition(expr);
      } catch (err) {
        if (err instanceof ConditionSyntaxError) throw new CompileFailure(base + at, err.message);
        throw err;
      }
    },
    pipe(id) {
      // Resolved at call time: the target may be compiled after the caller.
      return {
        run(ctx: CallContext) {
          const target = pipes.get(id);
          if (!target) throw new Error(`pipe "${id}" is not loaded`);
          return runSteps(target, ctx);
        },
      };
    },
    fail(at, message): never {
      throw new CompileFailure(base + at, message);
    },
  };
}
