/** Every valve the engine knows, registered once. Add a valve here and nowhere else. */
import type { ValveDefinition } from '../engine/valve.js';
import { ValveRegistry } from '../engine/registry.js';
import flowFail from './flow-fail.js';
import inputValidate from './input-validate.js';
import pipeCall from './pipe-call.js';
import propertyCopy from './property-copy.js';
import propertyRemove from './property-remove.js';
import propertySet from './property-set.js';

export const valves: readonly ValveDefinition<never>[] = [
  flowFail,
  inputValidate,
  pipeCall,
  propertyCopy,
  propertyRemove,
  propertySet,
] as unknown as ValveDefinition<never>[];

/** `extra`: valves beside the built-in ones, for tests (createApp's `valves` option). */
export function createRegistry(extra: readonly ValveDefinition<never>[] = []): ValveRegistry {
  return new ValveRegistry([...valves, ...extra]);
}
