/**
 * What a valve declares about the data it touches, so the loader can follow a pipe top to
 * bottom before any caller runs it (config/pipe-check.ts). Templates and conditions need no
 * declaration: the compiler records what they read. A valve declares the rest: what it sets,
 * removes or reads by name, the directory lookups its templates feed, and whether it always
 * refuses, calls another pipe, or saves or restores flow state.
 */
export type Place = 'item' | 'session';

/**
 * What a value is, where it matters: a directory lookup by mobile can never match a value
 * that is always a store id.
 */
export type ValueKind = 'user.id' | 'user.username' | 'user.mobile' | 'user.email' | 'store.id' | 'till.username' | 'client.id';

export interface PropertySet {
  readonly place: Place;
  readonly name: string;
  /** Not on every run that succeeds (a copy of something that may be absent, an optional field). */
  readonly maybe?: boolean;
  readonly kind?: ValueKind;
}

export interface ValveDataflow {
  readonly sets?: readonly PropertySet[];
  /** Also sets names that come from data (every attribute of a user, an adapter's answer), all starting with `prefix` when given. */
  readonly setsAny?: readonly { readonly place: Place; readonly prefix?: string }[];
  readonly removes?: readonly { readonly place: Place; readonly name: string }[];
  /** Reads by name outside templates; `pointer` is relative to the valve's config. */
  readonly reads?: readonly { readonly place: Place; readonly name: string; readonly pointer: string }[];
  /** Copies with what is known about the source (set always or maybe, its kind). */
  readonly copies?: readonly {
    readonly from: { readonly place: Place; readonly name: string };
    readonly to: { readonly place: Place; readonly name: string };
    readonly pointer: string;
  }[];
  /** The template at `pointer` (relative to the config) is looked up as a value of kind `by`. */
  readonly lookups?: readonly { readonly pointer: string; readonly by: ValueKind }[];
  /** Only these request properties can exist after this valve (input-validate with strict). */
  readonly requestOnly?: readonly string[];
  /** The valve refuses whenever it runs (refuse). */
  readonly alwaysRefuses?: boolean;
  /** Runs this pipe here (pipe-call). */
  readonly calls?: string;
  /** Saves these names from `place` for the operations listed (flow-save). */
  readonly saves?: {
    readonly place: Place;
    readonly names: readonly string[];
    readonly operations: readonly string[];
    readonly pointer: string;
  };
  /** Restores what the flow-saves naming this operation saved, into `place` under `prefix` (flow-restore). */
  readonly restores?: { readonly place: Place; readonly prefix: string };
}

/** The usual declaration of a valve that puts properties on the item under an optional prefix. */
export function itemSets(prefix: string, names: readonly (string | Omit<PropertySet, 'place'>)[]): PropertySet[] {
  return names.map((n) => (typeof n === 'string' ? { place: 'item', name: prefix + n } : { ...n, place: 'item', name: prefix + n.name }));
}

/**
 * What a valve that declares nothing is taken to do: anything, to the item and the session.
 * The check then reports no missing property after it (only warnings), so a valve added
 * without a declaration never breaks a load.
 */
export const UNDECLARED: ValveDataflow = Object.freeze({ setsAny: Object.freeze([{ place: 'item' }, { place: 'session' }] as const) });
