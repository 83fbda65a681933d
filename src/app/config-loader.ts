import type { Logger } from 'pino';
import { ConfigError, formatIssue, type ConfigIssue } from '../config-kit/issues.js';
import type { FileOverlay } from '../config-kit/json-file.js';
import { loadConfig, type LoadedConfig, type LoadOptions } from '../config/load.js';
import { closeConfigServices } from '../config/services.js';

export interface ConfigLoader {
  /** Loads and validates every file (throws ConfigError), logging its warnings. */
  load(): LoadedConfig;
  /** Loads with an admin change overlaid, writing nothing: the issues, or none. */
  check(overlay: FileOverlay): readonly ConfigIssue[];
}

/** The app's two ways of loading its config file: for real, and as a dry check of an admin change. */
export function configLoader(
  configFile: string,
  options: Pick<LoadOptions, 'registry' | 'runtime' | 'env'>,
  logger: () => Logger | undefined,
): ConfigLoader {
  return {
    load() {
      const loaded = loadConfig(configFile, options);
      // Loud on every load, until fixed: secrets others can read (config-kit/file-mode.ts).
      for (const warning of loaded.warnings)
        logger()?.warn(
          { file: warning.file, pointer: warning.pointer, code: warning.code, problem: warning.message },
          `config warning: ${formatIssue(warning)}`,
        );
      return loaded;
    },
    check(overlay) {
      try {
        // Read-only: it started nothing; closing drops what it built.
        closeConfigServices(loadConfig(configFile, { ...options, readOnly: true, overlay }).services).catch(() => undefined);
        return [];
      } catch (err) {
        if (err instanceof ConfigError) return err.issues;
        throw err;
      }
    },
  };
}
