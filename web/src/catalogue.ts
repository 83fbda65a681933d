/** The valve catalogue (GET /admin/valves), fetched once per session. */
import { call } from './api';

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  required?: string[];
}

export interface Catalogue {
  pipe: Record<string, JsonSchema>;
  step: Record<string, JsonSchema>;
  valves: { name: string; summary: string; configSchema: JsonSchema }[];
}

let loaded: Promise<Catalogue> | null = null;

export function catalogue(): Promise<Catalogue> {
  loaded ??= call<Catalogue>('GET', '/admin/valves').then((res) => {
    if (res.status !== 200) {
      loaded = null;
      throw new Error(`valves: HTTP ${res.status}`);
    }
    return res.body;
  });
  return loaded;
}
