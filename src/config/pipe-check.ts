/**
 * The load-time pipe check: follows each pipe top to bottom, into the pipes it calls, with
 * what the request, each valve's declaration (engine/dataflow.ts) and the author's `sets`
 * say is known at each step, and reports what a caller would otherwise find out:
 * - errors: a template or json-logic `var` reading a property no earlier valve sets (or a
 *   request property a strict input-validate rules out), a `response` name nothing sets, a
 *   directory lookup whose value is always of another kind (a store id looked up as a
 *   mobile), valves that can never run, a flow-restore nothing saves for, a flow-save naming
 *   an operation that cannot continue it;
 * - warnings: a template reading a property set only conditionally (behind exec_if/skip_if,
 *   after a refusal a valve let through, or only for some data).
 * Each message names the property and the valves that set it or something like it.
 */
import { RESERVED_REQUEST_NAMES } from '../engine/context.js';
import type { PipeFacts, ReadFact, StepFacts } from '../engine/compile.js';
import type { Place, ValueKind } from '../engine/dataflow.js';
import type { ConfigIssue } from '../config-kit/issues.js';
import type { ConfigIssueCode } from '../errors.js';

type Reason = 'condition' | 'data' | null;

interface Setter {
  /** For a setter of names from data: the prefix they all start with. */
  readonly prefix?: string;
  readonly valve: string;
  readonly file: string;
  readonly pointer: string;
  /** Why it may not set the property: a condition on the step, or the data. null: always. */
  readonly reason: Reason;
  /** The condition of its step (StepFacts.conditionKey) when that is the only reason. */
  readonly conditionKey?: string | null;
  /** `ok:L`: set by step L when L did not refuse (proceed_on_error); `failed:L`: set by a step that runs only when L refused. */
  readonly branch?: string;
}

interface Known {
  always: boolean;
  setters: Setter[];
  /** What the value is; null when some setter does not say. */
  kinds: Set<ValueKind> | null;
}

class State {
  /** The setters of data-named properties that could have set `name`. */
  anyFor(place: Place, name: string): Setter[] {
    return this.any[place].filter((s) => name.startsWith(s.prefix ?? ''));
  }

  props = new Map<string, Known>();
  any: Record<Place, Setter[]> = { item: [], session: [] };
  requestOnly: { names: ReadonlySet<string>; setter: Setter } | null = null;
  errorSetters: Setter[] = [];
  ended: Setter | null = null;

  clone(): State {
    const copy = new State();
    for (const [k, v] of this.props) copy.props.set(k, { always: v.always, setters: [...v.setters], kinds: v.kinds && new Set(v.kinds) });
    copy.any = { item: [...this.any.item], session: [...this.any.session] };
    copy.requestOnly = this.requestOnly;
    copy.errorSetters = [...this.errorSetters];
    copy.ended = this.ended;
    return copy;
  }

  set(place: Place, name: string, setter: Setter, kinds: Set<ValueKind> | null, always: boolean): void {
    const key = `${place}.${name}`;
    const known = this.props.get(key);
    if (!known) {
      this.props.set(key, { always, setters: [setter], kinds });
      return;
    }
    known.always ||= always;
    known.setters.push(setter);
    // Set both when step L succeeded and by the step that runs when L refused: set either way.
    if (!known.always && setter.branch) {
      const [side, label] = setter.branch.split(':', 2) as [string, string];
      const other = `${side === 'ok' ? 'failed' : 'ok'}:${label}`;
      if (known.setters.some((s) => s.branch === other)) known.always = true;
    }
    known.kinds = known.kinds && kinds ? new Set([...known.kinds, ...kinds]) : null;
  }
}

interface Report {
  /** An issue; CONFIG_DATAFLOW unless `code` says another kind. */
  error(file: string, pointer: string, message: string, code?: ConfigIssueCode): void;
  warning(file: string, pointer: string, message: string): void;
}

interface Walk {
  /** The operation the call runs (what flow-restore is continued by). */
  operation: string;
  /** Pipes being walked, outermost first: guards against cycles (reported elsewhere). */
  stack: string[];
  /** " (when X calls it at /valves/n)" for issues inside a called pipe. */
  via: string;
}

