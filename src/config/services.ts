import type { Services } from '../engine/services.js';
import type { ConfigIssue } from './issues.js';
import type { MainConfig } from './main-schema.js';
import { checkStoreConfig } from '../store/check.js';

/**
 * Services read from config data files (the directory, access groups, …), rebuilt on every
 * load and swapped with the pipes. Each feature adds its builder here: it reads its section
 * of the main file, reports problems as issues (file + pointer), and returns its service.
 */
export interface ConfigServiceContext {
  main: MainConfig;
  /** The main file as shown in messages, and its folder for relative paths. */
  file: string;
  dir: string;
  env: Readonly<Record<string, string | undefined>>;
  issues: ConfigIssue[];
  /** Feed every data file's text into the config version hash. */
  hash(text: string): void;
  /** Record a data file so the reload watcher sees it. */
  watch(file: string): void;
}

export type ConfigServices = Partial<Omit<Services, 'store' | 'clock' | 'logger' | 'configDir' | 'env'>>;

export function buildConfigServices(ctx: ConfigServiceContext): ConfigServices {
  checkStoreConfig(ctx);
  return {};
}
