import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { ConfigHolder } from './holder.js';

/**
 * The config version engines sharing a store agree on. Engines on several machines that share
 * the config files (a mounted volume, a synced folder) do not see each other's admin changes
 * through their file watchers reliably (or at all, with `reload.watch` false), so every
 * deliberate reload (admin API, SIGHUP, the watcher) writes the version it swapped in under
 * one store key, and every engine reads that key every `reload.store_poll_ms`: a version it
 * does not serve makes it reload from its files. When its files still give another version,
 * it keeps serving them and /readyz says so (`published.matches: false`) until they match;
 * it does not retry the same published version on every poll.
 */
const PUBLISHED_VERSION_KEY = 'authpipe:config:version';

export interface PublishedStatus {
  version: string;
  matches: boolean;
}

export class PublishedVersion {
  private seen: string | null = null;
  private tried: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly store: Store,
    private readonly holder: ConfigHolder,
    private readonly reload: () => void,
    private readonly logger: Logger,
  ) {}

  async publish(version: string): Promise<void> {
    await this.store.set(PUBLISHED_VERSION_KEY, version);
    this.seen = version;
    this.tried = version;
  }

  /** Reads the key now, then every `intervalMs` (0: never). */
  start(intervalMs: number): void {
    if (this.timer || intervalMs <= 0) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const version = await this.store.get(PUBLISHED_VERSION_KEY);
      this.seen = version;
      if (version !== null && version !== this.holder.current.version && version !== this.tried) {
        this.tried = version;
        this.logger.info(
          { published: version, serving: this.holder.current.version },
          'another engine published a new config version; reloading',
        );
        this.reload();
        if (this.holder.current.version !== version) {
          this.logger.warn(
            { published: version, serving: this.holder.current.version },
            'the files here do not give the published config version; /readyz reports it',
          );
        }
      }
    } catch (err) {
      this.logger.debug({ err }, 'could not read the published config version');
    } finally {
      this.polling = false;
    }
  }

  /** Null until a version has been published. */
  status(): PublishedStatus | null {
    return this.seen === null ? null : { version: this.seen, matches: this.seen === this.holder.current.version };
  }
}
