import type { Services } from '../engine/services.js';
import { checkAdminSections } from './admin-schema.js';
import { checkManagementSection } from './management-schema.js';
import type { Directory } from '../directory/directory.js';
import { loadDirectory } from '../directory/load.js';
import type { AccessGroups } from '../access-groups/groups.js';
import { loadAccessGroups } from '../access-groups/load.js';
import type { ConfigIssue } from './issues.js';
import type { FileOverlay } from './json-file.js';
import type { MainConfig } from './main-schema.js';
import { buildTokenService } from '../tokens/build.js';
import { checkStoreConfig } from '../store/check.js';
import { buildLdapConnections } from './ldap.js';

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
  /** Problems that do not stop the load but must be seen (a secret file others can read); logged at warn level. */
  warnings: ConfigIssue[];
  /** Feed every data file's text into the config version hash. */
  hash(text: string): void;
  /** Record a data file so the reload watcher sees it. */
  watch(file: string): void;
  /** True for `authpipe validate`: check, but write nothing (no generated keys). */
  readOnly?: boolean;
  /** Texts to read instead of the files on disk (an admin change checked before it is written). */
  overlay?: FileOverlay;
}

export type ConfigServices = Partial<Omit<Services, 'store' | 'clock' | 'logger' | 'configDir' | 'env' | 'metrics' | 'audit'>>;

export function buildConfigServices(ctx: ConfigServiceContext): ConfigServices & { directory: Directory; accessGroups: AccessGroups } {
  checkStoreConfig(ctx);
  checkAdminSections(ctx.main, ctx.file, ctx.issues);
  checkManagementSection(ctx.main.management, ctx.file, ctx.issues);
  const directory = loadDirectory(ctx);
  const ldap = buildLdapConnections(ctx);
  return {
    directory,
    // After the directory: the access-groups check reads which groups the directory names.
    accessGroups: loadAccessGroups(ctx),
    tokens: buildTokenService(ctx),
    ...(ldap ? { ldap } : {}),
  };
}

/** Releases what a loaded config holds open (LDAP connections), once no call uses it. */
export async function closeConfigServices(services: Services): Promise<void> {
  await services.ldap?.close();
}
