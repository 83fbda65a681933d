import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { COUNTERS, type CounterName, type Metrics } from '../engine/metrics.js';
import type { CompiledPipe, CompiledStep } from '../engine/pipe.js';
import type { RunObserver, StepOutcome } from '../engine/runner.js';
import type { CallEvent } from '../http/authentication.js';

/**
 * Every metric authpipe exports, on a Registry of its own (never prom-client's global one,
 * so two apps in one process, as in tests, do not collide). Label values come only from the
 * loaded config (tenant, operation, pipe, valve label) or from fixed vocabularies, never from
 * what a caller sent, so a caller cannot grow the series count.
 */
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const MAX_LABEL = 100;

export interface AppMetrics extends Metrics {
  readonly registry: Registry;
  /** Per-call: the calls counter and the pipe latency histogram. */
  callEnd(event: CallEvent): void;
  /** Per-step: the valve latency histogram and skip counter. */
  readonly steps: RunObserver;
  reloaded(result: 'success' | 'failure', version?: string): void;
}

export function outcomeOf(status: number): 'success' | 'refused' | 'fault' {
  return status === 200 ? 'success' : status === 500 ? 'fault' : 'refused';
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): AppMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'authpipe_' });

  const calls = new Counter({
    name: 'authpipe_calls_total',
    help: 'Calls answered on the authentication API, by tenant, operation, outcome (success, refused, fault) and error code.',
    labelNames: ['tenant', 'operation', 'outcome', 'code'],
    registers: [registry],
  });
  const pipeSeconds = new Histogram({
    name: 'authpipe_pipe_duration_seconds',
    help: 'Time from request to answer, by pipe (the operation) and outcome.',
    labelNames: ['pipe', 'outcome'],
    buckets: SECONDS,
    registers: [registry],
  });
  const valveSeconds = new Histogram({
    name: 'authpipe_valve_duration_seconds',
    help: 'Time spent in one valve step, by pipe, valve label and outcome (ran, refused, proceeded, fault).',
    labelNames: ['pipe', 'valve', 'outcome'],
    buckets: SECONDS,
    registers: [registry],
  });
  const valveSkips = new Counter({
    name: 'authpipe_valve_skips_total',
    help: 'Valve steps skipped by exec_if or skip_if, by pipe and valve label.',
    labelNames: ['pipe', 'valve'],
    registers: [registry],
  });
  const reloads = new Counter({
    name: 'authpipe_config_reloads_total',
    help: 'Config reloads, by result (success, failure).',
    labelNames: ['result'],
    registers: [registry],
  });
  const configInfo = new Gauge({
    name: 'authpipe_config_info',
    help: 'The active config version (always 1).',
    labelNames: ['version'],
    registers: [registry],
  });
  const counters = new Map<CounterName, Counter<string>>();
  for (const [name, spec] of Object.entries(COUNTERS) as [CounterName, (typeof COUNTERS)[CounterName]][]) {
    counters.set(name, new Counter({ name: `authpipe_${name}_total`, help: spec.help, labelNames: [...spec.labels], registers: [registry] }));
  }

  // Label objects are built once per step and outcome, not per call.
  const stepLabels = new WeakMap<CompiledStep, Map<string, Record<string, string>>>();
  const labelsOf = (pipe: CompiledPipe, step: CompiledStep, outcome: StepOutcome): Record<string, string> => {
    let byOutcome = stepLabels.get(step);
    if (!byOutcome) stepLabels.set(step, (byOutcome = new Map()));
    let labels = byOutcome.get(outcome);
    if (!labels) {
      labels = outcome === 'skipped' ? { pipe: pipe.id, valve: step.label } : { pipe: pipe.id, valve: step.label, outcome };
      byOutcome.set(outcome, labels);
    }
    return labels;
  };

  return {
    registry,
    inc(name, labels, by = 1) {
      try {
        const counter = counters.get(name);
        if (!counter || !(by >= 0)) return;
        const clean: Record<string, string> = {};
        for (const label of COUNTERS[name].labels) {
          const value = (labels as Record<string, string | undefined> | undefined)?.[label];
          clean[label] = value === undefined ? '' : String(value).slice(0, MAX_LABEL);
        }
        counter.inc(clean, by);
      } catch {
        // A metric must never fail a call.
      }
    },
    callEnd(event) {
      const outcome = outcomeOf(event.status);
      calls.inc({ tenant: event.tenant ?? '', operation: event.operation ?? '', outcome, code: event.code ?? '' });
      pipeSeconds.observe({ pipe: event.operation ?? '', outcome }, event.ms / 1000);
    },
    steps: {
      stepEnd(pipe, step, _ctx, outcome, ms) {
        if (outcome === 'skipped') valveSkips.inc(labelsOf(pipe, step, outcome));
        else valveSeconds.observe(labelsOf(pipe, step, outcome), ms / 1000);
      },
    },
    reloaded(result, version) {
      reloads.inc({ result });
      if (version !== undefined) {
        configInfo.reset();
        configInfo.set({ version }, 1);
      }
    },
  };
}
