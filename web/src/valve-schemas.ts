/** Every valve's summary and config schema (GET /admin/valves), fetched once per session. */
import { api, type Reply } from './api';

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  required?: string[];
}

/** The answer of GET /admin/valves, its schemas read as the subset of JSON Schema the editor completes from. */
export type ValveSchemas = Omit<Reply<'GET /admin/valves'>, 'pipe' | 'step' | 'valves'> & {
  pipe: Record<string, JsonSchema>;
  step: Record<string, JsonSchema>;
  valves: { name: string; summary: string; configSchema: JsonSchema }[];
};

let loaded: Promise<ValveSchemas> | null = null;

export function valveSchemas(): Promise<ValveSchemas> {
  loaded ??= api('GET /admin/valves', { params: {} }).then((res) => {
    if (!res.ok) {
      loaded = null;
      throw new Error(`valves: HTTP ${res.status}`);
    }
    return res.body as ValveSchemas;
  });
  return loaded;
}
