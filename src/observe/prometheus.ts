import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { COUNTERS, type CounterName, type Metrics } from '../engine/metrics.js';
import type { CompiledPipe, CompiledStep } from '../engine/pipe.js';
import type { RunObserver, StepOutcome } from '../engine/runner.js';
import type { CallEvent } from '../engine/execute.js';
import type { ServerEdgeObservers } from '../http/server-edges.js';
import { HotCounter, HotHistogram, type CounterSeries, type HistogramSeries } from './hot-metrics.js';
import { droppedLineTotals } from './fd-writer.js';

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
  /** Open and refused connections of one listener (http/server-edges.ts). */
  connections(listener: string): ServerEdgeObservers;
}

/** A declared label's value as exported: absent is '', anything longer than MAX_LABEL is cut. */
function labelValue(labels: Record<string, string | undefined> | undefined, label: string): string {
  const value = labels?.[label];
  return value === undefined ? '' : String(value).slice(0, MAX_LABEL);
}

function outcomeOf(status: number): 'success' | 'refused' | 'fault' {
  return status === 200 ? 'success' : status === 500 ? 'fault' : 'refused';
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): AppMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'authpipe_' });

  const calls = new HotCounter(
    'authpipe_calls_total',
    'Calls answered, by tenant, operation, outcome (success, refused, fault), error code and door (put, hosted, token, dry-run).',
    registry,
  );
  const pipeSeconds = new HotHistogram(
    'authpipe_pipe_duration_seconds',
    'Time from request to answer, by pipe (the operation) and outcome.',
    registry,
    SECONDS,
  );
  const valveSeconds = new HotHistogram(
    'authpipe_valve_duration_seconds',
    'Time spent in one valve step, by pipe, valve label and outcome (ran, refused, proceeded, fault).',
    registry,
    SECONDS,
  );
  const valveSkips = new HotCounter(
    'authpipe_valve_skips_total',
    'Valve steps skipped by exec_if or skip_if, by pipe and valve label.',
    registry,
  );
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
    // Under --workers: still 1 per version, not one per worker (two versions while a reload spreads).
    aggregator: 'max',
    registers: [registry],
  });
  new Counter({
    name: 'authpipe_log_lines_dropped_total',
    help: 'Log and audit lines dropped because their destination (stdout, stderr or a file) was not read while 64 MiB waited for it.',
    labelNames: ['destination'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [destination, lines] of droppedLineTotals()) this.inc({ destination: destination.slice(0, MAX_LABEL) }, lines);
    },
  });
  const connectionsOpen = new Gauge({
    name: 'authpipe_http_connections',
    help: 'Open client connections, by listener.',
    labelNames: ['listener'],
    registers: [registry],
  });
  const connectionsRefused = new Counter({
    name: 'authpipe_http_connections_refused_total',
    help: 'Connections refused by a cap, by listener and reason (total: max_connections; per_address: max_connections_per_address).',
    labelNames: ['listener', 'reason'],
    registers: [registry],
  });
  const connectionsClosed = new Counter({
    name: 'authpipe_http_connections_closed_total',
    help: 'Connections the server closed for sending no whole request head in time (head_timeout: head_timeout_ms) or for idling after an answer (idle_timeout: idle_timeout_ms), by listener and reason.',
    labelNames: ['listener', 'reason'],
    registers: [registry],
  });
  // The declared counters are hot ones too: token-mint counts every token it signs. A series
  // is found through one map per label, by each value as given: a key joined from the values
  // would be a new string on every call, hashed anew for its lookup.
  interface Declared {
    readonly metric: HotCounter;
    readonly labels: readonly string[];
    /** Label value -> the next label's map, and the last label's value -> the series; '' holds a counter without labels. */
    readonly series: Map<string, unknown>;
  }
  const counters = new Map<CounterName, Declared>();
  for (const [name, spec] of Object.entries(COUNTERS) as [CounterName, (typeof COUNTERS)[CounterName]][]) {
    const metric = new HotCounter(`authpipe_${name}_total`, spec.help, registry);
    const declared: Declared = { metric, labels: spec.labels, series: new Map() };
    // A counter without labels shows 0 from the start, as prom-client's does.
    if (spec.labels.length === 0) declared.series.set('', metric.series({}));
    counters.set(name, declared);
  }

  // Series are found once per label set, then kept: per step (WeakMap, so a reload's old
  // steps go with their config) and per tenant / operation / code.
  const stepSeries = new WeakMap<CompiledStep, Partial<Record<StepOutcome, HistogramSeries | CounterSeries>>>();
  const seriesOf = (pipe: CompiledPipe, step: CompiledStep, outcome: StepOutcome) => {
    let byOutcome = stepSeries.get(step);
    if (!byOutcome) stepSeries.set(step, (byOutcome = {}));
    let series = byOutcome[outcome];
    if (!series) {
      series =
        outcome === 'skipped'
          ? valveSkips.series({ pipe: pipe.id, valve: step.label })
          : valveSeconds.series({ pipe: pipe.id, valve: step.label, outcome });
      byOutcome[outcome] = series;
    }
    return series;
  };
  // door -> tenant -> operation -> code: one lookup per level, no key strings built per call.
  const callSeries = new Map<string, Map<string, Map<string, Map<string, { calls: CounterSeries; seconds: HistogramSeries }>>>>();
  const level = <V>(map: Map<string, V>, key: string, make: () => V): V => {
    let value = map.get(key);
    if (value === undefined) map.set(key, (value = make()));
    return value;
  };
  const callSeriesOf = (event: CallEvent) => {
    const tenant = event.tenant ?? '';
    const operation = event.operation ?? '';
    const code = event.code ?? '';
    const byCode = level(
      level(
        level(callSeries, event.door, () => new Map()),
        tenant,
        () => new Map(),
      ),
      operation,
      () => new Map(),
    );
    let series = byCode.get(code);
    if (!series) {
      const outcome = outcomeOf(event.status);
      series = {
        calls: calls.series({ tenant, operation, outcome, code, door: event.door }),
        seconds: pipeSeconds.series({ pipe: operation, outcome }),
      };
      byCode.set(code, series);
    }
    return series;
  };

  return {
    registry,
    inc(name, labels, by = 1) {
      try {
        const counter = counters.get(name);
        if (!counter || !(by >= 0)) return;
        const given = labels as Record<string, string | undefined> | undefined;
        const names = counter.labels;
        let level = counter.series;
        let value = names.length === 0 ? '' : labelValue(given, names[0] as string);
        for (let i = 1; i < names.length; i++) {
          let next = level.get(value) as Map<string, unknown> | undefined;
          if (!next) level.set(value, (next = new Map()));
          level = next;
          value = labelValue(given, names[i] as string);
        }
        let series = level.get(value) as CounterSeries | undefined;
        if (!series) {
          const clean: Record<string, string> = {};
          for (const label of names) clean[label] = labelValue(given, label);
          series = counter.metric.series(clean);
          level.set(value, series);
        }
        series.value += by;
      } catch {
        // A metric must never fail a call.
      }
    },
    callEnd(event) {
      const series = callSeriesOf(event);
      series.calls.value += 1;
      series.seconds.observe(event.ms / 1000);
    },
    steps: {
      stepEnd(pipe, step, _ctx, outcome, ms) {
        const series = seriesOf(pipe, step, outcome);
        if (outcome === 'skipped') (series as CounterSeries).value += 1;
        else (series as HistogramSeries).observe(ms / 1000);
      },
    },
    connections(listener) {
      const label = listener.slice(0, MAX_LABEL);
      return {
        refused: (reason) => connectionsRefused.inc({ listener: label, reason }),
        closed: (reason) => connectionsClosed.inc({ listener: label, reason }),
        open: (count) => connectionsOpen.set({ listener: label }, count),
      };
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
