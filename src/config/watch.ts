import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { LoadedConfig } from './load.js';

/**
 * Watches what a config was loaded from and calls `onChange` once things settle. It watches
 * folders, not files: editors save by writing a new file and renaming it over the old one,
 * which a watch on the old file would miss. A change counts when it touches a file the config
 * read, or any *.json in the pipes folder (a new pipe). Call `update` after each successful
 * reload: the new config may read other files.
 */
export interface ConfigWatcher {
  update(config: LoadedConfig): void;
  close(): void;
}

export function watchConfig(
  config: LoadedConfig,
  onChange: () => void,
  options: { debounceMs: number; onError?: (err: Error) => void },
): ConfigWatcher {
  const watchers = new Map<string, FSWatcher>();
  let files = new Set<string>();
  let pipesDir = '';
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const fire = (): void => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, options.debounceMs);
  };

  const relevant = (dir: string, name: string | null): boolean => {
    if (name === null) return true; // the platform did not say which file: assume it matters
    // A pipe, shared or a tenant's (pipes/<tenant>/), or a tenant folder appearing; not the admin API's temp files.
    if ((dir === pipesDir || dirname(dir) === pipesDir) && name.endsWith('.json')) return true;
    if (dir === pipesDir && !name.startsWith('.')) return true;
    return files.has(resolve(dir, name));
  };

  const update = (next: LoadedConfig): void => {
    if (closed) return;
    files = new Set(next.files.map((f) => resolve(f)));
    pipesDir = resolve(next.dir, next.main.pipes);
    const dirs = new Set([pipesDir, ...[...files].map((f) => dirname(f))]);
    for (const [dir, watcher] of watchers) {
      if (!dirs.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const dir of dirs) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          if (relevant(dir, name === null ? null : basename(name.toString()))) fire();
        });
        watcher.on('error', (err) => options.onError?.(err));
        watchers.set(dir, watcher);
      } catch (err) {
        options.onError?.(err as Error);
      }
    }
  };

  update(config);
  return {
    update,
    close() {
      closed = true;
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