type SavedNames = Map<string, { always: boolean; kinds: Set<ValueKind> | null }>;

export function checkPipes(
  facts: ReadonlyMap<string, PipeFacts>,
  operations: ReadonlySet<string>,
  issues: ConfigIssue[],
  warnings: ConfigIssue[],
): void {
  const called = new Set<string>();
  for (const pipe of facts.values()) for (const step of pipe.steps) if (step.dataflow.calls) called.add(step.dataflow.calls);
  // A pipe only ever called by others is checked where it is called, with its caller's state.
  const roots = [...facts.keys()].filter((id) => operations.has(id) || !called.has(id));

  // First pass: what each flow-save saves, as known where it saves.
  const saved = new Map<StepFacts, SavedNames>();
  const silent: Report = { error() {}, warning() {} };
  for (const id of roots) walkPipe(facts, id, new State(), { operation: id, stack: [id], via: '' }, silent, saved, null);

  const seen = new Set<string>();
  const push = (list: ConfigIssue[], file: string, pointer: string, message: string, code: ConfigIssueCode) => {
    const key = `${file}\n${pointer}\n${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    list.push({ file, pointer, message, code });
  };
  const report: Report = {
    error: (f, p, m, code = 'CONFIG_DATAFLOW') => push(issues, f, p, m, code),
    warning: (f, p, m) => push(warnings, f, p, m, 'CONFIG_DATAFLOW'),
  };
  for (const id of roots) {
    const pipe = facts.get(id) as PipeFacts;
    const end = walkPipe(facts, id, new State(), { operation: id, stack: [id], via: '' }, report, new Map(), saved);
    checkResponse(pipe, end, report);
  }
  for (const pipe of facts.values()) checkFlowLinks(pipe, facts, report);
}

function walkPipe(
  facts: ReadonlyMap<string, PipeFacts>,
  id: string,
  state: State,
  walk: Walk,
  report: Report,
  saves: Map<StepFacts, SavedNames>,
  saved: Map<StepFacts, SavedNames> | null,
): State {
  const pipe = facts.get(id);
  if (!pipe) return state;
  const { file } = pipe;
  for (const step of pipe.steps) {
    if (state.ended) {
      report.error(
        file,
        step.pointer,
        `${step.valve} is unreachable: ${state.ended.valve} at ${state.ended.file === file ? '' : `${state.ended.file} `}${state.ended.pointer} always refuses before it${walk.via}`,
      );
      return state;
    }
    if (step.never) {
      report.error(file, step.pointer, `${step.valve} never runs: ${step.never}${walk.via}`);
      continue;
    }
    const reason: Reason = step.conditional || step.proceedOnError ? 'condition' : null;
    const branch =
      step.conditional === null && step.proceedOnError
        ? `ok:${step.label}`
        : step.onFailureOf !== null && !step.proceedOnError
          ? `failed:${step.onFailureOf}`
          : undefined;
    const setter = (why: Reason = reason): Setter => ({
      valve: step.valve,
      file,
      pointer: step.pointer,
      reason: why,
      ...(why === 'condition' && !step.proceedOnError ? { conditionKey: step.conditionKey } : {}),
      ...(why === 'condition' && branch !== undefined ? { branch } : {}),
    });
    const flow = step.dataflow;

    for (const read of step.reads) checkRead(read, step, state, file, walk, report);
    for (const read of flow.reads ?? [])
      checkRead(
        {
          pointer: `${step.pointer}/config${read.pointer}`,
          root: read.place,
          key: read.name,
          optional: false,
          condition: false,
          source: `${read.place}.${read.name}`,
          sole: true,
        },
        step,
        state,
        file,
        walk,
        report,
      );
    for (const lookup of flow.lookups ?? []) checkLookup(step, lookup, state, file, walk, report);

    if (flow.calls && facts.has(flow.calls) && !walk.stack.includes(flow.calls)) {
      const via = `${walk.via} (when ${id} calls it at ${step.pointer})`;
      // A conditional call may not happen: what it sets is then only maybe set, and it cannot end the pipe.
      const before = reason === null ? null : state.clone();
      const after = walkPipe(
        facts,
        flow.calls,
        before === null ? state : state.clone(),
        { operation: walk.operation, stack: [...walk.stack, flow.calls], via },
        report,
        saves,
        saved,
      );
      if (before !== null) {
        for (const [key, known] of after.props) {
          if (before.props.get(key)?.always) continue;
          known.always = false;
          known.setters = known.setters.map((s) => (s.reason === null ? { ...s, reason: 'condition' } : s));
        }
        after.ended = null;
      }
      state = after;
    }
    if (flow.saves) {
      const names: SavedNames = new Map();
      flow.saves.names.forEach((name, i) => {
        const known = state.props.get(`${flow.saves?.place}.${name}`);
        if (known) names.set(name, { always: known.always, kinds: known.kinds });
        else if (state.anyFor(flow.saves?.place ?? 'item', name).length > 0) names.set(name, { always: false, kinds: null });
        else
          report.error(
            file,
            `${step.pointer}/config${flow.saves?.pointer}/${i}`,
            `saves ${flow.saves?.place}.${name}, which no earlier valve sets${hint(state, flow.saves?.place ?? 'item', name)}${walk.via}`,
          );
      });
      saves.set(step, names);
    }
    if (flow.restores) restore(step, flow.restores, state, setter(), facts, walk, report, saved, file);
    for (const copy of flow.copies ?? []) {
      const from = state.props.get(`${copy.from.place}.${copy.from.name}`);
      if (!from && state.anyFor(copy.from.place, copy.from.name).length === 0) {
        report.error(
          file,
          `${step.pointer}/config${copy.pointer}`,
          `copies ${copy.from.place}.${copy.from.name}, which no earlier valve sets${hint(state, copy.from.place, copy.from.name)}${walk.via}`,
        );
      }
      state.set(
        copy.to.place,
        copy.to.name,
        setter(from?.always ? reason : (reason ?? 'data')),
        from?.kinds ?? null,
        reason === null && (from?.always ?? false),
      );
    }
    for (const set of flow.sets ?? []) {
      const why: Reason = reason ?? (set.maybe ? 'data' : null);
      // A set that depends on the data is never "set either way" by branches or a shared condition.
      const by: Setter = set.maybe ? { valve: step.valve, file, pointer: step.pointer, reason: why } : setter(why);
      state.set(set.place, set.name, by, set.kind ? new Set([set.kind]) : null, why === null);
    }
    for (const any of flow.setsAny ?? []) state.any[any.place].push({ ...setter(reason ?? 'data'), prefix: any.prefix ?? '' });
    for (const remove of flow.removes ?? []) if (reason === null) state.props.delete(`${remove.place}.${remove.name}`);
    for (const declared of step.declared)
      state.set(declared.place, declared.name, { valve: step.valve, file, pointer: declared.pointer, reason }, null, reason === null);
    if (flow.requestOnly && reason === null) state.requestOnly = { names: new Set(flow.requestOnly), setter: setter() };
    if (step.proceedOnError) state.errorSetters.push(setter());
    if (flow.alwaysRefuses && reason === null) state.ended = setter();
  }
  return state;
}

function restore(
  step: StepFacts,
  into: { place: Place; prefix: string },
  state: State,
  setter: Setter,
  facts: ReadonlyMap<string, PipeFacts>,
  walk: Walk,
  report: Report,
  saved: Map<StepFacts, SavedNames> | null,
  file: string,
): void {
  if (saved === null) {
    // First pass: not yet known what is saved for this operation.
    state.any[into.place].push({ ...setter, reason: 'data', prefix: into.prefix });
    return;
  }
  const savers = [...facts.values()].flatMap((p) => p.steps.filter((s) => s.dataflow.saves?.operations.includes(walk.operation)));
  if (savers.length === 0) {
    report.error(file, step.pointer, `restores a flow, but no flow-save lists operation "${walk.operation}" in continue_with${walk.via}`);
    return;
  }
  const union = new Map<string, { always: boolean; kinds: Set<ValueKind> | null; count: number }>();
  for (const saver of savers) {
    for (const [name, info] of saved.get(saver) ?? []) {
      const seen = union.get(name);
      if (!seen) union.set(name, { always: info.always, kinds: info.kinds, count: 1 });
      else
        union.set(name, {
          always: seen.always && info.always,
          kinds: seen.kinds && info.kinds ? new Set([...seen.kinds, ...info.kinds]) : null,
          count: seen.count + 1,
        });
    }
  }
  for (const [name, info] of union) {
    const always = setter.reason === null && info.always && info.count === savers.length;
    state.set(into.place, into.prefix + name, { ...setter, reason: always ? null : (setter.reason ?? 'data') }, info.kinds, always);
  }
}

const TENANT_KEYS = new Set(['id', 'displayName']);
const ERROR_KEYS = new Set(['code', 'valve']);

function checkRead(read: ReadFact, step: StepFacts, state: State, file: string, walk: Walk, report: Report): void {
  const what = read.condition
    ? `its condition reads "${read.source}"`
    : `"${read.source}" reads ${read.root}${read.key === null ? '' : `.${read.key}`}`;
  switch (read.root) {
    case 'request':
      if (read.key !== null && state.requestOnly && !state.requestOnly.names.has(read.key) && !RESERVED_REQUEST_NAMES.has(read.key)) {
        const only = state.requestOnly;
        report.error(
          file,
          read.pointer,
          `${what}, but input-validate at ${only.setter.pointer} is strict and allows only ${[...only.names].join(', ')}${walk.via}`,
        );
      }
      return;
    case 'item':
    case 'session': {
      if (read.key === null) return;
      const known = state.props.get(`${read.root}.${read.key}`);
      if (!known) {
        const any = state.anyFor(read.root, read.key);
        if (any.length > 0) {
          if (!read.condition && !read.optional)
            report.warning(file, read.pointer, `${what}, which only ${setters(any)} may set, from its data${walk.via}`);
          return;
        }
        if (read.optional && !read.condition) return;
        report.error(file, read.pointer, `${what}, which no earlier valve sets${hint(state, read.root, read.key)}${walk.via}`);
        return;
      }
      // A step under the same condition as a setter runs only when that setter ran.
      const sameCondition =
        step.conditionKey !== null &&
        read.pointer !== `${step.pointer}/${step.conditional}` &&
        known.setters.some((s) => s.conditionKey === step.conditionKey);
      if (!known.always && !sameCondition && !read.condition && !read.optional) {
        report.warning(file, read.pointer, `${what}, which is set only conditionally: by ${setters(known.setters)}${walk.via}`);
      }
      return;
    }
    case 'tenant':
      if (read.key === null || !TENANT_KEYS.has(read.key))
        report.error(file, read.pointer, `${what}; tenant has only id and displayName${walk.via}`);
      return;
    case 'operation':
      if (read.key !== null) report.error(file, read.pointer, `${what}; operation is a plain string${walk.via}`);
      return;
    case 'error':
      if (read.key !== null && !ERROR_KEYS.has(read.key))
        report.error(file, read.pointer, `${what}; error has only code and valve${walk.via}`);
      else if (state.errorSetters.length === 0 && !read.optional)
        report.error(file, read.pointer, `${what}, but no earlier valve has proceed_on_error, so it is always empty${walk.via}`);
      return;
    default:
      report.error(
        file,
        read.pointer,
        `${what}, which is not in the data conditions and templates see (request, item, session, tenant, operation, error)${walk.via}`,
      );
  }
}

function checkLookup(
  step: StepFacts,
  lookup: { pointer: string; by: ValueKind },
  state: State,
  file: string,
  walk: Walk,
  report: Report,
): void {
  const at = `${step.pointer}/config${lookup.pointer}`;
  const read = step.reads.find((r) => r.pointer === at && r.sole && (r.root === 'item' || r.root === 'session') && r.key !== null);
  if (!read) return;
  const known = state.props.get(`${read.root}.${read.key}`);
  if (!known || known.kinds === null || known.kinds.size === 0 || known.kinds.has(lookup.by)) return;
  const kinds = [...known.kinds].map(describeKind).join(' or ');
  report.error(
    file,
    at,
    `looks a user up by ${describeKind(lookup.by)} with "${read.source}", which ${setters(known.setters)} sets to a ${kinds}: it can never match${walk.via}`,
  );
}

function checkResponse(pipe: PipeFacts, end: State, report: Report): void {
  if (end.ended) return;
  pipe.response.forEach((name, i) => {
    const known = end.props.get(`item.${name}`);
    if (!known) {
      if (end.anyFor('item', name).length === 0)
        report.error(
          pipe.file,
          `/response/${i}`,
          `names "${name}", which no valve of this pipe sets on the item${hint(end, 'item', name)}`,
        );
      return;
    }
    // Data-dependent names (a user's attributes) are answered when present; a name only a condition sets is worth a look.
    if (!known.always && known.setters.every((s) => s.reason === 'condition')) {
      report.warning(pipe.file, `/response/${i}`, `names "${name}", which is set only conditionally: by ${setters(known.setters)}`);
    }
  });
}

/** flow-save's continue_with must name operations whose pipes restore a flow. */
function checkFlowLinks(pipe: PipeFacts, facts: ReadonlyMap<string, PipeFacts>, report: Report): void {
  for (const step of pipe.steps) {
    step.dataflow.saves?.operations.forEach((operation, i) => {
      const target = facts.get(operation);
      const at = `${step.pointer}/config/continue_with/${i}`;
      if (!target) report.error(pipe.file, at, `names operation "${operation}", which has no pipe`, 'CONFIG_REFERENCE');
      else if (!restoresAnywhere(target, facts, new Set()))
        report.error(pipe.file, at, `names operation "${operation}", whose pipe has no flow-restore to continue the flow`);
    });
  }
}

function restoresAnywhere(pipe: PipeFacts, facts: ReadonlyMap<string, PipeFacts>, seen: Set<string>): boolean {
  if (seen.has(pipe.id)) return false;
  seen.add(pipe.id);
  return pipe.steps.some(
    (s) =>
      s.dataflow.restores !== undefined ||
      (s.dataflow.calls !== undefined &&
        facts.has(s.dataflow.calls) &&
        restoresAnywhere(facts.get(s.dataflow.calls) as PipeFacts, facts, seen)),
  );
}

function describeKind(kind: ValueKind): string {
  const [entity, field] = kind.split('.') as [string, string];
  return field === 'id' ? `${entity} id` : `${entity} ${field}`;
}

function setters(list: readonly Setter[]): string {
  return list
    .map((s) => `${s.valve} at ${s.pointer}${s.reason === 'condition' ? ' (conditional)' : s.reason === 'data' ? ' (not always)' : ''}`)
    .filter((v, i, all) => all.indexOf(v) === i)
    .join(', ');
}

/** What a misspelt name may have meant, and how to declare a property the check cannot see. */
function hint(state: State, place: Place, name: string): string {
  const candidates = [...state.props.entries()]
    .filter(([key]) => key.startsWith(`${place}.`))
    .map(([key, known]) => ({ name: key.slice(place.length + 1), known }))
    .filter((c) => close(c.name, name));
  const guess =
    candidates.length > 0
      ? `; did you mean ${candidates.map((c) => `${place}.${c.name} (set by ${setters(c.known.setters)})`).join(' or ')}?`
      : '';
  return `${guess}; if a valve sets it in a way this check cannot see, declare it on that valve: "sets": ["${place}.${name}"]`;
}

function close(a: string, b: string): boolean {
  if (a === b) return false;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y || (Math.min(x.length, y.length) >= 3 && (x.startsWith(y) || y.startsWith(x)))) return true;
  return editDistance(x, y) <= (Math.max(x.length, y.length) > 5 ? 2 : 1);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length] as number;
}
